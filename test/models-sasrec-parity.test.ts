/**
 * PyTorch parity: for every fixture folder with model "sasrec", the same weights and inputs must give
 * the reference's logits, loss, predictions, every gradient, and the parameters after 1 and 3 Adam
 * steps, within 1e-4 relative (1e-6 absolute floor). Every fixture runs on both computation paths:
 * dense (every position, as PyTorch) and packed (padding skipped; logits only at the loss positions,
 * which are compared with the reference's logits at those positions).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getTape } from '../src/engine/tape.js';
import { SASRec } from '../src/models/sasrec/sasrec.js';
import { Adam } from '../src/optim/adam.js';
import { assertClose, fixtureFolders, flatInts, loadFixture, FIXTURES_DIR } from './helpers/fixtures.js';
import { NEEDS_SHARED_FIXTURES } from './helpers/shared.js';
import { trainStep } from '../src/learn/step.js';

const folders = fixtureFolders('sasrec');

test('sasrec fixtures are present', { skip: NEEDS_SHARED_FIXTURES }, () => {
  // the shipped set has sasrec-postln and sasrec-preln; a custom $SEQREC_FIXTURES needs at least one
  assert.ok(
    folders.length >= (process.env.SEQREC_FIXTURES ? 1 : 2),
    `expected the sasrec fixtures under ${FIXTURES_DIR}, found ${folders.join(', ') || 'none'}`,
  );
});

for (const name of folders)
  for (const packed of [false, true]) {
    test(`${name} (${packed ? 'packed' : 'dense'} path)`, () => {
      const fx = loadFixture(name);
      const cfg = fx.config as {
        item_num: number;
        maxlen: number;
        hidden_units: number;
        num_blocks: number;
        num_heads: number;
        dropout_rate: number;
        norm_first: boolean;
        l2_emb: number;
        lr: number;
        adam_betas: [number, number];
        adam_eps: number;
      };
      const model = new SASRec(
        {
          itemNum: cfg.item_num,
          maxlen: cfg.maxlen,
          hiddenUnits: cfg.hidden_units,
          numBlocks: cfg.num_blocks,
          numHeads: cfg.num_heads,
          dropoutRate: cfg.dropout_rate,
          normFirst: cfg.norm_first,
          l2Emb: cfg.l2_emb,
        },
        { packed },
      );
      assert.equal(model.packed, packed);
      model.loadStateDict(fx.weights);

      const seqs = flatInts(fx.inputs.log_seqs);
      const batchSize = (fx.inputs.log_seqs as number[][]).length;
      const batch = { batchSize, maxlen: seqs.length / batchSize, seqs, pos: flatInts(fx.inputs.pos_seqs), neg: flatInts(fx.inputs.neg_seqs) };
      const exp = (k: string) => {
        const t = fx.expected.get(k);
        assert.ok(t, `expected.safetensors lacks ${k}`);
        return t.data;
      };
      const names = model.namedParameters().map(([n]) => n);
      assert.deepEqual([...names].sort(), [...fx.weights.keys()].sort());

      // predictions at the initial weights (eval mode, as the reference's evaluate)
      const cands = flatInts(fx.inputs.item_indices);
      model.eval();
      assertClose('predict_logits', model.predict(seqs, batchSize, cands, cands.length / batchSize), exp('predict_logits'));
      model.train();

      // training forward + backward
      const tape = getTape();
      tape.reset();
      model.zeroGrad();
      if (packed) {
        // the fixtures must exercise padding, or the packed path proves nothing
        const L = batch.maxlen;
        let padded = 0;
        for (let b = 0; b < batchSize; b++) if (seqs[b * L] === 0) padded++;
        assert.ok(padded > 0, `${name}: no padded row`);
        const { posLogits, negLogits, index } = model.forwardPacked(batch);
        // logits exactly at the loss positions (pos ≠ 0), in order
        const want = [...batch.pos.keys()].filter((i) => batch.pos[i] !== 0);
        assert.deepEqual([...index], want);
        assert.ok(want.length < batch.pos.length, 'the packed path skipped nothing');
        const at = (a: Float32Array) => want.map((i) => a[i]);
        assertClose('pos_logits (packed)', posLogits.data.subarray(0, posLogits.size), at(exp('pos_logits')));
        assertClose('neg_logits (packed)', negLogits.data.subarray(0, negLogits.size), at(exp('neg_logits')));
      } else {
        const { posLogits, negLogits } = model.forward(batch);
        assertClose('pos_logits', posLogits.data.subarray(0, posLogits.size), exp('pos_logits'));
        assertClose('neg_logits', negLogits.data.subarray(0, negLogits.size), exp('neg_logits'));
      }
      tape.reset();
      const loss = model.loss(batch);
      assertClose('loss', [loss.item()], exp('loss'));
      tape.backward(loss);
      for (const [n, p] of model.namedParameters()) {
        assert.ok(p.grad, `no gradient for ${n}`);
        assertClose(`grad.${n}`, p.grad, exp(`grad.${n}`));
      }

      // Adam: step 1 uses these gradients; steps 2 and 3 recompute them on the same batch.
      // Where the reference gradient is float32 round-off of a mathematically zero gradient (the key
      // bias of attention: adding a constant to every key score of a row leaves the softmax unchanged),
      // Adam normalises that noise into a step of up to lr, whose sign no other implementation can
      // reproduce. Those elements are checked against Adam's bound |Δp| ≤ lr per step instead.
      const d = cfg.hidden_units;
      const noise = new Map<string, Uint8Array>();
      for (const [n, p] of model.namedParameters()) {
        const m = new Uint8Array(p.size);
        if (n.endsWith('.in_proj_bias')) {
          const g = exp(`grad.${n}`);
          let max = 0;
          for (const x of g) max = Math.max(max, Math.abs(x));
          for (let i = d; i < 2 * d; i++) {
            assert.ok(Math.abs(g[i]) <= 1e-6 * max, `grad.${n}[${i}] = ${g[i]} is not round-off`);
            assert.ok(Math.abs(p.grad![i]) <= 1e-6 * max, `our grad.${n}[${i}] = ${p.grad![i]} is not round-off`);
            m[i] = 1;
          }
        }
        noise.set(n, m);
      }
      const checkAdam = (tag: string, steps: number) => {
        for (const [n, p] of model.namedParameters()) {
          const e = exp(`${tag}.${n}`);
          const w = fx.weights.get(n)!.data;
          const m = noise.get(n)!;
          const exact: number[] = [];
          const expExact: number[] = [];
          for (let i = 0; i < p.size; i++) {
            if (m[i])
              assert.ok(
                Math.abs(p.data[i] - e[i]) <= 2 * steps * cfg.lr * 1.001 && Math.abs(p.data[i] - w[i]) <= steps * cfg.lr * 1.001,
                `${tag}.${n}[${i}] moved beyond Adam's bound`,
              );
            else {
              exact.push(p.data[i]);
              expExact.push(e[i]);
            }
          }
          assertClose(`${tag}.${n}`, exact, expExact);
        }
      };
      const adam = new Adam(model.namedParameters(), { lr: cfg.lr, betas: cfg.adam_betas, eps: cfg.adam_eps });
      adam.step();
      tape.reset();
      checkAdam('adam1', 1);
      for (let s = 2; s <= 3; s++) trainStep(model, adam, batch);
      assert.equal(adam.stepCount, 3);
      checkAdam('adam3', 3);
    });
  }

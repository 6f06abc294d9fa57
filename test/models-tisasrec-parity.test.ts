/**
 * PyTorch parity for TiSASRec: for every fixture folder with model "tisasrec", the same weights and
 * inputs must give TiSASRec.pytorch's logits, loss, predictions, every gradient, and the parameters
 * after 1 and 3 Adam steps, within 1e-4 relative (1e-6 absolute floor), on both computation paths
 * (dense: every position; packed: padding queries skipped, logits at the loss positions only). The
 * relations are fed both as the fixture's time matrices and as its time sequences (computed per batch).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tape, getTape, setTape } from '../src/engine/tape.js';
import { getKernels, setKernels } from '../src/kernels/index.js';
import { createWasmKernelsSync } from '../src/kernels/wasm/index.js';
import { TimeBatchLayout } from '../src/engine/time-attention.js';
import { TiSASRec } from '../src/models/tisasrec/tisasrec.js';
import { Adam } from '../src/optim/adam.js';
import { assertClose, fixtureFolders, flatInts, loadFixture, FIXTURES_DIR, type Fixture } from './helpers/fixtures.js';
import { NEEDS_SHARED_FIXTURES } from './helpers/shared.js';
import { trainStep } from '../src/learn/step.js';

const folders = fixtureFolders('tisasrec');

interface TiConfig {
  item_num: number;
  maxlen: number;
  hidden_units: number;
  num_blocks: number;
  num_heads: number;
  dropout_rate: number;
  time_span: number;
  l2_emb: number;
  lr: number;
  adam_betas: [number, number];
  adam_eps: number;
}

function setup(fx: Fixture, packed: boolean) {
  const cfg = fx.config as unknown as TiConfig;
  const model = new TiSASRec(
    {
      itemNum: cfg.item_num,
      maxlen: cfg.maxlen,
      hiddenUnits: cfg.hidden_units,
      numBlocks: cfg.num_blocks,
      numHeads: cfg.num_heads,
      dropoutRate: cfg.dropout_rate,
      timeSpan: cfg.time_span,
      l2Emb: cfg.l2_emb,
    },
    { packed },
  );
  model.loadStateDict(fx.weights);
  const seqs = flatInts(fx.inputs.log_seqs);
  const batchSize = (fx.inputs.log_seqs as number[][]).length;
  const times = Float64Array.from((fx.inputs.time_seqs as number[][]).flat());
  const relations = Int32Array.from((fx.inputs.time_matrices as number[][][]).flat(2));
  const base = { batchSize, seqs, pos: flatInts(fx.inputs.pos_seqs), neg: flatInts(fx.inputs.neg_seqs) };
  const exp = (k: string) => {
    const t = fx.expected.get(k);
    assert.ok(t, `expected.safetensors lacks ${k}`);
    return t.data;
  };
  return { cfg, model, base, times, relations, exp };
}

test('tisasrec fixtures are present', { skip: NEEDS_SHARED_FIXTURES }, () => {
  assert.ok(folders.length >= 1, `expected a tisasrec fixture under ${FIXTURES_DIR}, found none`);
});

for (const name of folders) {
  test(`${name}: per-batch relations from the time sequences equal the reference's time matrices`, () => {
    const fx = loadFixture(name);
    const { cfg, base, times, relations } = setup(fx, false);
    // the reference pads time sequences with 0, and padding takes part in the relations
    const L = cfg.maxlen;
    let paddedTimes = 0;
    for (let i = 0; i < base.seqs.length; i++)
      if (base.seqs[i] === 0) {
        assert.equal(times[i], 0);
        paddedTimes++;
      }
    assert.ok(paddedTimes > 0, 'the fixture has padding');
    const layout = new TimeBatchLayout();
    layout.build(base.seqs, base.batchSize, { packed: false, timeSpan: cfg.time_span, times });
    assert.deepEqual(Array.from(layout.rel), Array.from(relations));
    // clipping happens: some interval exceeds time_span
    assert.ok(relations.includes(cfg.time_span));
    // packed: only the real query rows, each the reference's row
    layout.build(base.seqs, base.batchSize, { packed: true, timeSpan: cfg.time_span, times });
    let r = 0;
    for (let b = 0; b < base.batchSize; b++) {
      for (let t = 0; t < L; t++) {
        if (base.seqs[b * L + t] === 0) continue;
        assert.deepEqual(Array.from(layout.rel.subarray(r * L, (r + 1) * L)), Array.from(relations.subarray((b * L + t) * L, (b * L + t + 1) * L)));
        r++;
      }
    }
    assert.equal(r, layout.rows);
  });

  for (const packed of [false, true])
    for (const via of ['relations', 'times'] as const) {
      test(`${name} (${packed ? 'packed' : 'dense'} path, ${via})`, () => {
        const fx = loadFixture(name);
        const { cfg, model, base, times, relations, exp } = setup(fx, packed);
        const batch = via === 'relations' ? { ...base, relations } : { ...base, times };
        assert.equal(model.packed, packed);
        const names = model.namedParameters().map(([n]) => n);
        assert.deepEqual([...names].sort(), [...fx.weights.keys()].sort());

        const cands = flatInts(fx.inputs.item_indices);
        model.eval();
        assertClose('predict_logits', model.predict(batch, cands, cands.length / base.batchSize), exp('predict_logits'));
        model.train();

        const tape = getTape();
        tape.reset();
        model.zeroGrad();
        if (packed) {
          const res = model.forwardPacked(batch);
          assert.ok(res, 'the fixture batch takes the packed path');
          const want = [...base.pos.keys()].filter((i) => base.pos[i] !== 0);
          assert.deepEqual([...res.index], want);
          assert.ok(want.length < base.pos.length, 'the packed path skipped nothing');
          const at = (a: Float32Array) => want.map((i) => a[i]);
          assertClose('pos_logits (packed)', res.posLogits.data.subarray(0, res.posLogits.size), at(exp('pos_logits')));
          assertClose('neg_logits (packed)', res.negLogits.data.subarray(0, res.negLogits.size), at(exp('neg_logits')));
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

        // Adam. The key bias adds q·b to every score of a row, which the softmax ignores: its gradient is
        // float32 round-off in the reference (and ours), which Adam normalises into steps of up to lr
        // with an unreproducible sign. Those elements are checked against Adam's bound instead.
        const noise = new Map<string, boolean>();
        for (const [n] of model.namedParameters()) {
          if (!n.endsWith('.K_w.bias')) continue;
          const g = exp(`grad.${n}`);
          let max = 0;
          for (const [m, q] of model.namedParameters())
            if (m.startsWith(n.slice(0, -'K_w.bias'.length))) for (const x of q.grad!) max = Math.max(max, Math.abs(x));
          for (let i = 0; i < g.length; i++) assert.ok(Math.abs(g[i]) <= 1e-5 * max, `grad.${n}[${i}] = ${g[i]} is not round-off`);
          noise.set(n, true);
        }
        assert.equal(noise.size, cfg.num_blocks);
        const checkAdam = (tag: string, steps: number) => {
          for (const [n, p] of model.namedParameters()) {
            const e = exp(`${tag}.${n}`);
            if (noise.get(n)) {
              const w = fx.weights.get(n)!.data;
              for (let i = 0; i < p.size; i++) {
                assert.ok(
                  Math.abs(p.data[i] - w[i]) <= steps * cfg.lr * 1.001 && Math.abs(p.data[i] - e[i]) <= 2 * steps * cfg.lr * 1.001,
                  `${tag}.${n}[${i}] moved beyond Adam's bound`,
                );
              }
            } else {
              assertClose(`${tag}.${n}`, p.data, e);
            }
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
}

// The same model on the WebAssembly backend (GEMM, element-wise, LayerNorm, dropout, Adam and the
// TiSASRec kernels in wasm): forward, loss, gradients and predictions agree.
for (const name of folders) {
  test(`${name} on the wasm kernels (packed path, times)`, () => {
    const prevKernels = getKernels();
    setKernels(createWasmKernelsSync());
    const prevTape = setTape(new Tape());
    try {
      const fx = loadFixture(name);
      const { model, base, times, exp } = setup(fx, true);
      const batch = { ...base, times };
      const cands = flatInts(fx.inputs.item_indices);
      model.eval();
      assertClose('predict_logits (wasm)', model.predict(batch, cands, cands.length / base.batchSize), exp('predict_logits'));
      model.train();
      model.zeroGrad();
      const tape = getTape();
      tape.reset();
      const loss = model.loss(batch);
      assertClose('loss (wasm)', [loss.item()], exp('loss'));
      tape.backward(loss);
      for (const [n, p] of model.namedParameters()) if (!n.endsWith('.K_w.bias')) assertClose(`grad.${n} (wasm)`, p.grad!, exp(`grad.${n}`));
      tape.reset();
    } finally {
      setTape(prevTape);
      setKernels(prevKernels);
    }
  });
}

/**
 * SASRec's packed (padding-skip) path against its dense path on random weights and batches with
 * varied lengths (a full-length row, a one-token row, an empty row): logits, loss, every gradient,
 * Adam steps, predict and scoreAll must agree (dropout 0), for post-LN and pre-LN, 1 and 2 heads.
 * Plus: the dense fallback for batches that are not left-padded, and a finite-difference check of
 * the packed loss with dropout on.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../src/engine/rng.js';
import { getTape } from '../src/engine/tape.js';
import { SASRec, type SASRecConfig } from '../src/models/sasrec/sasrec.js';
import { Adam } from '../src/optim/adam.js';
import { assertClose } from './helpers/fixtures.js';
import { leftPaddedBatch } from './helpers/batches.js';
import { gradCheck } from './helpers/gradcheck.js';
import { trainStep } from '../src/learn/step.js';

const L = 7;
const ITEMS = 30;

/** A sampler-like batch: left-padded rows of the given real lengths, pos = next item, neg random. */
const makeBatch = (lengths: number[], rng: Rng) => leftPaddedBatch(lengths, rng, L, ITEMS);

/** Two models with identical random weights (1-D parameters perturbed too), one per path. */
function twins(cfg: SASRecConfig, seed: number): { dense: SASRec; packed: SASRec } {
  const dense = new SASRec(cfg, { seed, packed: false });
  const rng = new Rng(seed + 100);
  for (const [, p] of dense.namedParameters()) if (p.shape.length === 1) for (let i = 0; i < p.size; i++) p.data[i] += 0.2 * rng.normal();
  const packed = new SASRec(cfg, { seed: seed + 1, packed: true });
  packed.loadStateDict(dense.stateDict());
  return { dense, packed };
}

const LENGTHS = [7, 1, 4, 0, 3, 6, 2];

for (const normFirst of [false, true]) {
  for (const heads of [1, 2]) {
    test(`packed == dense: logits, loss, gradients, Adam, predict, scoreAll (${normFirst ? 'pre' : 'post'}-LN, ${heads} head${heads > 1 ? 's' : ''})`, () => {
      const cfg: SASRecConfig = { itemNum: ITEMS, maxlen: L, hiddenUnits: 8, numBlocks: 2, numHeads: heads, dropoutRate: 0, normFirst, l2Emb: 0.01 };
      const { dense, packed } = twins(cfg, 3 + heads + (normFirst ? 10 : 0));
      const batch = makeBatch(LENGTHS, new Rng(7));
      const tape = getTape();

      // logits at the loss positions
      tape.reset();
      const fd = dense.forward(batch);
      const denseLogits = { pos: fd.posLogits.data.slice(0, fd.posLogits.size), neg: fd.negLogits.data.slice(0, fd.negLogits.size) };
      tape.reset();
      const fp = packed.forwardPacked(batch);
      const want = [...batch.pos.keys()].filter((i) => batch.pos[i] !== 0);
      assert.deepEqual([...fp.index], want);
      assertClose(
        'pos logits',
        fp.posLogits.data.subarray(0, fp.posLogits.size),
        want.map((i) => denseLogits.pos[i]),
      );
      assertClose(
        'neg logits',
        fp.negLogits.data.subarray(0, fp.negLogits.size),
        want.map((i) => denseLogits.neg[i]),
      );
      tape.reset();

      // loss and every gradient
      const grads = (m: SASRec) => {
        m.zeroGrad();
        tape.reset();
        const loss = m.loss(batch);
        const v = loss.item();
        tape.backward(loss);
        tape.reset();
        return { v, g: new Map(m.namedParameters().map(([n, p]) => [n, p.grad!.slice()])) };
      };
      const gd = grads(dense);
      const gp = grads(packed);
      assertClose('loss', [gp.v], [gd.v], 1e-5);
      for (const [n, g] of gd.g) {
        let max = 0;
        for (const x of g) max = Math.max(max, Math.abs(x));
        assert.ok(max > 0 || n === 'pos_emb.weight', `${n}: zero gradient`);
        assertClose(`grad ${n}`, gp.g.get(n)!, g, 1e-4, 1e-6 + 1e-5 * max);
      }

      // predict / scoreAll (eval mode), histories incl. an empty and a full one
      const hist = makeBatch([0, 7, 1, 5], new Rng(9));
      const cands = Int32Array.from({ length: 4 * 5 }, (_, i) => 1 + ((i * 7) % ITEMS));
      dense.eval();
      packed.eval();
      assertClose('predict', packed.predict(hist.seqs, 4, cands, 5), dense.predict(hist.seqs, 4, cands, 5));
      const hb = { batchSize: 4, maxlen: L, users: new Int32Array(4), seqs: hist.seqs };
      assertClose('scoreAll', packed.scoreAll(hb), dense.scoreAll(hb));
      assertClose('scoreCandidates', packed.scoreCandidates(hb, cands, 5), dense.scoreCandidates(hb, cands, 5));

      // two Adam steps through trainStep: same parameters after
      const optD = new Adam(dense.namedParameters(), { lr: 0.01 });
      const optP = new Adam(packed.namedParameters(), { lr: 0.01 });
      for (let s = 0; s < 2; s++) {
        const ld = trainStep(dense, optD, batch);
        const lp = trainStep(packed, optP, batch);
        assertClose(`trainStep ${s} loss`, [lp], [ld], 1e-5);
      }
      // the attention key bias has a mathematically zero gradient (a constant added to every key
      // score of a row), so its float32 round-off is normalised by Adam into steps of up to lr whose
      // sign is noise: check those elements against Adam's bound, everything else exactly
      const pd = new Map(dense.namedParameters());
      const d = cfg.hiddenUnits;
      for (const [n, p] of packed.namedParameters()) {
        const e = pd.get(n)!.data;
        const exact = [...p.data];
        const expExact = [...e];
        if (n.endsWith('.in_proj_bias')) {
          for (let i = d; i < 2 * d; i++) assert.ok(Math.abs(p.data[i] - e[i]) <= 2 * 2 * 0.01 * 1.001, `${n}[${i}] beyond Adam's bound`);
          exact.splice(d, d);
          expExact.splice(d, d);
        }
        assertClose(`after Adam: ${n}`, exact, expExact, 1e-4, 1e-5);
      }
    });
  }
}

test('packed: a target at a padding input is scored from the padding row, as the dense path does', () => {
  const cfg: SASRecConfig = { itemNum: ITEMS, maxlen: L, hiddenUnits: 8, numBlocks: 2, numHeads: 2, dropoutRate: 0 };
  const { dense, packed } = twins(cfg, 21);
  const batch = makeBatch([3, 5, 1], new Rng(4));
  batch.pos[0] = 5; // padding input, non-zero positive: a loss position in the reference
  batch.neg[0] = 6;
  const tape = getTape();
  tape.reset();
  const ld = dense.loss(batch).item();
  tape.reset();
  const lp = packed.loss(batch).item();
  tape.reset();
  assertClose('loss', [lp], [ld], 1e-5);
  const fp = packed.forwardPacked(batch);
  assert.equal(fp.index[0], 0);
  tape.reset();
});

test('packed: a batch that is not left-padded falls back to the dense path (same loss)', () => {
  const cfg: SASRecConfig = { itemNum: ITEMS, maxlen: L, hiddenUnits: 8, numBlocks: 1, numHeads: 1, dropoutRate: 0 };
  const { dense, packed } = twins(cfg, 33);
  const batch = makeBatch([4, 6], new Rng(5));
  batch.seqs[L - 2] = 0; // a hole in row 0
  const tape = getTape();
  tape.reset();
  const ld = dense.loss(batch).item();
  tape.reset();
  const lp = packed.loss(batch).item();
  tape.reset();
  assert.equal(lp, ld);
  assert.throws(() => packed.forwardPacked(batch), /left-padded/);
  tape.reset();
});

for (const normFirst of [false, true]) {
  test(`packed SASRec loss gradient with dropout 0.3 matches finite differences (${normFirst ? 'pre' : 'post'}-LN)`, () => {
    const model = new SASRec(
      { itemNum: 12, maxlen: 5, hiddenUnits: 4, numBlocks: 2, numHeads: 2, dropoutRate: 0.3, normFirst, l2Emb: 0.05 },
      { seed: 3, packed: true },
    );
    const batch = {
      batchSize: 3,
      maxlen: 5,
      seqs: Int32Array.from([0, 0, 3, 4, 5, 1, 2, 3, 4, 5, 0, 0, 0, 0, 7]),
      pos: Int32Array.from([0, 0, 4, 5, 6, 2, 3, 4, 5, 6, 0, 0, 0, 0, 8]),
      neg: Int32Array.from([0, 0, 9, 10, 11, 12, 11, 10, 9, 8, 0, 0, 0, 0, 1]),
    };
    const named = model.namedParameters();
    const init = new Rng(17);
    for (const [, p] of named) if (p.shape.length === 1) for (let i = 0; i < p.size; i++) p.data[i] += 0.2 * init.normal();
    const params = named.map(([, p]) => p);
    const state = model.dropoutRng.getState();
    const a = model.loss(batch).item();
    const b = model.loss(batch).item();
    assert.notEqual(a, b, 'dropout does not fire');
    assert.ok(Number.isFinite(a) && Number.isFinite(b));
    const res = gradCheck(() => model.loss(batch), params, {
      eps: 3e-3,
      rtol: 2e-2,
      atol: 2e-3,
      maxPerInput: 12,
      beforeEach: () => model.dropoutRng.setState(state),
      skip: (i, e) => (named[i][0] === 'item_emb.weight' || named[i][0] === 'pos_emb.weight') && e < 4,
    });
    assert.ok(res.checked > 150, `checked ${res.checked}`);
    assert.ok(res.ok, `ratio ${res.worstRatio}: ${named[Number(res.worst.split(' ')[1])][0]} ${res.worst}`);
  });
}

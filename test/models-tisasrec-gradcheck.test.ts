/**
 * Finite-difference gradient checks for TiSASRec's new ops (unpackRows, timeAwareAttention: dense and
 * packed layouts, 1 and 2 heads, attention dropout) and for
 * the whole TiSASRec loss with dropout on (masks fixed by rewinding the dropout rng).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../src/engine/rng.js';
import { Parameter } from '../src/engine/tensor.js';
import { TimeBatchLayout, timeAwareAttention, unpackRows } from '../src/engine/time-attention.js';
import { TiSASRec } from '../src/models/tisasrec/tisasrec.js';
import { gradCheck } from './helpers/gradcheck.js';

function param(shape: number[], rng: Rng, scale = 1): Parameter {
  const n = shape.reduce((a, b) => a * b, 1);
  const p = new Parameter(new Float32Array(n), shape);
  for (let i = 0; i < n; i++) p.data[i] = scale * rng.normal();
  return p;
}

// 3 rows of length 5: two left-padded, one full; scaled times with padding 0
const B = 3;
const L = 5;
const SEQS = Int32Array.from([0, 0, 3, 4, 5, 1, 2, 3, 4, 5, 0, 0, 0, 0, 7]);
const TIMES = Float64Array.from([0, 0, 1, 2, 6, 1, 3, 4, 9, 10, 0, 0, 0, 0, 2]);
const SPAN = 4;

test('unpackRows gradient (rows and fill)', () => {
  const layout = new TimeBatchLayout();
  assert.ok(layout.build(SEQS, B, { packed: true, timeSpan: SPAN, times: TIMES }));
  const rng = new Rng(1);
  const x = param([layout.rows, 3], rng);
  const fill = param([3], rng);
  const res = gradCheck(([a, f]) => unpackRows(a, layout, f), [x, fill]);
  assert.ok(res.checked === x.size + fill.size);
  assert.ok(res.ok, res.worst);
  // the fill received the sum over the 2 + 4 padded positions: not zero
  assert.ok(res.analytic[1].some((v) => v !== 0));
});

for (const packed of [false, true])
  for (const heads of [1, 2])
    for (const dropout of [0, 0.3]) {
      const name = `timeAwareAttention gradient: ${packed ? 'packed' : 'dense'}, ${heads} head(s), dropout ${dropout}`;
      test(name, () => {
        const d = 4;
        const layout = new TimeBatchLayout();
        assert.ok(layout.build(SEQS, B, { packed, timeSpan: SPAN, times: TIMES }));
        assert.equal(layout.rows, packed ? 9 : 15);
        const rng = new Rng(11 + heads);
        const q = param([layout.rows, d], rng);
        const kc = param([B * L, d], rng);
        const vc = param([B * L, d], rng);
        // each sequence's own rows of the interval tables
        assert.ok(layout.bucketTotal > 3 && layout.bucketTotal <= 3 * (SPAN + 1));
        const tk = param([layout.bucketTotal, d], rng);
        const tv = param([layout.bucketTotal, d], rng);
        const drop = new Rng(5);
        const state = drop.getState();
        const fn = ([a, b, c, e, f]: Parameter[]) => timeAwareAttention(a, b, c, e, f, layout, { heads, dropout, rng: drop, training: true });
        const res = gradCheck(fn, [q, kc, vc, tk, tv], { eps: 1e-2, beforeEach: () => drop.setState(state) });
        assert.ok(res.ok, `ratio ${res.worstRatio}: ${res.worst}`);
        assert.equal(res.checked, q.size + kc.size + vc.size + tk.size + tv.size);
        // every input gets some gradient (padded keys included: they are attended to)
        for (const g of res.analytic) assert.ok(g.some((v) => v !== 0));
        // keys of the first sequence's padded columns get gradient from its real queries
        assert.ok(res.analytic[1].subarray(0, d).some((v) => v !== 0));
      });
    }

test('TiSASRec loss gradient with dropout 0.3 (packed and dense paths)', () => {
  for (const packed of [true, false]) {
    const model = new TiSASRec(
      { itemNum: 12, maxlen: 5, hiddenUnits: 4, numBlocks: 2, numHeads: 2, dropoutRate: 0.3, timeSpan: SPAN, l2Emb: 0.05 },
      { seed: 3, packed },
    );
    const batch = {
      batchSize: B,
      seqs: SEQS,
      times: TIMES,
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
    assert.notEqual(a, b, 'dropout fires');
    // eps 1e-3: the item embedding is scaled by √d and 1/(1 − p), so a larger step crosses ReLU kinks
    const res = gradCheck(() => model.loss(batch), params, {
      eps: 1e-3,
      rtol: 2e-2,
      atol: 2e-3,
      maxPerInput: 12,
      beforeEach: () => model.dropoutRng.setState(state),
      // item_emb row 0: padding_idx, no gradient by definition (though l2 and inputs see it)
      skip: (i, e) => named[i][0] === 'item_emb.weight' && e < 4,
    });
    assert.ok(res.checked > 200, `checked ${res.checked}`);
    assert.ok(res.ok, `${packed ? 'packed' : 'dense'} ratio ${res.worstRatio}: ${named[Number(res.worst.split(' ')[1])][0]} ${res.worst}`);
  }
});

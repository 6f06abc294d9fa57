/**
 * iALS: one half-step solves its normal equations exactly (against a float64 inverse), the loss
 * never increases over sweeps, save → load gives the same scores (folded-in histories included), and
 * it learns (above PopRec on synthetic tastes).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromEvents, train } from '../src/index.js';
import { leaveOneOut } from '../src/data/split.js';
import { Rng } from '../src/engine/rng.js';
import { alternate, gramian, IalsModel, solveRow, rowSolver } from '../src/models/ials/ials.js';
import { getModel } from '../src/models/registry.js';
import { inverse64 } from './helpers/linalg.js';
import { groupEvents, testNdcg } from './helpers/tastes.js';

const SETTINGS = { factors: 4, reg: 0.05, alpha: 0.3, regExponent: 1, iters: 6, initStd: 0.1 };

test('iALS: a row solve meets its normal equations (α0·G + Σ h hᵀ + λ_u I) w = Σ h, against float64', () => {
  const d = 4;
  const n = 6;
  const rng = new Rng(3);
  const H = new Float64Array((n + 1) * d);
  for (let k = d; k < H.length; k++) H[k] = rng.normal();
  const rows = Int32Array.from([2, 5, 6]);
  const w = { reg: 0.2, alpha: 0.5, regExponent: 1 };
  const x = solveRow(rowSolver(d), gramian(H, n, d), H, rows, 0, rows.length, n, w).slice();
  // independent: the matrix and right-hand side built entry by entry, solved by a float64 inverse
  const A = new Float64Array(d * d);
  const b = new Float64Array(d);
  for (let i = 1; i <= n; i++) for (let p = 0; p < d; p++) for (let q = 0; q < d; q++) A[p * d + q] += w.alpha * H[i * d + p] * H[i * d + q];
  for (const i of rows) {
    for (let p = 0; p < d; p++) {
      b[p] += H[i * d + p];
      for (let q = 0; q < d; q++) A[p * d + q] += H[i * d + p] * H[i * d + q];
    }
  }
  const lambda = w.reg * (rows.length + w.alpha * n) ** w.regExponent;
  for (let p = 0; p < d; p++) A[p * d + p] += lambda;
  const inv = inverse64(A, d);
  for (let p = 0; p < d; p++) {
    let want = 0;
    for (let q = 0; q < d; q++) want += inv[p * d + q] * b[q];
    assert.ok(Math.abs(x[p] - want) < 1e-10, `w[${p}] = ${x[p]}, want ${want}`);
  }
});

test('iALS: the loss decreases at every sweep', () => {
  const split = leaveOneOut(fromEvents(groupEvents()), 3);
  const { losses } = alternate(split, SETTINGS, new Rng(1));
  assert.equal(losses.length, SETTINGS.iters);
  for (let t = 1; t < losses.length; t++) assert.ok(losses[t] <= losses[t - 1] * (1 + 1e-9), `sweep ${t + 1}: ${losses[t]} > ${losses[t - 1]}`);
  assert.ok(losses[losses.length - 1] < losses[0]);
});

test('iALS model file: save → load gives the same scores, for a known user and a folded-in history', () => {
  const split = leaveOneOut(fromEvents(groupEvents()), 3);
  const model = IalsModel.fit(split, SETTINGS, new Rng(2));
  const bytes = model.serialize();
  assert.equal(getModel('ials')?.sniff(bytes), true);
  assert.equal(getModel('ease')?.sniff(bytes), false);
  const back = IalsModel.parse(bytes);
  const L = model.scorer.maxlen;
  const seqs = new Int32Array(2 * L);
  seqs.set([1, 2, 3], 2 * L - 3);
  const batch = { batchSize: 2, maxlen: L, users: Int32Array.from([5, 0]), seqs };
  const a = model.scorer.scoreAll(batch);
  assert.deepEqual(Array.from(back.scorer.scoreAll(batch)), Array.from(a));
  // the folded-in history is not the zero vector's all-zero scores
  assert.ok(a.subarray(model.scorer.itemNum + 2).some((s) => s !== 0));
  assert.deepEqual(back.users?.toRaw, model.users?.toRaw);
  assert.deepEqual(back.settings, model.settings);
});

test('iALS learns tastes: above PopRec (full-ranking test NDCG@10)', async () => {
  const data = fromEvents(groupEvents());
  const pop = await train(data, { model: 'pop' });
  const ials = await train(data, { model: 'ials', factors: 8, reg: 0.01, alpha: 0.1, iters: 8 });
  const [p, m] = [await testNdcg(pop, data), await testNdcg(ials, data)];
  assert.ok(m > p + 0.1, `iALS NDCG@10 ${m} vs PopRec ${p}`);
});

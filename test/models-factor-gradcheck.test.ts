/**
 * Finite-difference gradient checks of the factor models' training loss (S-BPR + the per-example L2
 * term: BPR-MF, FMC, FPMC, TransRec) and of the unit-ball projection TransRec scores its points through
 * (ops.clipRowNorms: rows inside the ball and rows projected onto it).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ops from '../src/engine/ops.js';
import { Rng } from '../src/engine/rng.js';
import { Parameter } from '../src/engine/tensor.js';
import type { FactorConfig, FactorNetwork } from '../src/models/common/factor-network.js';
import { BPRMF } from '../src/models/bpr/bpr.js';
import { FMC } from '../src/models/fmc/fmc.js';
import { FPMC } from '../src/models/fpmc/fpmc.js';
import { TransRec } from '../src/models/transrec/transrec.js';
import { gradCheck } from './helpers/gradcheck.js';

test('clipRowNorms: forward keeps rows inside the ball and scales the others onto it; gradient of both kinds of rows', () => {
  const rng = new Rng(3);
  const d = 5;
  const x = new Parameter(new Float32Array(4 * d), [4, d]);
  for (let i = 0; i < x.size; i++) x.data[i] = rng.normal();
  const norms = [0.4, 0.9, 1.7, 3];
  for (let r = 0; r < 4; r++) {
    const row = x.data.subarray(r * d, (r + 1) * d);
    const n = Math.hypot(...row);
    for (let k = 0; k < d; k++) row[k] *= norms[r] / n;
  }
  const y = ops.clipRowNorms(x, 1);
  for (let r = 0; r < 4; r++) {
    const want = Math.min(norms[r], 1);
    assert.ok(Math.abs(Math.hypot(...y.data.subarray(r * d, (r + 1) * d)) - want) < 1e-5, `row ${r}`);
    for (let k = 0; k < d; k++) assert.ok(Math.abs(y.data[r * d + k] - (x.data[r * d + k] * want) / norms[r]) < 1e-6);
  }
  const res = gradCheck(([a]) => ops.clipRowNorms(a, 1), [x], { eps: 1e-3 });
  assert.equal(res.checked, x.size);
  assert.ok(res.ok, `ratio ${res.worstRatio}: ${res.worst}`);
  // a radius other than 1
  const r2 = gradCheck(([a]) => ops.clipRowNorms(a, 0.5), [x], { eps: 1e-3 });
  assert.ok(r2.ok, `radius 0.5 ratio ${r2.worstRatio}: ${r2.worst}`);
});

// 3 users' rows of length 5 (left-padded); pos = the next item where the input is real, neg its negative
const BATCH = {
  batchSize: 3,
  maxlen: 5,
  users: Int32Array.from([2, 4, 1]),
  seqs: Int32Array.from([0, 0, 3, 4, 5, 1, 2, 3, 4, 5, 0, 0, 0, 0, 7]),
  pos: Int32Array.from([0, 0, 4, 5, 6, 2, 3, 4, 5, 6, 0, 0, 0, 0, 8]),
  neg: Int32Array.from([0, 0, 9, 10, 11, 12, 11, 10, 9, 8, 0, 0, 0, 0, 1]),
  negatives: 1,
};
const CONFIG: FactorConfig = { itemNum: 12, userNum: 4, maxlen: 5, hiddenUnits: 4, l2Reg: 0.05 };

const MODELS: Array<[string, (c: FactorConfig) => FactorNetwork]> = [
  ['BPR-MF', (c) => new BPRMF(c, { seed: 1 })],
  ['FMC', (c) => new FMC(c, { seed: 2 })],
  ['FPMC', (c) => new FPMC(c, { seed: 3 })],
  ['TransRec', (c) => new TransRec(c, { seed: 4 })],
];

for (const [name, make] of MODELS) {
  test(`${name} loss gradient (S-BPR + per-example L2) matches finite differences`, () => {
    const model = make(CONFIG);
    const named = model.namedParameters();
    // every parameter away from its initial zeros, so that each term has a gradient
    const jitter = new Rng(17);
    for (const [pname, p] of named) {
      // (row 0 of a table stays the zero padding / unknown-user row; the global translation has none)
      const first = pname === 'global_translation' ? 0 : p.shape.length > 1 ? p.shape[1] : 1;
      for (let i = first; i < p.size; i++) p.data[i] += 0.3 * jitter.normal();
    }
    if (model instanceof TransRec) {
      // some points outside the unit ball: their projection's gradient is checked too
      const d = CONFIG.hiddenUnits;
      for (const item of [4, 6, 9]) for (let k = 0; k < d; k++) model.itemPoints.data[item * d + k] *= 4;
    }
    const params = named.map(([, p]) => p);
    const loss = model.loss(BATCH).item();
    assert.ok(Number.isFinite(loss) && loss > 0);
    const res = gradCheck(() => model.loss(BATCH), params, { eps: 1e-3, rtol: 2e-2, atol: 1e-3 });
    assert.equal(
      res.checked,
      params.reduce((s, p) => s + p.size, 0),
    );
    assert.ok(res.ok, `ratio ${res.worstRatio}: ${named[Number(res.worst.split(' ')[1])][0]} ${res.worst}`);
    // every table gets a gradient, and row 0 (padding item, unknown user) none
    res.analytic.forEach((g, i) => {
      const [pname, p] = named[i];
      assert.ok(
        g.some((v) => v !== 0),
        `${pname} has no gradient`,
      );
      if (p.shape.length === 2 && pname !== 'global_translation')
        assert.ok(
          g.subarray(0, p.shape[1]).every((v) => v === 0),
          `${pname} row 0`,
        );
    });
  });
}

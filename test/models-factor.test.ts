/**
 * The factor models (BPR-MF, FMC, FPMC, TransRec) against their papers' formulas computed here in
 * float64 from the parameters: candidate scores and whole-catalogue scores after histories (a known
 * user, an unknown user 0, an empty history), the training loss of a batch (S-BPR over the real
 * positions + the per-example L2 term), which users they read, and the model file (built by the
 * registry's spec, found by sniffing, the same scores after loading).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { idMapFromSorted } from '../src/data/ids.js';
import { leaveOneOut } from '../src/data/split.js';
import { Rng } from '../src/engine/rng.js';
import type { HistoryBatch } from '../src/eval/types.js';
import { recommendTopK } from '../src/eval/recommend.js';
import type { FactorConfig, FactorNetwork } from '../src/models/common/factor-network.js';
import { DEFAULT_TRAINING_RECORD } from '../src/models/contract.js';
import { detectModel, getModel } from '../src/models/registry.js';
import { BPRMF } from '../src/models/bpr/bpr.js';
import { FMC } from '../src/models/fmc/fmc.js';
import { FPMC } from '../src/models/fpmc/fpmc.js';
import { TransRec } from '../src/models/transrec/transrec.js';

const N = 9;
const U = 4;
const d = 3;
const CONFIG: FactorConfig = { itemNum: N, userNum: U, maxlen: 4, hiddenUnits: d, l2Reg: 0.03 };

type Vec = number[];
const dot = (a: Vec, b: Vec) => a.reduce((s, x, k) => s + x * b[k], 0);
const row = (data: Float32Array, r: number, width = d): Vec => Array.from(data.subarray(r * width, (r + 1) * width));
const clip = (v: Vec): Vec => {
  const n = Math.hypot(...v);
  return n > 1 ? v.map((x) => x / n) : v;
};

/** Each model and its paper's score s(u, l, i), computed from its parameters in float64. */
const MODELS: Array<{ name: string; make: (seed: number) => FactorNetwork; formula: (m: FactorNetwork, u: number, l: number, i: number) => number }> =
  [
    {
      name: 'bpr',
      make: (seed) => new BPRMF(CONFIG, { seed }),
      formula: (m, u, _l, i) => {
        const b = m as BPRMF;
        return dot(row(b.userFactors.data, u), row(b.itemFactors.data, i)) + b.itemBias.data[i];
      },
    },
    {
      name: 'fmc',
      make: (seed) => new FMC(CONFIG, { seed }),
      formula: (m, _u, l, i) => {
        const f = m as FMC;
        return dot(row(f.prevFactors.data, l), row(f.nextFactors.data, i));
      },
    },
    {
      name: 'fpmc',
      make: (seed) => new FPMC(CONFIG, { seed }),
      formula: (m, u, l, i) => {
        const f = m as FPMC;
        return dot(row(f.VUI.data, u), row(f.VIU.data, i)) + dot(row(f.VIL.data, i), row(f.VLI.data, l));
      },
    },
    {
      name: 'transrec',
      make: (seed) => new TransRec(CONFIG, { seed }),
      formula: (m, u, l, i) => {
        const t = m as TransRec;
        const g = (j: number) => clip(row(t.itemPoints.data, j));
        const x = g(l).map((v, k) => v + t.globalTranslation.data[k] + t.userTranslations.data[u * d + k]);
        const gi = g(i);
        return t.itemBias.data[i] - x.reduce((s, v, k) => s + (v - gi[k]) ** 2, 0);
      },
    },
  ];

/** Every parameter moved off its initial values, but row 0 of a table (the zero padding / unknown-user row). */
function perturb(m: FactorNetwork, seed: number): void {
  const rng = new Rng(seed);
  for (const [name, p] of m.namedParameters()) {
    const first = name === 'global_translation' ? 0 : p.shape.length > 1 ? p.shape[1] : 1;
    for (let i = first; i < p.size; i++) p.data[i] += 0.5 * rng.normal();
  }
  if (m instanceof TransRec) for (const item of [2, 5]) for (let k = 0; k < d; k++) m.itemPoints.data[item * d + k] *= 5; // outside the ball
}

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-4 * (1 + Math.abs(b)), `${what}: ${a} vs ${b}`);

// user 2 after …3, 5; user 0 (unknown) after 7; user 4 with an empty history; user 3 after 9
const HISTORIES: HistoryBatch = {
  batchSize: 4,
  maxlen: 4,
  users: Int32Array.from([2, 0, 4, 3]),
  seqs: Int32Array.from([0, 1, 3, 5, 0, 0, 0, 7, 0, 0, 0, 0, 2, 4, 6, 9]),
};
const LAST = [5, 7, 0, 9];

for (const { name, make, formula } of MODELS) {
  test(`${name}: candidate and catalogue scores are the paper's formula (known user, unknown user 0, empty history)`, () => {
    const m = make(5);
    perturb(m, 6);
    const B = HISTORIES.batchSize;
    const C = 4;
    const candidates = Int32Array.from([1, 5, 9, 2, 3, 3, 8, 7, 9, 1, 2, 4, 6, 5, 7, 8]);
    const cand = m.scoreCandidates(HISTORIES, candidates, C);
    const all = m.scoreAll(HISTORIES);
    assert.equal(cand.length, B * C);
    assert.equal(all.length, B * (N + 1));
    for (let b = 0; b < B; b++) {
      const u = m.usesUsers ? HISTORIES.users[b] : 0;
      for (let c = 0; c < C; c++) close(cand[b * C + c], formula(m, u, LAST[b], candidates[b * C + c]), `candidate ${b},${c}`);
      for (let i = 1; i <= N; i++) close(all[b * (N + 1) + i], formula(m, u, LAST[b], i), `item ${i} after history ${b}`);
    }
    // into a caller's buffer
    const out = new Float32Array(B * (N + 1) + 3);
    assert.deepEqual(m.scoreAll(HISTORIES, out), all);
    // the parts a history without a user or without items lacks are zero rows, never trained
    if (m.usesUsers) assert.ok(m.namedParameters().some(([, p]) => p.shape[0] === U + 1 && p.data.subarray(0, d).every((v) => v === 0)));
    // recommend: the best-scored items, never the history's
    const top = recommendTopK(m, { user: 2, items: Int32Array.of(1, 3, 5) }, 3);
    const ranked = Array.from({ length: N }, (_, k) => k + 1)
      .filter((i) => ![1, 3, 5].includes(i))
      .sort((a, b) => formula(m, m.usesUsers ? 2 : 0, 5, b) - formula(m, m.usesUsers ? 2 : 0, 5, a));
    assert.deepEqual(
      top.map((x) => x.item),
      ranked.slice(0, 3),
    );
  });

  test(`${name}: the loss is the mean S-BPR over the batch's real positions plus λ/M · Σ of the squares the examples read`, () => {
    const m = make(7);
    perturb(m, 8);
    const batch = {
      batchSize: 2,
      maxlen: 4,
      users: Int32Array.from([3, 1]),
      seqs: Int32Array.from([0, 2, 4, 6, 1, 2, 3, 4]),
      pos: Int32Array.from([0, 4, 6, 8, 2, 3, 4, 5]),
      neg: Int32Array.from([0, 9, 1, 2, 7, 8, 9, 1]),
      negatives: 1,
    };
    const examples: Array<[number, number, number, number]> = [];
    for (let p = 0; p < 8; p++) if (batch.pos[p] !== 0) examples.push([batch.users[p >> 2], batch.seqs[p], batch.pos[p], batch.neg[p]]);
    assert.equal(examples.length, 7);
    const softplus = (x: number) => Math.log1p(Math.exp(x));
    // the squares an example reads: its user's, previous item's and items' rows of the regularised tables
    const sq = (data: Float32Array, r: number, width: number) => row(data, r, width).reduce((s, v) => s + v * v, 0);
    const reg = (u: number, l: number, i: number, j: number): number => {
      if (m instanceof BPRMF)
        return (
          sq(m.userFactors.data, u, d) +
          sq(m.itemFactors.data, i, d) +
          sq(m.itemFactors.data, j, d) +
          sq(m.itemBias.data, i, 1) +
          sq(m.itemBias.data, j, 1)
        );
      if (m instanceof FMC) return sq(m.prevFactors.data, l, d) + sq(m.nextFactors.data, i, d) + sq(m.nextFactors.data, j, d);
      if (m instanceof FPMC) {
        return sq(m.VUI.data, u, d) + sq(m.VLI.data, l, d) + [m.VIU, m.VIL].reduce((s, t) => s + sq(t.data, i, d) + sq(t.data, j, d), 0);
      }
      const t = m as TransRec;
      return (
        sq(t.userTranslations.data, u, d) +
        [l, i, j].reduce((s, k) => s + sq(t.itemPoints.data, k, d), 0) +
        sq(t.itemBias.data, i, 1) +
        sq(t.itemBias.data, j, 1)
      );
    };
    const M = examples.length;
    let want = 0;
    for (const [u, l, i, j] of examples) want += (softplus(-(formula(m, u, l, i) - formula(m, u, l, j))) + CONFIG.l2Reg * reg(u, l, i, j)) / M;
    close(m.loss(batch).item(), want, 'loss');
    // a batch without a real position: 0
    const empty = { ...batch, seqs: new Int32Array(8), pos: new Int32Array(8), neg: new Int32Array(8) };
    assert.equal(m.loss(empty).item(), 0);
  });
}

test('which models read users; a user id the model does not have is scored as the unknown user 0', () => {
  const flags = Object.fromEntries(MODELS.map(({ name, make }) => [name, make(1).usesUsers]));
  assert.deepEqual(flags, { bpr: true, fmc: false, fpmc: true, transrec: true });
  for (const { name, make } of MODELS) {
    const m = make(2);
    perturb(m, 3);
    const outside = { ...HISTORIES, users: Int32Array.from([2, -1, 5, 99]) };
    const asUnknown = { ...HISTORIES, users: Int32Array.from([2, 0, 0, 0]) };
    assert.deepEqual(m.scoreAll(outside), m.scoreAll(asUnknown), name);
    const candidates = Int32Array.from({ length: 8 }, (_, k) => 1 + k);
    assert.deepEqual(m.scoreCandidates(outside, candidates, 2), m.scoreCandidates(asUnknown, candidates, 2), name);
    // and the unknown user's scores are not a known user's (but for FMC, which reads no users)
    const known = { ...HISTORIES, users: Int32Array.from([2, 1, 1, 1]) };
    assert.equal(
      m.scoreAll(known).every((v, k) => v === m.scoreAll(asUnknown)[k]),
      name === 'fmc',
      name,
    );
  }
});

test('each model file: built by the registry spec, found by sniffing, the same scores and settings after loading', () => {
  // 4 users, 9 items, in time order
  const raw: Array<[string, number[]]> = [
    ['a', [1, 2, 3, 4, 5]],
    ['b', [2, 3, 4, 6]],
    ['c', [7, 8, 9, 1, 2, 3]],
    ['d', [5, 6, 7, 8]],
  ];
  const items = idMapFromSorted(Array.from({ length: N }, (_, k) => `i${k + 1}`));
  const users = idMapFromSorted(raw.map(([u]) => u));
  const seqs = [new Int32Array(0), ...raw.map(([, s]) => Int32Array.from(s))];
  const split = leaveOneOut({ userNum: U, itemNum: N, seqs, users, items });
  for (const { name } of MODELS) {
    const spec = getModel(name)!;
    assert.equal(spec.learning.kind, 'gradient');
    if (spec.learning.kind !== 'gradient') continue;
    const options = spec.options.parse({ hidden_units: d, maxlen: 6, l2_reg: 0.02 });
    const setup = spec.learning.build(split, options, new Rng(3), { batchSize: 2, userSampling: 'shuffle' }, DEFAULT_TRAINING_RECORD);
    const net = setup.network as FactorNetwork;
    perturb(net, 4);
    assert.match(setup.summary, /d 3, l2_reg 0\.02, S-BPR with 1 negative, maxlen 6/);
    const bytes = setup.model.serialize();
    assert.equal(detectModel(bytes), spec, `${name} is sniffed as itself`);
    const loaded = spec.load(bytes);
    const config = loaded.describe();
    assert.equal(config.model, name);
    assert.equal(config.hidden_units, d);
    assert.equal(config.maxlen, 6);
    assert.equal(config.l2_reg, 0.02);
    assert.equal(config.item_num, N);
    assert.equal(config.user_num, name === 'fmc' ? 0 : U);
    assert.deepEqual(loaded.users?.toRaw, users.toRaw);
    assert.deepEqual(loaded.histories, seqs);
    const batch: HistoryBatch = {
      batchSize: 3,
      maxlen: 6,
      users: Int32Array.of(1, 0, 4),
      seqs: Int32Array.from([0, 0, 0, 1, 2, 3, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0]),
    };
    assert.deepEqual(loaded.scorer.scoreAll(batch), net.scoreAll(batch));
    loaded.dispose();
    setup.model.dispose();
  }
});

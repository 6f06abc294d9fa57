/**
 * The factorization machine (issue 19): the weighted-bag op's gradient, the O(nk) form against the
 * naive sum over feature pairs, the BPR loss's gradient with side features, learning, and the model
 * file carrying its features.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bagSum } from '../src/engine/bag-ops.js';
import { Rng } from '../src/engine/rng.js';
import { getTape, withInferenceTape } from '../src/engine/tape.js';
import { Parameter } from '../src/engine/tensor.js';
import { leaveOneOut } from '../src/data/split.js';
import { featureMatrix } from '../src/data/features.js';
import { fromEvents, train } from '../src/index.js';
import { distinctIds } from '../src/models/common/distinct-ids.js';
import type { FactorConfig, FactorNetwork } from '../src/models/common/factor-network.js';
import type { FeatureRows, ModelFeatures } from '../src/models/common/feature-rows.js';
import { FieldAwareFM } from '../src/models/ffm/ffm.js';
import { FactorizationMachine } from '../src/models/fm/fm.js';
import { getModel } from '../src/models/registry.js';
import { PopRecModel } from '../src/models/pop/pop.js';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { featureRows } from './helpers/feature-rows.js';
import { gradCheck } from './helpers/gradcheck.js';
import { NEEDS_SHARED, sharedPath } from './helpers/shared.js';
import { testTempDir } from './helpers/tmp.js';
import { groupEvents, tastesWithStrangers, testNdcg } from './helpers/tastes.js';

test('bagSum: weighted sums of table rows per bag, and its gradient', () => {
  const rng = new Rng(5);
  const table = new Parameter(new Float32Array(6 * 3), [6, 3]);
  for (let i = 0; i < table.size; i++) table.data[i] = rng.normal();
  const bags = { ptr: Int32Array.from([0, 2, 2, 5]), idx: Int32Array.from([1, 4, 0, 4, 5]), val: Float32Array.from([0.5, 2, 1, -1, 3]) };
  const out = bagSum(table, bags);
  assert.deepEqual(out.shape, [3, 3]);
  for (let k = 0; k < 3; k++) {
    assert.ok(Math.abs(out.data[k] - (0.5 * table.data[3 + k] + 2 * table.data[12 + k])) < 1e-6);
    assert.equal(out.data[3 + k], 0, 'an empty bag is zero');
    assert.ok(Math.abs(out.data[6 + k] - (table.data[k] - table.data[12 + k] + 3 * table.data[15 + k])) < 1e-6);
  }
  const res = gradCheck(([t]) => bagSum(t, bags), [table], { eps: 1e-3 });
  assert.ok(res.ok, `ratio ${res.worstRatio}: ${res.worst}`);
  assert.throws(() => bagSum(table, { ptr: Int32Array.from([0, 1]), idx: Int32Array.from([6]), val: Float32Array.from([1]) }), /out of range/);
});

const CONFIG: FactorConfig = { itemNum: 6, userNum: 3, maxlen: 4, hiddenUnits: 4, l2Reg: 0.05 };

const FEATURES: ModelFeatures = {
  // users 1..3 (row 0 empty): two user features
  users: featureRows(2, [
    [],
    [[0, 1]],
    [[1, 1]],
    [
      [0, 1],
      [1, 0.5],
    ],
  ]),
  // items 1..6: three item features, some items with several, one with none
  items: featureRows(3, [
    [],
    [[0, 1]],
    [
      [0, 1],
      [2, 0.7],
    ],
    [[1, 1]],
    [],
    [
      [1, 0.3],
      [2, 1],
    ],
    [
      [0, 0.5],
      [1, 0.5],
      [2, 0.5],
    ],
  ]),
};

function jittered(): FactorizationMachine {
  const fm = new FactorizationMachine(CONFIG, FEATURES, { seed: 3 });
  const rng = new Rng(11);
  for (const [name, p] of fm.namedParameters()) {
    const first = name === 'user_factors' || name === 'item_factors' ? CONFIG.hiddenUnits : name === 'item_bias' ? 1 : 0;
    for (let i = first; i < p.size; i++) p.data[i] += 0.3 * rng.normal();
  }
  return fm;
}

test('FM scores: the O(nk) form equals the naive sum over feature pairs, up to the user-side constant', () => {
  const fm = jittered();
  const d = CONFIG.hiddenUnits;
  const P = Object.fromEntries(fm.namedParameters());
  // the naive FM over x = [user id, user features, item id, item features]: Σ w x + Σ_{f<g} <v_f, v_g> x_f x_g
  const naive = (u: number, i: number) => {
    const active: Array<{ v: Float32Array; w: number; x: number }> = [];
    active.push({ v: P.user_factors.data.subarray(u * d, (u + 1) * d), w: 0, x: 1 });
    const ur = FEATURES.users!;
    for (let x = ur.rowPtr[u]; x < ur.rowPtr[u + 1]; x++) {
      const f = ur.idx[x];
      active.push({ v: P.user_feature_factors.data.subarray(f * d, (f + 1) * d), w: 0, x: ur.val[x] });
    }
    active.push({ v: P.item_factors.data.subarray(i * d, (i + 1) * d), w: P.item_bias.data[i], x: 1 });
    const ir = FEATURES.items!;
    for (let x = ir.rowPtr[i]; x < ir.rowPtr[i + 1]; x++) {
      const g = ir.idx[x];
      active.push({ v: P.item_feature_factors.data.subarray(g * d, (g + 1) * d), w: P.item_feature_bias.data[g], x: ir.val[x] });
    }
    let s = 0;
    for (const a of active) s += a.w * a.x;
    for (let p = 0; p < active.length; p++)
      for (let q = p + 1; q < active.length; q++) {
        let dot = 0;
        for (let k = 0; k < d; k++) dot += active[p].v[k] * active[q].v[k];
        s += dot * active[p].x * active[q].x;
      }
    return s;
  };
  const users = Int32Array.from([1, 1, 2, 3, 3, 3]);
  const items = Int32Array.from([1, 2, 3, 4, 5, 6]);
  const got = withInferenceTape(() => fm.scores(users, new Int32Array(6), items).data.slice());
  // the user-side pairs are a constant per user: compare differences between items of one user
  const ref = Array.from(users, (u, m) => naive(u, items[m]));
  for (const [a, b] of [
    [0, 1],
    [3, 4],
    [3, 5],
    [4, 5],
  ]) {
    assert.ok(Math.abs(got[a] - got[b] - (ref[a] - ref[b])) < 1e-4, `pair ${a}, ${b}: ${got[a] - got[b]} vs ${ref[a] - ref[b]}`);
  }
  // the whole catalogue (one GEMM + the items' own terms) equals the per-candidate scores
  const batch = { batchSize: 1, maxlen: 4, users: Int32Array.from([3]), seqs: Int32Array.from([0, 1, 2, 3]) };
  const all = fm.scoreAll(batch);
  const cand = fm.scoreCandidates(batch, Int32Array.from([1, 2, 3, 4, 5, 6]), 6);
  for (let i = 1; i <= 6; i++) assert.ok(Math.abs(all[i] - cand[i - 1]) < 1e-5);
});

/** Two users' rows of 4 with one negative per position: the gradient checks' batch. */
const TRAIN_BATCH = {
  batchSize: 2,
  maxlen: 4,
  users: Int32Array.from([1, 3]),
  seqs: Int32Array.from([0, 1, 2, 3, 4, 5, 6, 1]),
  pos: Int32Array.from([0, 2, 3, 4, 5, 6, 1, 2]),
  neg: Int32Array.from([0, 5, 6, 1, 2, 3, 4, 5]),
  negatives: 1,
};

test('FM loss gradient (BPR + per-example L2) with side features matches finite differences', () => {
  const fm = jittered();
  const named = fm.namedParameters();
  const params = named.map(([, p]) => p);
  const res = gradCheck(() => fm.loss(TRAIN_BATCH), params, { eps: 1e-3, rtol: 2e-2, atol: 1e-3 });
  assert.ok(res.ok, `ratio ${res.worstRatio}: ${res.worst}`);
  for (const [i, g] of res.analytic.entries())
    assert.ok(
      g.some((v) => v !== 0),
      `${named[i][0]} has no gradient`,
    );
});

test('distinctIds: each id once, in order of first appearance, and the index back to every position', () => {
  const batch = Int32Array.from([4, 2, 4, 0, 2, 7]);
  const d = distinctIds(batch);
  assert.deepEqual(Array.from(d.ids), [4, 2, 0, 7]);
  assert.deepEqual(
    Array.from(d.index, (k) => d.ids[k]),
    Array.from(batch),
  );
});

/**
 * The batch's scores and their gradients (for weights r) equal those of each example scored alone: the
 * per-distinct-id computation then gather changes no value.
 */
function assertBatchedEqualsPerExample(model: FactorNetwork): void {
  const users = Int32Array.from([1, 3, 1, 2, 3, 3, 1, 0]);
  const items = Int32Array.from([2, 5, 2, 6, 1, 5, 4, 3]);
  const r = Float32Array.from(users, (_, m) => 0.3 + 0.1 * m);
  const params = model.parameters();
  const tape = getTape();
  const run = (u: Int32Array, i: Int32Array, weights: Float32Array) => {
    tape.reset();
    for (const p of params) p.grad?.fill(0);
    const s = model.scores(u, new Int32Array(u.length), i);
    const values = s.data.slice();
    tape.backward(s, weights);
    const grads = params.map((p) => (p.grad ? p.grad.slice() : new Float32Array(p.size)));
    tape.reset();
    return { values, grads };
  };
  const batched = run(users, items, r);
  const grads = params.map((p) => new Float32Array(p.size));
  users.forEach((u, m) => {
    const one = run(Int32Array.of(u), Int32Array.of(items[m]), Float32Array.of(r[m]));
    assert.ok(Math.abs(batched.values[m] - one.values[0]) < 1e-6, `example ${m}: ${batched.values[m]} vs ${one.values[0]}`);
    one.grads.forEach((g, k) => {
      for (let x = 0; x < g.length; x++) grads[k][x] += g[x];
    });
  });
  grads.forEach((g, k) => {
    for (let x = 0; x < g.length; x++)
      assert.ok(Math.abs(batched.grads[k][x] - g[x]) < 1e-6, `parameter ${k}[${x}]: ${batched.grads[k][x]} vs ${g[x]}`);
  });
  assert.ok(
    batched.grads.every((g) => g.some((v) => v !== 0)),
    'every table has a gradient',
  );
}

test('FM and FFM: a batch (each distinct user and item computed once) scores and back-propagates as its examples one by one', () => {
  assertBatchedEqualsPerExample(jittered());
  assertBatchedEqualsPerExample(new FieldAwareFM(CONFIG, FEATURES, { seed: 5 }));
});

test('FM per-example L2 (libFM-style): λ/M Σ_m over the id rows and the feature vectors and weights example m reads', () => {
  const fm = jittered();
  const unregularised = new FactorizationMachine({ ...CONFIG, l2Reg: 0 }, FEATURES, { seed: 3 });
  for (const [name, p] of fm.namedParameters()) (Object.fromEntries(unregularised.namedParameters())[name] as Parameter).data.set(p.data);
  const P = Object.fromEntries(fm.namedParameters());
  const d = CONFIG.hiddenUnits;
  const sq = (t: Parameter, row: number, width: number) => t.data.subarray(row * width, (row + 1) * width).reduce((a, x) => a + x * x, 0);
  const featureSquares = (r: FeatureRows, id: number, t: Parameter, width: number) => {
    let s = 0;
    for (let x = r.rowPtr[id]; x < r.rowPtr[id + 1]; x++) s += sq(t, r.idx[x], width);
    return s;
  };
  const itemTerm = (i: number) =>
    sq(P.item_factors, i, d) +
    sq(P.item_bias, i, 1) +
    featureSquares(FEATURES.items!, i, P.item_feature_factors, d) +
    featureSquares(FEATURES.items!, i, P.item_feature_bias, 1);
  let naive = 0;
  let M = 0;
  const B = TRAIN_BATCH.batchSize;
  const L = TRAIN_BATCH.maxlen;
  for (let p = 0; p < B * L; p++) {
    if (TRAIN_BATCH.pos[p] === 0) continue;
    const u = TRAIN_BATCH.users[Math.floor(p / L)];
    naive += sq(P.user_factors, u, d) + featureSquares(FEATURES.users!, u, P.user_feature_factors, d);
    naive += itemTerm(TRAIN_BATCH.pos[p]) + itemTerm(TRAIN_BATCH.neg[p]);
    M++;
  }
  const [withL2, without] = [fm, unregularised].map((m) => withInferenceTape(() => m.loss(TRAIN_BATCH).data[0]));
  const expected = (CONFIG.l2Reg * naive) / M;
  assert.ok(expected > 0.01, `the feature rows add a visible term (${expected})`);
  assert.ok(Math.abs(withL2 - without - expected) < 1e-5, `L2 term ${withL2 - without} vs ${expected}`);
  // a cold-start split forgets the held-out ids' rows, never the shared feature tables
  const before = P.item_feature_factors.data.slice();
  const userFeatures = P.user_feature_factors.data.slice();
  fm.forgetIds(Int32Array.of(1), Int32Array.of(2));
  assert.deepEqual(P.item_feature_factors.data, before);
  assert.deepEqual(P.user_feature_factors.data, userFeatures);
  assert.ok(sq(P.user_factors, 1, d) === 0 && sq(P.item_factors, 2, d) === 0 && P.item_bias.data[2] === 0);
});

test('FFM per-example L2: over the id rows and every per-field vector and weight of the features example m reads', () => {
  const make = (l2Reg: number) => {
    const m = new FieldAwareFM({ ...CONFIG, l2Reg }, FEATURES, { seed: 5 });
    const rng = new Rng(9);
    for (const [, p] of m.namedParameters())
      for (let i = 0; i < p.size; i++) if (p.data[i] !== 0 || p.shape.length === 1) p.data[i] += 0.3 * rng.normal();
    return m;
  };
  const [ffm, unregularised] = [make(CONFIG.l2Reg), make(0)];
  const P = Object.fromEntries(ffm.namedParameters());
  const sq = (t: Parameter, row: number) => {
    const w = t.shape.length > 1 ? t.shape[1] : 1;
    return t.data.subarray(row * w, (row + 1) * w).reduce((a, x) => a + x * x, 0);
  };
  const features = (r: FeatureRows, id: number, t: Parameter) => {
    let s = 0;
    for (let x = r.rowPtr[id]; x < r.rowPtr[id + 1]; x++) s += sq(t, r.idx[x]);
    return s;
  };
  const item = (i: number) =>
    sq(P.item_factors, i) +
    sq(P.item_bias, i) +
    features(FEATURES.items!, i, P.item_feature_factors) +
    features(FEATURES.items!, i, P.item_feature_bias);
  let naive = 0;
  let M = 0;
  const L = TRAIN_BATCH.maxlen;
  for (let p = 0; p < TRAIN_BATCH.pos.length; p++) {
    if (TRAIN_BATCH.pos[p] === 0) continue;
    const u = TRAIN_BATCH.users[Math.floor(p / L)];
    naive += sq(P.user_factors, u) + features(FEATURES.users!, u, P.user_feature_factors) + item(TRAIN_BATCH.pos[p]) + item(TRAIN_BATCH.neg[p]);
    M++;
  }
  const [withL2, without] = [ffm, unregularised].map((m) => withInferenceTape(() => m.loss(TRAIN_BATCH).data[0]));
  const expected = (CONFIG.l2Reg * naive) / M;
  assert.ok(Math.abs(withL2 - without - expected) < 1e-5, `L2 term ${withL2 - without} vs ${expected}`);
});

test("a user training never reads (cold start) keeps the mean of the trained users' id vectors, not a zero row", () => {
  for (const model of [jittered(), new FieldAwareFM(CONFIG, FEATURES, { seed: 5 })]) {
    model.forgetIds(Int32Array.of(2), new Int32Array(0));
    const table = model.namedParameters().find(([name]) => name === 'user_factors')![1];
    const d = table.shape[1];
    assert.ok(
      table.data.subarray(2 * d, 3 * d).every((x) => x === 0),
      'zero before training',
    );
    withInferenceTape(() => model.loss(TRAIN_BATCH)); // the batch reads users 1 and 3 only
    for (let k = 0; k < d; k++) {
      const mean = (table.data[d + k] + table.data[3 * d + k]) / 2;
      assert.ok(Math.abs(table.data[2 * d + k] - mean) < 1e-6, `${model.constructor.name} column ${k}: ${table.data[2 * d + k]} vs ${mean}`);
    }
    assert.ok(table.data.subarray(2 * d, 3 * d).some((x) => x !== 0));
  }
});

test('FM id dropout (DropoutNet): a dropped user scores with the mean user vector, its id row gets no ranking gradient; nothing is dropped outside training', () => {
  const config = { ...CONFIG, l2Reg: 0 };
  const build = (idDropout: number) => {
    const fm = new FactorizationMachine(config, FEATURES, { seed: 3 }, idDropout);
    const rng = new Rng(11);
    for (const [, p] of fm.namedParameters()) for (let i = config.hiddenUnits; i < p.size; i++) p.data[i] += 0.3 * rng.normal();
    return fm;
  };
  const lossAndUserGrads = (fm: FactorizationMachine) => {
    const tape = getTape();
    tape.reset();
    for (const p of fm.parameters()) p.grad?.fill(0);
    const loss = fm.loss(TRAIN_BATCH);
    const value = loss.item();
    tape.backward(loss, Float32Array.of(1));
    const grad = (fm.userFactors.grad as Float32Array).slice();
    tape.reset();
    return { value, grad };
  };
  const d = config.hiddenUnits;
  const rowGradZero = (grad: Float32Array, u: number) => grad.subarray(u * d, (u + 1) * d).every((g) => g === 0);
  // across steps each of the batch's users (1 and 3) is dropped sometimes, kept sometimes
  const seen = { dropped: new Set<number>(), kept: new Set<number>() };
  const fm = build(0.5);
  for (let step = 0; step < 12; step++) {
    const meanRow = new Float32Array(d);
    for (let u = 1; u <= config.userNum; u++) for (let k = 0; k < d; k++) meanRow[k] += fm.userFactors.data[u * d + k] / config.userNum;
    const { value, grad } = lossAndUserGrads(fm);
    const dropped = [1, 3].filter((u) => rowGradZero(grad, u));
    for (const u of [1, 3]) (dropped.includes(u) ? seen.dropped : seen.kept).add(u);
    // the same loss from a model without dropout whose dropped users' rows are the mean row
    const reference = build(0);
    reference.userFactors.data.set(fm.userFactors.data);
    for (const u of dropped) reference.userFactors.data.set(meanRow, u * d);
    const expected = lossAndUserGrads(reference).value;
    assert.ok(Math.abs(value - expected) < 1e-6, `step ${step}, dropped [${dropped}]: ${value} vs ${expected}`);
  }
  assert.deepEqual([...seen.dropped].sort(), [1, 3]);
  assert.deepEqual([...seen.kept].sort(), [1, 3]);

  fm.train(false);
  const evaluated = lossAndUserGrads(fm);
  assert.ok(!rowGradZero(evaluated.grad, 1) && !rowGradZero(evaluated.grad, 3), 'no user dropped in evaluation mode');
  const plain = build(0);
  plain.userFactors.data.set(fm.userFactors.data);
  assert.ok(Math.abs(evaluated.value - lossAndUserGrads(plain).value) < 1e-6);
  assert.throws(() => new FactorizationMachine(config, FEATURES, { seed: 3 }, 1), /idDropout/);
});

/** groupEvents' items with their taste group as a feature. */
function groupItemFeatures(items: readonly string[]) {
  return {
    source: 'groups',
    layout: 'csv',
    columns: [{ name: 'group', kind: 'categorical' as const }],
    records: items.map((id, k) => ({ id, line: k + 1, values: [`g${Math.floor((Number(id) - 3000) / 100)}`] })),
  };
}

test('FM learns the taste groups (above PopRec), and its model file keeps the features it scores with', async () => {
  const data = fromEvents(groupEvents());
  const split = leaveOneOut(data, 3);
  const items = featureMatrix(groupItemFeatures(data.items.toRaw.slice(1)), data.items);
  const spec = getModel('fm');
  assert.ok(spec && spec.learning.kind === 'gradient');
  const model = await train(data, { model: 'fm', numEpochs: 30, evalEvery: 30, lr: 0.01, seed: 1, features: { items } });
  const pop = PopRecModel.fit(split, 'train');
  const [f, p] = [await testNdcg(model, data), await testNdcg(pop, data)];
  assert.ok(f > p + 0.05, `FM NDCG@10 ${f.toFixed(3)} vs PopRec ${p.toFixed(3)}`);
  const back = spec.load(model.serialize());
  assert.equal(await testNdcg(back, data), f, 'the loaded model scores alike (its features came with it)');
  model.dispose();
  back.dispose();
});

test('seqrec train --model fm with the MovieLens-100k user and item files; recommend reads the model file alone', {
  skip: NEEDS_SHARED,
}, async () => {
  const run = join(testTempDir('seqrec-fm-'), 'run');
  const t = await runCli([
    'train',
    '--model',
    'fm',
    '--dataset',
    sharedPath('data/ml-100k/u.data'),
    '--user_features',
    sharedPath('data/ml-100k/u.user'),
    '--item_features',
    sharedPath('data/ml-100k/u.item'),
    '--num_epochs',
    '2',
    '--eval_every',
    '2',
    '--maxlen',
    '50',
    '--train_dir',
    run,
  ]);
  assert.equal(t.code, 0, t.stderr);
  const file = join(run, 'fm.safetensors');
  const r = await runCli(['recommend', '--state_dict_path', file, '--user', '1', '--k', '3']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout.trim().split('\n').length >= 3, r.stdout);
});

test('FFM scores: the per-field-pair form equals the naive sum ⟨v_{f,F(g)}, v_{g,F(f)}⟩ x_f x_g, up to the user-side constant; its gradient', () => {
  const d = 3;
  const ffm = new FieldAwareFM({ ...CONFIG, hiddenUnits: d }, FEATURES, { seed: 5 });
  const rng = new Rng(9);
  for (const [, p] of ffm.namedParameters())
    for (let i = 0; i < p.size; i++) if (p.data[i] !== 0 || p.shape.length === 1) p.data[i] += 0.3 * rng.normal();
  const P = Object.fromEntries(ffm.namedParameters());
  const ur = FEATURES.users!;
  const ir = FEATURES.items!;
  const U = 1 + ur.fieldNum; // user fields: id, then feature fields
  const T = U + 1 + ir.fieldNum; // an item-side vector per field of either side
  const Ti = 1 + ir.fieldNum; // a user-side vector per item field
  // the active features: field (global: user fields 0..U-1, item fields U..), x, vector for field F, bias
  const active = (u: number, i: number) => {
    const a: Array<{ field: number; x: number; v: (F: number) => number[]; w: number }> = [];
    const vec = (t: Float32Array, row: number, width: number, slot: number) =>
      Array.from(t.subarray(row * width * d + slot * d, row * width * d + slot * d + d));
    a.push({ field: 0, x: 1, v: (F) => vec(P.user_factors.data, u, Ti, F - U), w: 0 });
    for (let x = ur.rowPtr[u]; x < ur.rowPtr[u + 1]; x++) {
      const f = ur.idx[x];
      a.push({ field: 1 + ur.fieldOf[f], x: ur.val[x], v: (F) => vec(P.user_feature_factors.data, f, Ti, F - U), w: 0 });
    }
    a.push({ field: U, x: 1, v: (F) => vec(P.item_factors.data, i, T, F), w: P.item_bias.data[i] });
    for (let x = ir.rowPtr[i]; x < ir.rowPtr[i + 1]; x++) {
      const g = ir.idx[x];
      a.push({ field: U + 1 + ir.fieldOf[g], x: ir.val[x], v: (F) => vec(P.item_feature_factors.data, g, T, F), w: P.item_feature_bias.data[g] });
    }
    return a;
  };
  const naive = (u: number, i: number) => {
    const a = active(u, i);
    let s = 0;
    for (const f of a) s += f.w * f.x;
    for (let p = 0; p < a.length; p++)
      for (let q = p + 1; q < a.length; q++) {
        if (a[p].field < U && a[q].field < U) continue; // user-side pairs: the same for every item
        const vp = a[p].v(a[q].field);
        const vq = a[q].v(a[p].field);
        s += vp.reduce((acc, x, k) => acc + x * vq[k], 0) * a[p].x * a[q].x;
      }
    return s;
  };
  const users = Int32Array.from([1, 1, 2, 3, 3, 3]);
  const items = Int32Array.from([1, 2, 3, 4, 5, 6]);
  const got = withInferenceTape(() => ffm.scores(users, new Int32Array(6), items).data.slice());
  for (let m = 0; m < 6; m++)
    assert.ok(Math.abs(got[m] - naive(users[m], items[m])) < 1e-4, `example ${m}: ${got[m]} vs ${naive(users[m], items[m])}`);
  const batch = { batchSize: 1, maxlen: 4, users: Int32Array.from([3]), seqs: Int32Array.from([0, 1, 2, 3]) };
  const all = ffm.scoreAll(batch);
  const cand = ffm.scoreCandidates(batch, Int32Array.from([1, 2, 3, 4, 5, 6]), 6);
  for (let i = 1; i <= 6; i++) assert.ok(Math.abs(all[i] - cand[i - 1]) < 1e-5);
  const named = ffm.namedParameters();
  const res = gradCheck(
    () => ffm.loss(TRAIN_BATCH),
    named.map(([, p]) => p),
    { eps: 1e-3, rtol: 2e-2, atol: 1e-3 },
  );
  assert.ok(res.ok, `ratio ${res.worstRatio}: ${res.worst}`);
  for (const [i, g] of res.analytic.entries())
    assert.ok(
      g.some((v) => v !== 0),
      `${named[i][0]} has no gradient`,
    );
});

test('FFM learns the taste groups from an item feature (above PopRec); its file loads back with its features', async () => {
  const data = fromEvents(groupEvents());
  const split = leaveOneOut(data, 3);
  const items = featureMatrix(groupItemFeatures(data.items.toRaw.slice(1)), data.items);
  const model = await train(data, { model: 'ffm', numEpochs: 30, evalEvery: 30, lr: 0.01, seed: 1, features: { items } });
  const pop = PopRecModel.fit(split, 'train');
  const [f, p] = [await testNdcg(model, data), await testNdcg(pop, data)];
  assert.ok(f > p + 0.05, `FFM NDCG@10 ${f.toFixed(3)} vs PopRec ${p.toFixed(3)}`);
  const back = getModel('ffm')!.load(model.serialize());
  assert.equal(await testNdcg(back, data), f);
  assert.equal((back.describe() as { hidden_units: number }).hidden_units, 8);
  model.dispose();
  back.dispose();
});

function jitteredWithHistory(): FactorizationMachine {
  const fm = new FactorizationMachine(CONFIG, FEATURES, { seed: 3 }, 0, true);
  const rng = new Rng(12);
  for (const [name, p] of fm.namedParameters()) {
    const first = ['user_factors', 'item_factors', 'history_factors'].includes(name) ? CONFIG.hiddenUnits : name === 'item_bias' ? 1 : 0;
    for (let i = first; i < p.size; i++) p.data[i] += 0.3 * rng.normal();
  }
  return fm;
}

test('FM --history_bag: U gains the mean of the history items’ own vectors y_j, by hand; catalogue = candidates; the loss gradient (BPR + L2 over the bags) matches finite differences', () => {
  const fm = jitteredWithHistory();
  const plain = new FactorizationMachine(CONFIG, FEATURES, { seed: 3 });
  const P = Object.fromEntries(fm.namedParameters());
  for (const [name, p] of plain.namedParameters()) p.data.set(P[name].data);
  const d = CONFIG.hiddenUnits;
  // two histories of user 3 (one with padding and an id outside 1..6, skipped), one of the unknown user 0
  const batch = { batchSize: 3, maxlen: 4, users: Int32Array.from([3, 3, 0]), seqs: Int32Array.from([0, 1, 2, 9, 4, 5, 6, 1, 0, 0, 0, 2]) };
  const histories = [[1, 2], [4, 5, 6, 1], [2]];
  const all = fm.scoreAll(batch);
  const without = plain.scoreAll(batch);
  const n = CONFIG.itemNum + 1;
  for (const [b, h] of histories.entries()) {
    const mean = new Float64Array(d);
    for (const j of h) for (let k = 0; k < d; k++) mean[k] += P.history_factors.data[j * d + k] / h.length;
    // by the file's formula, the history field adds ⟨mean y, I⟩ to every item's score, I = v_i + Σ_g x_g v_g
    for (let i = 1; i <= CONFIG.itemNum; i++) {
      const I = new Float64Array(P.item_factors.data.subarray(i * d, (i + 1) * d));
      const ir = FEATURES.items!;
      for (let x = ir.rowPtr[i]; x < ir.rowPtr[i + 1]; x++)
        for (let k = 0; k < d; k++) I[k] += ir.val[x] * P.item_feature_factors.data[ir.idx[x] * d + k];
      let dot = 0;
      for (let k = 0; k < d; k++) dot += mean[k] * I[k];
      assert.ok(Math.abs(all[b * n + i] - without[b * n + i] - dot) < 1e-4, `history ${b}, item ${i}`);
    }
  }
  const cand = fm.scoreCandidates(
    batch,
    Int32Array.from({ length: 18 }, (_, x) => 1 + (x % 6)),
    6,
  );
  for (let x = 0; x < 18; x++) assert.ok(Math.abs(cand[x] - all[Math.floor(x / 6) * n + 1 + (x % 6)]) < 1e-5, `candidate ${x}`);

  const named = fm.namedParameters();
  const res = gradCheck(
    () => fm.loss(TRAIN_BATCH),
    named.map(([, p]) => p),
    { eps: 1e-3, rtol: 2e-2, atol: 1e-3 },
  );
  assert.ok(res.ok, `ratio ${res.worstRatio}: ${res.worst}`);
  const history = res.analytic[named.findIndex(([name]) => name === 'history_factors')];
  assert.ok(
    history.some((g) => g !== 0),
    'the history vectors learn',
  );

  // the L2 term over the bags: λ/M Σ_m (1/|H_m|) Σ_{j∈H_m} ‖y_j‖², H_m the row's inputs up to position m
  const free = (history: boolean) => {
    const net = new FactorizationMachine({ ...CONFIG, l2Reg: 0 }, FEATURES, { seed: 3 }, 0, history);
    for (const [name, p] of net.namedParameters()) p.data.set(P[name].data);
    return net;
  };
  const lossOf = (net: FactorizationMachine) => withInferenceTape(() => net.loss(TRAIN_BATCH).data[0]);
  const plainL2 = new FactorizationMachine(CONFIG, FEATURES, { seed: 3 });
  for (const [name, p] of plainL2.namedParameters()) p.data.set(P[name].data);
  const historyL2 = lossOf(fm) - lossOf(free(true)) - (lossOf(plainL2) - lossOf(free(false)));
  const { seqs, pos } = TRAIN_BATCH;
  let sum = 0;
  let M = 0;
  for (let p = 0; p < pos.length; p++) {
    if (pos[p] === 0) continue;
    M++;
    const bag = Array.from(seqs.subarray(p - (p % 4), p + 1)).filter((j) => j !== 0);
    for (const j of bag) for (let k = 0; k < d; k++) sum += P.history_factors.data[j * d + k] ** 2 / bag.length;
  }
  assert.ok(Math.abs(historyL2 - (CONFIG.l2Reg * sum) / M) < 1e-5, `history L2 ${historyL2} vs ${(CONFIG.l2Reg * sum) / M}`);
});

test('FM --history_bag: users it never saw are ranked by their history far above PopRec; the model file keeps the field', async () => {
  const { data, strangers, pop } = await tastesWithStrangers();
  const settings = { model: 'fm', numEpochs: 40, evalEvery: 40, lr: 0.01, batchSize: 16, evalProtocol: 'full' as const, seed: 1 };
  const withHistory = await train(data, { ...settings, historyBag: true });
  const idsOnly = await train(data, settings);
  try {
    const unknown = await testNdcg(withHistory, strangers);
    assert.ok(unknown > pop + 0.3, `fm --history_bag on users it never saw: ${unknown}, PopRec ${pop}`);
    // without the field, a stranger has only the items' side: no better than popularity
    const blind = await testNdcg(idsOnly, strangers);
    assert.ok(blind < pop + 0.1, `fm without the field on strangers: ${blind}, PopRec ${pop}`);
    const back = await getModel('fm')!.load(withHistory.serialize());
    assert.equal(await testNdcg(back, strangers), unknown, 'the file keeps --history_bag');
    back.dispose();
  } finally {
    withHistory.dispose();
    idsOnly.dispose();
  }
});

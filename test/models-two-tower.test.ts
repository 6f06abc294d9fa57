/**
 * `two_tower` (issue 19): the towers' formula by hand, the loss gradient, the catalogue path against
 * the pair path, learns-something, model-file round trips, the flag check.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../src/engine/rng.js';
import { fromEvents, train } from '../src/index.js';
import type { FactorConfig } from '../src/models/common/factor-network.js';
import type { FeatureRows, ModelFeatures } from '../src/models/common/feature-rows.js';
import { prefixBags } from '../src/models/common/history-bags.js';
import { TwoTower } from '../src/models/two-tower/two-tower.js';
import { getModel } from '../src/models/registry.js';
import { runCli } from './helpers/cli.js';
import { featureRows } from './helpers/feature-rows.js';
import { gradCheck } from './helpers/gradcheck.js';
import { groupEvents, tastesWithStrangers, testNdcg } from './helpers/tastes.js';

const CONFIG: FactorConfig = { itemNum: 6, userNum: 3, maxlen: 4, hiddenUnits: 3, l2Reg: 0.05, negatives: 2 };

const FEATURES: ModelFeatures = {
  users: featureRows(2, [
    [],
    [[0, 1]],
    [[1, 1]],
    [
      [0, 1],
      [1, 0.5],
    ],
  ]),
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
    [[0, 0.5]],
  ]),
};

const BATCH = {
  batchSize: 2,
  maxlen: 4,
  users: Int32Array.from([1, 3]),
  seqs: Int32Array.from([0, 1, 2, 3, 4, 5, 6, 1]),
  pos: Int32Array.from([0, 2, 3, 4, 5, 6, 1, 2]),
  neg: Int32Array.from([0, 0, 5, 6, 6, 1, 2, 1, 1, 3, 4, 2, 3, 3, 4, 5]),
  negatives: 2,
};

function jittered(layers: number[] = [4]): TwoTower {
  const net = new TwoTower(CONFIG, FEATURES, layers, { seed: 2 });
  const rng = new Rng(9);
  for (const p of net.parameters()) for (let i = 0; i < p.size; i++) p.data[i] += 0.2 * rng.normal();
  return net;
}

test('two_tower: ⟨f([e_u; Σ x_f v_f]), g([e_i; Σ x_g w_g])⟩ by hand; the catalogue (one GEMM) equals the pairs', () => {
  const net = jittered();
  const d = CONFIG.hiddenUnits;
  const vec = (t: Float32Array, r: number) => Array.from(t.subarray(r * d, (r + 1) * d));
  const matvec = (w: Float32Array, out: number, x: number[], b?: Float32Array) =>
    Array.from({ length: out }, (_, o) => x.reduce((s, v, k) => s + v * w[o * x.length + k], b ? b[o] : 0));
  const tower = (t: TwoTower['users'], id: number, featureRows: FeatureRows) => {
    const sum = new Array(d).fill(0);
    for (let x = featureRows.rowPtr[id]; x < featureRows.rowPtr[id + 1]; x++) {
      const f = vec((t.featureTable as { data: Float32Array }).data, featureRows.idx[x]);
      for (let k = 0; k < d; k++) sum[k] += featureRows.val[x] * f[k];
    }
    const first = matvec(t.firstIds!.data, 4, vec(t.ids!.data, id), t.firstBias.data).map(
      (v, o) => v + matvec((t.firstFeatures as { data: Float32Array }).data, 4, sum)[o],
    );
    const [last] = t.layers;
    return matvec(
      last.weight.data,
      d,
      first.map((x) => Math.max(0, x)),
      last.bias.data,
    );
  };
  const u = tower(net.users, 3, FEATURES.users as FeatureRows);
  const i = tower(net.items, 5, FEATURES.items as FeatureRows);
  const want = u.reduce((s, x, k) => s + x * i[k], 0);
  const batch = { batchSize: 1, maxlen: 1, users: Int32Array.of(3), seqs: Int32Array.of(2) };
  const all = net.scoreAll(batch);
  assert.ok(Math.abs(all[5] - want) < 1e-5, `${all[5]} vs ${want}`);
  const pairs = net.scoreCandidates(
    batch,
    Int32Array.from({ length: 7 }, (_, j) => j),
    7,
  );
  for (let j = 0; j < 7; j++) assert.ok(Math.abs(all[j] - pairs[j]) < 1e-5, `item ${j}`);
});

test('two_tower loss gradient (log loss + per-example L2 on id and feature rows) matches finite differences', () => {
  for (const layers of [[4], [4, 5], []]) {
    const net = jittered(layers);
    const named = net.namedParameters();
    const res = gradCheck(
      () => net.loss(BATCH),
      named.map(([, p]) => p),
      { eps: 1e-3, rtol: 2e-2, atol: 1e-3 },
    );
    assert.ok(res.ok, `layers [${layers}]: ratio ${res.worstRatio}: ${res.worst}`);
    for (const [k, g] of res.analytic.entries())
      assert.ok(
        g.some((v) => v !== 0),
        `layers [${layers}]: ${named[k][0]} has no gradient`,
      );
  }
});

test("two_tower --similarity cosine: s = cos(u, i) / τ (the dot model's vectors normalised), catalogue = pairs; its gradient", () => {
  const tau = 0.25;
  const build = (temperature: number) => {
    const net = new TwoTower(CONFIG, FEATURES, [4], { seed: 2 }, false, temperature);
    const rng = new Rng(9);
    for (const p of net.parameters()) for (let i = 0; i < p.size; i++) p.data[i] += 0.2 * rng.normal();
    return net;
  };
  const [dot, cosine] = [build(0), build(tau)];
  const d = CONFIG.hiddenUnits;
  const u = dot.users.forward(Int32Array.of(2)).data.slice();
  const items = dot.items.forward(Int32Array.from({ length: 7 }, (_, j) => j)).data.slice();
  const batch = { batchSize: 1, maxlen: 1, users: Int32Array.of(2), seqs: Int32Array.of(1) };
  const all = cosine.scoreAll(batch);
  const pairs = cosine.scoreCandidates(
    batch,
    Int32Array.from({ length: 7 }, (_, j) => j),
    7,
  );
  const norm = (v: Float32Array) => Math.hypot(...Array.from(v));
  for (let j = 1; j < 7; j++) {
    const i = items.subarray(j * d, (j + 1) * d);
    const want = u.reduce((s, x, k) => s + x * i[k], 0) / (norm(u) * norm(i) * tau);
    assert.ok(Math.abs(all[j] - want) < 1e-4, `item ${j}: ${all[j]} vs ${want}`);
    assert.ok(Math.abs(pairs[j] - all[j]) < 1e-5);
  }
  const named = cosine.namedParameters();
  const res = gradCheck(
    () => cosine.loss(BATCH),
    named.map(([, p]) => p),
    { eps: 1e-3, rtol: 2e-2, atol: 1e-3 },
  );
  assert.ok(res.ok, `ratio ${res.worstRatio}: ${res.worst}`);
});

test("two_tower in-batch softmax: each positive against the group's other positives (same item left out), logits − log q_j, by hand; its gradient", () => {
  const config = { ...CONFIG, l2Reg: 0, negatives: 0 };
  const net = new TwoTower(config, FEATURES, [4], { seed: 5 }, true);
  const rng = new Rng(3);
  for (const p of net.parameters()) for (let i = 0; i < p.size; i++) p.data[i] += 0.2 * rng.normal();
  // the hand computation first (the loss counts this batch's positives into q)
  const pairs: Array<[number, number]> = [];
  for (let p = 0; p < 8; p++) if (BATCH.pos[p] !== 0) pairs.push([BATCH.users[Math.floor(p / 4)], BATCH.pos[p]]);
  const M = pairs.length;
  const count = new Map<number, number>();
  for (const [, i] of pairs) count.set(i, (count.get(i) ?? 0) + 1);
  const logQ = (i: number) => Math.log(((count.get(i) ?? 0) + 1) / (M + CONFIG.itemNum));
  const d = CONFIG.hiddenUnits;
  const userVec = net.users.forward(Int32Array.from(pairs, ([u]) => u)).data.slice();
  const itemVec = net.items.forward(Int32Array.from(pairs, ([, i]) => i)).data.slice();
  const dot = (a: number, b: number) => {
    let s = 0;
    for (let k = 0; k < d; k++) s += userVec[a * d + k] * itemVec[b * d + k];
    return s;
  };
  let want = 0;
  for (let m = 0; m < M; m++) {
    const logits = [dot(m, m) - logQ(pairs[m][1])];
    for (let c = 0; c < M; c++) if (c !== m && pairs[c][1] !== pairs[m][1]) logits.push(dot(m, c) - logQ(pairs[c][1]));
    const max = Math.max(...logits);
    want += (max + Math.log(logits.reduce((s, x) => s + Math.exp(x - max), 0)) - logits[0]) / M;
  }
  const got = net.loss(BATCH).item();
  assert.ok(Math.abs(got - want) < 1e-5, `${got} vs ${want}`);
  // the gradient at the same q (the counts only grow outside gradCheck's repeated calls: evaluation mode)
  net.train(false);
  const named = net.namedParameters();
  const res = gradCheck(
    () => net.loss(BATCH),
    named.map(([, p]) => p),
    { eps: 1e-3, rtol: 2e-2, atol: 1e-3 },
  );
  assert.ok(res.ok, `ratio ${res.worstRatio}: ${res.worst}`);
});

test('two_tower learns stable tastes from ids (far above PopRec); its file scores the same after a round trip', async () => {
  const data = fromEvents(groupEvents());
  const settings = { model: 'two_tower', numEpochs: 40, evalEvery: 40, lr: 0.01, batchSize: 16, evalProtocol: 'full' as const, seed: 1 };
  const pop = await testNdcg(await train(data, { model: 'pop' }), data);
  const model = await train(data, settings);
  try {
    const ndcg = await testNdcg(model, data);
    assert.ok(ndcg > pop + 0.3, `two_tower: full test NDCG@10 ${ndcg}, PopRec ${pop}`);
    const bytes = model.serialize();
    assert.equal(getModel('two_tower')?.sniff(bytes), true);
    const back = await getModel('two_tower')!.load(bytes);
    assert.equal(await testNdcg(back, data), ndcg);
    back.dispose();
  } finally {
    model.dispose();
  }
});

test("history bags: a position reads the row's items up to it (never its target), each 1/count; padding and unknown ids skipped", () => {
  // rows of 4: [0, 5, 2, 9] and [3, 0, 1, 4] (9 is outside 1..7)
  const seqs = Int32Array.from([0, 5, 2, 9, 3, 0, 1, 4]);
  const bags = prefixBags(seqs, 4, [1, 3, 4, 6, 7], 7);
  const bag = (m: number) => Array.from(bags.idx.subarray(bags.ptr[m], bags.ptr[m + 1])).map((i, k) => [i, bags.val[bags.ptr[m] + k]]);
  assert.deepEqual(bag(0), [[5, 1]]);
  assert.deepEqual(bag(1), [
    [5, 0.5],
    [2, 0.5],
  ]);
  assert.deepEqual(bag(2), [[3, 1]]);
  assert.deepEqual(bag(3), [
    [3, 0.5],
    [1, 0.5],
  ]);
  assert.deepEqual(
    bag(4).map(([i]) => i),
    [3, 1, 4],
  );
});

test('--history_bag: scores read the history (catalogue = pairs; the loss gradient), and users the model never saw are ranked by their history far above PopRec', async () => {
  const net = new TwoTower(CONFIG, FEATURES, [4], { seed: 2 }, false, 0, true);
  const rng = new Rng(4);
  for (const p of net.parameters()) for (let i = 0; i < p.size; i++) p.data[i] += 0.2 * rng.normal();
  const batch = { batchSize: 2, maxlen: 3, users: Int32Array.from([2, 2]), seqs: Int32Array.from([0, 1, 2, 4, 5, 6]) };
  const all = net.scoreAll(batch);
  const pairs = net.scoreCandidates(
    batch,
    Int32Array.from({ length: 14 }, (_, x) => x % 7),
    7,
  );
  for (let x = 0; x < 14; x++) assert.ok(Math.abs(all[x] - pairs[x]) < 1e-5, `${x}: ${all[x]} vs ${pairs[x]}`);
  assert.ok(Array.from({ length: 6 }, (_, j) => all[j + 1] !== all[7 + j + 1]).every(Boolean), 'the same user with other histories scores otherwise');
  const named = net.namedParameters();
  const res = gradCheck(
    () => net.loss(BATCH),
    named.map(([, p]) => p),
    { eps: 1e-3, rtol: 2e-2, atol: 1e-3 },
  );
  assert.ok(res.ok, `ratio ${res.worstRatio}: ${res.worst}`);
  assert.ok(
    res.analytic[named.findIndex(([n]) => n === 'user_history_items')].some((g) => g !== 0),
    'the history table learns',
  );

  const { data, strangers, pop } = await tastesWithStrangers();
  const model = await train(data, {
    model: 'two_tower',
    historyBag: true,
    numEpochs: 40,
    evalEvery: 40,
    lr: 0.01,
    batchSize: 16,
    evalProtocol: 'full',
    seed: 1,
  });
  try {
    const unknown = await testNdcg(model, strangers);
    assert.ok(unknown > pop + 0.3, `two_tower --history_bag on users it never saw: ${unknown}, PopRec ${pop}`);
    const back = await getModel('two_tower')!.load(model.serialize());
    assert.equal(await testNdcg(back, strangers), unknown, 'the file keeps --history_bag');
    back.dispose();
  } finally {
    model.dispose();
  }
});

test('seqrec train --model two_tower: --tower_layers is checked before training', async () => {
  const bad = await runCli(['train', '--model', 'two_tower', '--dataset', 'nothing.txt', '--tower_layers', '64,x']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr.trim(), /^seqrec: --tower_layers: expected positive integers separated by commas/);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
});

test('two_tower keeps the catalogue’s item vectors while in evaluation mode (top-K: the user tower and one GEMM); train() and loadStateDict drop them', () => {
  for (const historyBag of [false, true]) {
    const net = new TwoTower(CONFIG, FEATURES, [4], { seed: 2 }, false, 0, historyBag);
    const batch = { batchSize: 2, maxlen: 3, users: Int32Array.from([1, 2]), seqs: Int32Array.from([0, 1, 2, 4, 5, 6]) };
    const itemIds = net.namedParameters().find(([name]) => name === 'item_ids')![1];
    const nudge = () => {
      for (let i = CONFIG.hiddenUnits; i < itemIds.size; i++) itemIds.data[i] += 0.5;
    };
    // in training mode every call computes the item tower
    const training = net.scoreAll(batch);
    nudge();
    assert.notDeepEqual(net.scoreAll(batch), training, `bag ${historyBag}: training-mode scores follow the weights`);
    // in evaluation mode the first call's item vectors are kept …
    net.eval();
    const kept = net.scoreAll(batch);
    nudge();
    assert.deepEqual(net.scoreAll(batch), kept, `bag ${historyBag}: the kept vectors are used`);
    // … until train() or loadStateDict
    net.train();
    net.eval();
    const fresh = net.scoreAll(batch);
    assert.notDeepEqual(fresh, kept, `bag ${historyBag}: train() drops the kept vectors`);
    const state = net.stateDict();
    const copy = new Map([...state].map(([k, v]) => [k, { shape: v.shape, data: v.data.slice() }]));
    copy.get('item_ids')!.data.fill(0.1, CONFIG.hiddenUnits);
    net.loadStateDict(copy);
    assert.notDeepEqual(net.scoreAll(batch), fresh, `bag ${historyBag}: loadStateDict drops the kept vectors`);
    // and the kept vectors score as computed ones do
    const reference = new TwoTower(CONFIG, FEATURES, [4], { seed: 2 }, false, 0, historyBag);
    reference.loadStateDict(copy);
    assert.deepEqual(net.scoreAll(batch), reference.scoreAll(batch));
  }
});

test('--tower_ids: a tower without id embeddings reads its features (and the history bag) alone; a tower with nothing to read is refused; the file loads without the id table', async () => {
  const net = new TwoTower(CONFIG, FEATURES, [4], { seed: 2 }, false, 0, false, 'items');
  const names = net.namedParameters().map(([n]) => n);
  assert.ok(!names.includes('user_ids') && names.includes('item_ids'), names.join(', '));
  // users 1 and 3 share feature 0; with no id embeddings, users with the same feature rows score alike
  const twins: ModelFeatures = { ...FEATURES, users: featureRows(2, [[], [[0, 1]], [[1, 1]], [[0, 1]]]) };
  const plain = new TwoTower(CONFIG, twins, [4], { seed: 2 }, false, 0, false, 'items');
  const batch = { batchSize: 2, maxlen: 3, users: Int32Array.from([1, 3]), seqs: Int32Array.from([0, 0, 1, 0, 0, 1]) };
  const s = plain.scoreAll(batch);
  const n = CONFIG.itemNum + 1;
  assert.deepEqual(Array.from(s.subarray(0, n)), Array.from(s.subarray(n, 2 * n)));
  const withIds = new TwoTower(CONFIG, twins, [4], { seed: 2 });
  const t = withIds.scoreAll(batch);
  assert.notDeepEqual(Array.from(t.subarray(0, n)), Array.from(t.subarray(n, 2 * n)), 'with ids they differ');
  assert.throws(
    () => new TwoTower(CONFIG, { items: FEATURES.items }, [4], { seed: 2 }, false, 0, false, 'items'),
    (e: Error) => e.name === 'UserError' && /the user tower reads nothing/.test(e.message),
  );

  // the user tower from the history bag alone: strangers ranked by their history; the file has no user_ids table
  const { data, strangers, pop } = await tastesWithStrangers();
  const model = await train(data, {
    model: 'two_tower',
    historyBag: true,
    towerIds: 'items',
    numEpochs: 40,
    evalEvery: 40,
    lr: 0.01,
    batchSize: 16,
    evalProtocol: 'full',
    seed: 1,
  });
  try {
    const unknown = await testNdcg(model, strangers);
    assert.ok(unknown > pop + 0.3, `two_tower --tower_ids items --history_bag on users it never saw: ${unknown}, PopRec ${pop}`);
    const back = await getModel('two_tower')!.load(model.serialize());
    assert.equal(await testNdcg(back, strangers), unknown, 'the file keeps --tower_ids and loads without user_ids');
    back.dispose();
  } finally {
    model.dispose();
  }
});

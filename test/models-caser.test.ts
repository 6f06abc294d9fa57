/**
 * Caser's training examples and network: the window sampler (every window once per pass, its targets
 * and negatives, exact resume); the windows and (window, target) pairs the network reads from a batch;
 * its loss and scores against a direct implementation of the paper's equations; gradient checks of the
 * loss (every parameter, dropout with fixed masks, the L2 term); the unknown user scored as the mean
 * user; only the last L items count; its model file round-trips; and it trains on sampler batches on
 * both kernel backends alike.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UserError } from '../src/core/errors.js';
import type { Split } from '../src/data/types.js';
import { Rng } from '../src/engine/rng.js';
import { serializeSafetensors } from '../src/engine/safetensors.js';
import { getTape, setTape, Tape } from '../src/engine/tape.js';
import { referenceKernels, setKernels } from '../src/kernels/index.js';
import { createWasmKernelsSync } from '../src/kernels/wasm/index.js';
import { Caser, type CaserBatch, type CaserConfig } from '../src/models/caser/caser.js';
import { caserMetadata } from '../src/models/caser/checkpoint.js';
import { caser } from '../src/models/caser/spec.js';
import { CaserWindows, WindowSampler } from '../src/models/caser/windows.js';
import { NetworkModel } from '../src/models/common/network-model.js';
import { detectModel } from '../src/models/registry.js';
import { Adam } from '../src/optim/adam.js';
import { trainStep } from '../src/learn/step.js';
import { gradCheck } from './helpers/gradcheck.js';
import { DEFAULT_TRAINING_RECORD } from '../src/models/contract.js';

const tiny: CaserConfig = { itemNum: 7, userNum: 3, L: 3, T: 2, hiddenUnits: 4, nV: 2, nH: 2, dropoutRate: 0, l2: 0, negSamples: 2 };

/**
 * Four windows (L 3, T 2, K 2: rows of L + T − 1 = 4): user 2's sequence 4 5 6 7 at t = 0, 1, 2 (rows
 * 0, 1, 3; the last has one target) and user 1's 1 2 3 4 5 6 at t = 2 (row 2). Negative slot s of
 * position i of row b is item 1 + (4b + i + s) mod 7 where that position has a target, else 0.
 */
function handBatch(): CaserBatch {
  const R = 4;
  const pos = Int32Array.from([0, 0, 5, 6, 0, 0, 6, 7, 0, 0, 4, 5, 0, 0, 7, 0]);
  const neg = new Int32Array(4 * R * 2);
  for (let p = 0; p < 4 * R; p++) if (pos[p] !== 0) for (let s = 0; s < 2; s++) neg[p * 2 + s] = 1 + ((p + s) % 7);
  return {
    batchSize: 4,
    maxlen: R,
    users: Int32Array.of(2, 2, 1, 2),
    seqs: Int32Array.from([0, 0, 4, 5, 0, 4, 5, 6, 1, 2, 3, 4, 4, 5, 6, 7]),
    pos,
    neg,
    negatives: 2,
  };
}

/** handBatch's negatives of the target at position i of row b */
const handNegs = (b: number, i: number) => [0, 1].map((s) => 1 + ((4 * b + i + s) % 7));

test('windows of a batch: the first L items of each row and its user; a pair per target with its K negatives', () => {
  const w = new CaserWindows(3).fromTrainBatch(handBatch(), 2, 2);
  assert.equal(w.count, 4);
  assert.deepEqual([...w.items], [0, 0, 4, 0, 4, 5, 1, 2, 3, 4, 5, 6]);
  assert.deepEqual([...w.users], [2, 2, 1, 2]);
  assert.equal(w.pairs, 7);
  assert.deepEqual([...w.pairWindow], [0, 0, 1, 1, 2, 2, 3]);
  assert.deepEqual([...w.pairPos], [5, 6, 6, 7, 4, 5, 7]);
  const at: Array<[number, number]> = [
    [0, 2],
    [0, 3],
    [1, 2],
    [1, 3],
    [2, 2],
    [2, 3],
    [3, 2],
  ];
  assert.deepEqual(
    [...w.pairNeg],
    at.flatMap(([b, i]) => handNegs(b, i)),
  );
  // another row length (T) or negative count is refused
  assert.throws(() => new CaserWindows(3).fromTrainBatch(handBatch(), 3, 2), /rows of L \+ T − 1 = 5 items, got 4/);
  assert.throws(() => new CaserWindows(3).fromTrainBatch(handBatch(), 2, 1), /1 negatives per target, got 2/);
  // histories: the last L items of each row (left-padded when shorter), users outside 1..U are unknown
  const h = new CaserWindows(3).fromHistories(
    { batchSize: 3, users: Int32Array.of(1, 9, 0), seqs: Int32Array.from([5, 6, 7, 1, 0, 0, 0, 2, 0, 0, 0, 3]) },
    3,
  );
  assert.deepEqual([...h.items], [6, 7, 1, 0, 0, 2, 0, 0, 3]);
  assert.deepEqual([...h.users], [1, 0, 0]);
});

const ids = (n: number) => ({ toIndex: new Map<string, number>(), toRaw: Array.from({ length: n + 1 }, (_, i) => (i ? String(i) : '')) });

function splitOf(train: Int32Array[], itemNum: number): Split {
  const userNum = train.length - 1;
  return {
    data: { userNum, itemNum, seqs: train, users: ids(userNum), items: ids(itemNum) },
    train,
    valid: new Int32Array(userNum + 1),
    test: new Int32Array(userNum + 1),
  } as Split;
}

/** Window t of sequence s as a batch row (L 3, T 2): its items and the one after each, then the target items. */
function expectedRow(user: number, s: number[], t: number): string {
  const at = (k: number) => (k >= 0 && k < s.length ? s[k] : 0);
  const seqs = [0, 1, 2, 3].map((i) => at(t - 2 + i));
  const pos = [0, 1, 2, 3].map((i) => (i >= 2 ? at(t - 2 + i + 1) : 0));
  return `${user}: ${seqs.join(' ')} → ${pos.join(' ')}`;
}

test('WindowSampler: every window of every user once per pass, shuffled anew each pass, negatives outside the user’s train items', () => {
  const seqs = [[], [1, 2, 3, 4, 5, 6], [4, 5, 6, 7], [3], [2, 7]];
  const split = splitOf(
    seqs.map((s) => Int32Array.from(s)),
    9,
  );
  const sampler = new WindowSampler(split, { batchSize: 4, L: 3, T: 2, negatives: 2, rng: new Rng(1) });
  // 5 + 3 + 0 + 1 windows; user 3 (one item) has none
  assert.equal(sampler.windows, 9);
  assert.equal(sampler.batchesPerEpoch, 3);
  const want = seqs.flatMap((s, u) => Array.from({ length: Math.max(0, s.length - 1) }, (_, t) => expectedRow(u, s, t))).sort();
  const rows: string[] = [];
  for (let k = 0; k < 9; k++) {
    const b = sampler.nextBatch();
    assert.equal(b.maxlen, 4);
    assert.equal(b.negatives, 2);
    for (let r = 0; r < 4; r++) {
      const u = b.users[r];
      const row = (a: Int32Array) => [...a.subarray(r * 4, r * 4 + 4)];
      rows.push(`${u}: ${row(b.seqs).join(' ')} → ${row(b.pos).join(' ')}`);
      for (let i = 0; i < 4; i++) {
        const negs = [...b.neg.subarray((r * 4 + i) * 2, (r * 4 + i + 1) * 2)];
        if (b.pos[r * 4 + i] === 0) assert.deepEqual(negs, [0, 0]);
        else for (const n of negs) assert.ok(n >= 1 && n <= 9 && !seqs[u].includes(n), `user ${u}: negative ${n}`);
      }
    }
  }
  // 36 rows = 4 passes over the 9 windows
  const passes = [0, 1, 2, 3].map((p) => rows.slice(9 * p, 9 * p + 9));
  for (const pass of passes) assert.deepEqual([...pass].sort(), want);
  assert.ok(
    passes.some((p) => p.join() !== passes[0].join()),
    'each pass has its own order',
  );
  // nothing to train on
  assert.throws(
    () => new WindowSampler(splitOf([new Int32Array(0), Int32Array.of(1)], 3), { batchSize: 2, L: 3, T: 2, negatives: 1, rng: new Rng(1) }),
    UserError,
  );
});

test('WindowSampler: a saved state gives the same batches again (mid-pass and at a pass boundary)', () => {
  const train = [new Int32Array(0)];
  for (let u = 1; u <= 7; u++) train.push(Int32Array.from({ length: 2 + (u % 4) }, (_, t) => 1 + ((3 * u + t) % 11)));
  const split = splitOf(train, 11);
  // 19 windows: batches of 5 leave states inside a pass, batches of 19 only at pass boundaries
  for (const batchSize of [5, 19]) {
    const make = () => new WindowSampler(split, { batchSize, L: 4, T: 3, negatives: 2, rng: new Rng(7) });
    const a = make();
    const states = [];
    const batches = [];
    for (let k = 0; k < 12; k++) {
      states.push(a.getState());
      batches.push(structuredClone(a.nextBatch()));
    }
    for (const k of [1, 4, 7]) {
      const b = make();
      b.setState(states[k]);
      for (let j = k; j < 12; j++) assert.deepEqual(b.nextBatch(), batches[j], `batch size ${batchSize}: from state ${k}, batch ${j}`);
    }
    assert.equal(a.windows, 19);
    for (const k of [1, 4, 7]) assert.equal(states[k].position === 0, batchSize === 19, `state ${k}: position ${states[k].position}`);
  }
});

/** Moves every bias and b' off 0 so that each parameter matters. */
function perturb(model: Caser, seed: number): void {
  const rng = new Rng(seed);
  for (const [name, p] of model.namedParameters()) {
    if (name.endsWith('bias') || name === 'b2.weight') for (let i = 0; i < p.size; i++) p.data[i] += 0.3 * rng.normal();
  }
  // bigger embeddings than the authors' N(0, 1/d²) at d = 4, so that the convolutions' values spread
  for (const p of [model.itemEmbeddings.weight, model.itemEmb.weight]) for (let i = 0; i < p.size; i++) p.data[i] *= 3;
  const d = model.config.hiddenUnits;
  for (let i = d; i < model.userEmbeddings.weight.size; i++) model.userEmbeddings.weight.data[i] = rng.normal();
}

/** x = [z; P_u] of one window by the paper's equations, in float64, from the model's parameters (user 0: the mean user). */
function directFeatures(model: Caser, items: number[], user: number): number[] {
  const { L, hiddenUnits: d, nV, nH } = model.config;
  const p = new Map(model.namedParameters().map(([n, t]) => [n, t.data]));
  const Q = p.get('item_embeddings.weight')!;
  const E = items.map((it) => Array.from({ length: d }, (_, c) => Q[it * d + c]));
  // vertical: õ^k = Σ_l F̃^k_l E_l + b̃^k, filter by filter
  const Fv = p.get('conv_v.weight')!;
  const bv = p.get('conv_v.bias')!;
  const ov: number[] = [];
  for (let k = 0; k < nV; k++) for (let c = 0; c < d; c++) ov.push(E.reduce((s, row, l) => s + Fv[k * L + l] * row[c], bv[k]));
  // horizontal: o^k = max_i ReLU(E_{i:i+h−1} ⊙ F^k + b^k), heights 1..L in order
  const oh: number[] = [];
  for (let h = 1; h <= L; h++) {
    const F = p.get(`conv_h.${h - 1}.weight`)!;
    const b = p.get(`conv_h.${h - 1}.bias`)!;
    for (let k = 0; k < nH; k++) {
      let best = -Infinity;
      for (let i = 0; i + h <= L; i++) {
        let s = b[k];
        for (let r = 0; r < h; r++) for (let c = 0; c < d; c++) s += E[i + r][c] * F[(k * h + r) * d + c];
        best = Math.max(best, Math.max(s, 0));
      }
      oh.push(best);
    }
  }
  const input = [...ov, ...oh];
  const W = p.get('fc1.weight')!;
  const b1 = p.get('fc1.bias')!;
  const z = Array.from({ length: d }, (_, j) =>
    Math.max(
      0,
      input.reduce((s, v, i) => s + W[j * input.length + i] * v, b1[j]),
    ),
  );
  const P = p.get('user_embeddings.weight')!;
  const U = model.config.userNum;
  // the unknown user (0): the mean of users 1..U
  const Pu = (c: number) => (user > 0 ? P[user * d + c] : Array.from({ length: U }, (_, v) => P[(v + 1) * d + c]).reduce((a, b) => a + b) / U);
  return [...z, ...Array.from({ length: d }, (_, c) => Pu(c))];
}

/** y_i = x · W'_i + b'_i */
function directScore(model: Caser, x: number[], item: number): number {
  const W2 = model.itemEmb.weight.data;
  const b2 = model.b2.weight.data;
  return x.reduce((s, v, c) => s + v * W2[item * x.length + c], b2[item]);
}

const softplus = (v: number) => Math.log1p(Math.exp(-Math.abs(v))) + Math.max(v, 0);

test("the loss is the paper's: mean −log σ over the targets + mean −log(1 − σ) over their negatives + (λ/2)·Σθ²", () => {
  const l2 = 0.05;
  const model = new Caser({ ...tiny, l2 }, { seed: 1 });
  perturb(model, 2);
  const batch = handBatch();
  const loss = model.loss(batch).item();
  getTape().reset();
  // the windows of handBatch, written out: (items, user, [target, negatives] per target)
  const K = 2;
  const windows: Array<[number[], number, Array<[number, number[]]>]> = [
    [
      [0, 0, 4],
      2,
      [
        [5, handNegs(0, 2)],
        [6, handNegs(0, 3)],
      ],
    ],
    [
      [0, 4, 5],
      2,
      [
        [6, handNegs(1, 2)],
        [7, handNegs(1, 3)],
      ],
    ],
    [
      [1, 2, 3],
      1,
      [
        [4, handNegs(2, 2)],
        [5, handNegs(2, 3)],
      ],
    ],
    [[4, 5, 6], 2, [[7, handNegs(3, 2)]]],
  ];
  let pos = 0;
  let neg = 0;
  let targets = 0;
  for (const [items, user, ts] of windows) {
    const x = directFeatures(model, items, user);
    for (const [t, ns] of ts) {
      pos += softplus(-directScore(model, x, t));
      for (const j of ns) neg += softplus(directScore(model, x, j));
      targets++;
    }
  }
  let sq = 0;
  for (const p of model.parameters()) for (const v of p.data) sq += v * v;
  const want = pos / targets + neg / (targets * K) + (l2 / 2) * sq;
  assert.ok(Math.abs(loss - want) < 1e-5 * Math.abs(want), `loss ${loss}, by the equations ${want}`);
});

test('Caser loss gradient: every parameter (dropout 0.3 with fixed masks, L2 on); the unknown user row gets none, the padding item row does', () => {
  const model = new Caser({ ...tiny, dropoutRate: 0.3, l2: 0.05 }, { seed: 3 });
  perturb(model, 4);
  const batch = handBatch();
  const named = model.namedParameters();
  const state = model.dropoutRng.getState();
  const a = model.loss(batch).item();
  const b = model.loss(batch).item();
  getTape().reset();
  assert.notEqual(a, b, 'dropout fires');
  const res = gradCheck(
    () => model.loss(batch),
    named.map(([, p]) => p),
    { eps: 1e-3, rtol: 2e-2, atol: 1e-3, beforeEach: () => model.dropoutRng.setState(state) },
  );
  assert.equal(res.checked, 242, 'every element of every parameter');
  assert.ok(res.ok, `ratio ${res.worstRatio}: ${named[Number(res.worst.split(' ')[1])][0]} ${res.worst}`);
  const grad = (name: string) => res.analytic[named.findIndex(([n]) => n === name)];
  const d = tiny.hiddenUnits;
  assert.deepEqual([...grad('user_embeddings.weight').subarray(0, d)], [0, 0, 0, 0], 'the unknown user is never trained');
  assert.ok(
    grad('user_embeddings.weight')
      .subarray(d, 3 * d)
      .every((v) => v !== 0),
    'users 1 and 2 are',
  );
  assert.ok(
    grad('item_embeddings.weight')
      .subarray(0, d)
      .some((v) => v !== 0),
    'the padding item is an ordinary row, as the authors',
  );
  for (const name of ['conv_v.weight', 'conv_v.bias', 'conv_h.0.weight', 'conv_h.2.bias', 'fc1.weight', 'W2.weight', 'b2.weight']) {
    assert.ok(
      grad(name).some((v) => v !== 0),
      name,
    );
  }
});

test("scores: [z; P_u]·W'_i + b'_i after the last L items; an unknown user is the mean user; older items do not count", () => {
  const model = new Caser(tiny, { seed: 5 });
  perturb(model, 6);
  const N = tiny.itemNum;
  // histories of the evaluation's maxlen (here 5 > L): known user 3, unknown 0, an id outside 1..U, a short one
  const hist = {
    batchSize: 4,
    maxlen: 5,
    users: Int32Array.of(3, 0, 7, 2),
    seqs: Int32Array.from([1, 2, 3, 4, 5, 6, 7, 1, 2, 3, 6, 7, 1, 2, 3, 0, 0, 0, 0, 6]),
  };
  const scores = model.scoreAll(hist);
  assert.equal(scores.length, 4 * (N + 1));
  assert.equal(model.training, true, 'scoring restores the mode');
  const windows: Array<[number[], number]> = [
    [[3, 4, 5], 3],
    [[1, 2, 3], 0],
    [[1, 2, 3], 0],
    [[0, 0, 6], 2],
  ];
  windows.forEach(([items, user], b) => {
    const x = directFeatures(model, items, user);
    for (let i = 1; i <= N; i++) {
      const s = directScore(model, x, i);
      assert.ok(Math.abs(scores[b * (N + 1) + i] - s) < 1e-5 * (1 + Math.abs(s)), `history ${b} item ${i}: ${scores[b * (N + 1) + i]} vs ${s}`);
    }
  });
  // the unknown user's scores are the known users' mean scores for the same items
  const known = model.scoreAll({
    batchSize: 3,
    maxlen: 5,
    users: Int32Array.of(1, 2, 3),
    seqs: Int32Array.from([6, 7, 1, 2, 3, 6, 7, 1, 2, 3, 6, 7, 1, 2, 3]),
  });
  for (let i = 0; i <= N; i++) {
    const mean = (known[i] + known[N + 1 + i] + known[2 * (N + 1) + i]) / 3;
    assert.ok(Math.abs(scores[N + 1 + i] - mean) < 1e-5 * (1 + Math.abs(mean)), `item ${i}: ${scores[N + 1 + i]} vs the mean ${mean}`);
    assert.equal(scores[2 * (N + 1) + i], scores[N + 1 + i], 'an id outside 1..U is the unknown user');
  }
  // the user matters: user 3 and the unknown user with the same items score differently
  const same = model.scoreAll({ ...hist, batchSize: 1, users: Int32Array.of(0), seqs: hist.seqs.slice(0, 5) });
  assert.ok(same.some((v, i) => Math.abs(v - scores[i]) > 1e-4));
  // items before the last L change nothing
  const older = model.scoreAll({ ...hist, seqs: Int32Array.from([7, 7, 3, 4, 5, 1, 1, 1, 2, 3, 1, 1, 1, 2, 3, 0, 0, 0, 0, 6]) });
  assert.deepEqual(older, scores);
  // candidates: the same scores
  const cand = Int32Array.from([3, 1, 7, 5, 5, 2, 1, 1, 1, 7, 6, 4]);
  const cs = model.scoreCandidates(hist, cand, 3);
  for (const [k, it] of cand.entries()) assert.ok(Math.abs(cs[k] - scores[Math.floor(k / 3) * (N + 1) + it]) < 1e-5);
});

test('the model file: caser_pytorch tensor names, config metadata, the same scores after loading, found by sniffing; a bare state_dict is refused', () => {
  const network = new Caser({ ...tiny, dropoutRate: 0.5, l2: 1e-6 }, { seed: 7 });
  perturb(network, 8);
  const record = { ...DEFAULT_TRAINING_RECORD, batchSize: 16, lr: 0.01, numEpochs: 3 };
  const raw = (prefix: string, n: number) => {
    const m = { toIndex: new Map<string, number>(), toRaw: [''] };
    for (let i = 1; i <= n; i++) {
      m.toIndex.set(`${prefix}${i}`, i);
      m.toRaw.push(`${prefix}${i}`);
    }
    return m;
  };
  const histories = [new Int32Array(0), Int32Array.of(3, 1), Int32Array.of(2), Int32Array.of(4, 5, 6, 7)];
  const model = new NetworkModel('caser', network, caserMetadata(network.config, record), { items: raw('i', 7), users: raw('u', 3), histories });
  const bytes = model.serialize();
  assert.equal(detectModel(bytes), caser);
  const loaded = caser.load(bytes);
  const hist = { batchSize: 2, maxlen: 3, users: Int32Array.of(3, 0), seqs: Int32Array.from([5, 6, 7, 0, 2, 1]) };
  assert.deepEqual(loaded.scorer.scoreAll(hist), network.scoreAll(hist));
  assert.deepEqual(loaded.describe(), {
    model: 'caser',
    item_num: 7,
    user_num: 3,
    maxlen: 3,
    targets: 2,
    hidden_units: 4,
    n_v: 2,
    n_h: 2,
    dropout_rate: 0.5,
    l2: 1e-6,
    neg_samples: 2,
    batch_size: 16,
    lr: 0.01,
    num_epochs: 3,
  });
  assert.deepEqual(loaded.histories, histories);
  const sd = network.stateDict();
  const shapes = Object.fromEntries([...sd].map(([n, t]) => [n, t.shape]));
  assert.deepEqual(shapes, {
    'user_embeddings.weight': [4, 4],
    'item_embeddings.weight': [8, 4],
    'conv_v.weight': [2, 1, 3, 1],
    'conv_v.bias': [2],
    'conv_h.0.weight': [2, 1, 1, 4],
    'conv_h.0.bias': [2],
    'conv_h.1.weight': [2, 1, 2, 4],
    'conv_h.1.bias': [2],
    'conv_h.2.weight': [2, 1, 3, 4],
    'conv_h.2.bias': [2],
    'fc1.weight': [4, 2 * 4 + 2 * 3],
    'fc1.bias': [4],
    'W2.weight': [8, 8],
    'b2.weight': [8, 1],
  });
  const bare = serializeSafetensors(new Map([...sd].map(([n, t]) => [n, { dtype: 'F32' as const, shape: t.shape, data: t.data }])));
  assert.equal(detectModel(bare), caser);
  assert.throws(() => caser.load(bare), /converted caser_pytorch state_dicts are not read/);
});

test('Caser trains on WindowSampler batches on both kernel backends alike', () => {
  // 12 users, each walking a ring of 9 items for 3 + u mod 6 steps
  const train = [new Int32Array(0)];
  for (let u = 1; u <= 12; u++) train.push(Int32Array.from({ length: 3 + (u % 6) }, (_, t) => 1 + ((u + t) % 9)));
  const split = splitOf(train, 9);
  const cfg: CaserConfig = { itemNum: 9, userNum: 12, L: 3, T: 2, hiddenUnits: 6, nV: 2, nH: 3, dropoutRate: 0.2, l2: 1e-4, negSamples: 2 };
  const run = (wasm: boolean) => {
    setKernels(wasm ? createWasmKernelsSync() : referenceKernels);
    const prev = setTape(new Tape());
    try {
      const model = new Caser(cfg, { seed: 9 });
      const sampler = new WindowSampler(split, { batchSize: 16, L: cfg.L, T: cfg.T, negatives: cfg.negSamples, rng: new Rng(10) });
      const adam = new Adam(model.namedParameters(), { lr: 0.01 });
      const losses = Array.from({ length: 30 }, () => trainStep(model, adam, sampler.nextBatch()));
      const hist = { batchSize: 2, maxlen: 3, users: Int32Array.of(4, 0), seqs: Int32Array.from([5, 6, 7, 0, 1, 2]) };
      const scores = Array.from(model.scoreAll(hist));
      model.dispose();
      return { losses, scores };
    } finally {
      setTape(prev);
      setKernels(referenceKernels);
    }
  };
  const ref = run(false);
  const fast = run(true);
  assert.ok(
    ref.losses.slice(-5).reduce((a, b) => a + b) < ref.losses.slice(0, 5).reduce((a, b) => a + b),
    `the loss falls: ${ref.losses.map((l) => l.toFixed(3)).join(' ')}`,
  );
  for (const [i, l] of ref.losses.entries()) assert.ok(Math.abs(l - fast.losses[i]) < 1e-3 * Math.abs(l), `loss ${i}: ${fast.losses[i]} vs ${l}`);
  for (const [i, v] of ref.scores.entries())
    assert.ok(Math.abs(v - fast.scores[i]) < 1e-2 * (1 + Math.abs(v)), `score ${i}: ${fast.scores[i]} vs ${v}`);
});

/**
 * Caser's network: the windows and (window, target) pairs it reads from a sampler batch; its loss and
 * scores against a direct implementation of the paper's equations; gradient checks of the loss (every
 * parameter, dropout with fixed masks, the L2 term); the unknown user; only the last L items count;
 * its model file round-trips; and it trains on real sampler batches on both kernel backends.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TrainSampler } from '../src/data/sampler.js';
import type { Split } from '../src/data/types.js';
import { Rng } from '../src/engine/rng.js';
import { serializeSafetensors } from '../src/engine/safetensors.js';
import { getTape, setTape, Tape } from '../src/engine/tape.js';
import { referenceKernels, setKernels } from '../src/kernels/index.js';
import { createWasmKernelsSync } from '../src/kernels/wasm/index.js';
import { Caser, type CaserBatch, type CaserConfig } from '../src/models/caser/caser.js';
import { caserMetadata } from '../src/models/caser/checkpoint.js';
import { caser, trainingRowLength } from '../src/models/caser/spec.js';
import { CaserWindows } from '../src/models/caser/windows.js';
import { NetworkModel } from '../src/models/common/network-model.js';
import { detectModel } from '../src/models/registry.js';
import { Adam } from '../src/optim/adam.js';
import { trainStep } from '../src/train/step.js';
import { gradCheck } from './helpers/gradcheck.js';

const tiny: CaserConfig = { itemNum: 7, userNum: 3, L: 3, T: 2, hiddenUnits: 4, nV: 2, nH: 2, dropoutRate: 0, l2: 0, negSamples: 2 };

/**
 * Two rows of 5 (L 3, T 2, K 2: 4 negatives per position): row 0 holds 3 items after padding (user 2),
 * row 1 is full (user 1). Negative slot s of position p of row b is item 1 + (b·5 + p + s) mod 7.
 */
function handBatch(): CaserBatch {
  const R = 5;
  const neg = new Int32Array(2 * R * 4);
  for (let b = 0; b < 2; b++) for (let p = 0; p < R; p++) for (let s = 0; s < 4; s++) neg[(b * R + p) * 4 + s] = 1 + ((b * R + p + s) % 7);
  return {
    batchSize: 2,
    maxlen: R,
    users: Int32Array.of(2, 1),
    seqs: Int32Array.from([0, 0, 4, 5, 6, 1, 2, 3, 4, 5]),
    pos: Int32Array.from([0, 0, 5, 6, 7, 2, 3, 4, 5, 6]),
    neg,
    negatives: 4,
  };
}

test('windows: every item position of a row, left-padded with 0; targets the next T inside the row; slot j of each target position', () => {
  const w = new CaserWindows(3).fromTrainBatch(handBatch(), 2, 2);
  // row 0: windows at columns 2, 3, 4; row 1 is full (maybe cut), so its first window ends at column L − 1 = 2
  assert.equal(w.count, 6);
  assert.deepEqual([...w.items], [0, 0, 4, 0, 4, 5, 4, 5, 6, 1, 2, 3, 2, 3, 4, 3, 4, 5]);
  assert.deepEqual([...w.users], [2, 2, 2, 1, 1, 1]);
  // two targets each, but the last window of a row has one (the row ends)
  assert.equal(w.pairs, 10);
  assert.deepEqual([...w.pairWindow], [0, 0, 1, 1, 2, 3, 3, 4, 4, 5]);
  assert.deepEqual([...w.pairPos], [5, 6, 6, 7, 7, 4, 5, 5, 6, 6]);
  // target j of the window at column t is position t + j, its negatives that position's slots 2j, 2j + 1
  const slots = (b: number, p: number, j: number) => [0, 1].map((s) => 1 + ((b * 5 + p + 2 * j + s) % 7));
  const want = [
    [0, 2, 0],
    [0, 3, 1],
    [0, 3, 0],
    [0, 4, 1],
    [0, 4, 0],
    [1, 2, 0],
    [1, 3, 1],
    [1, 3, 0],
    [1, 4, 1],
    [1, 4, 0],
  ].flatMap(([b, p, j]) => slots(b, p, j));
  assert.deepEqual([...w.pairNeg], want);
  // another negative count than T·K is refused
  assert.throws(() => new CaserWindows(3).fromTrainBatch(handBatch(), 2, 1), /4 negatives per position|2 negatives per position/);
  // histories: the last L items of each row (left-padded when shorter), users outside 1..U are unknown
  const h = new CaserWindows(3).fromHistories(
    { batchSize: 3, users: Int32Array.of(1, 9, 0), seqs: Int32Array.from([5, 6, 7, 1, 0, 0, 0, 2, 0, 0, 0, 3]) },
    3,
  );
  assert.deepEqual([...h.items], [6, 7, 1, 0, 0, 2, 0, 0, 3]);
  assert.deepEqual([...h.users], [1, 0, 0]);
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

/** x = [z; P_u] of one window by the paper's equations, in float64, from the model's parameters. */
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
  return [...z, ...Array.from({ length: d }, (_, c) => P[user * d + c])];
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
  const negs = (b: number, p: number, j: number) => [0, 1].map((s) => 1 + ((b * 5 + p + K * j + s) % 7));
  const windows: Array<[number[], number, Array<[number, number[]]>]> = [
    [
      [0, 0, 4],
      2,
      [
        [5, negs(0, 2, 0)],
        [6, negs(0, 3, 1)],
      ],
    ],
    [
      [0, 4, 5],
      2,
      [
        [6, negs(0, 3, 0)],
        [7, negs(0, 4, 1)],
      ],
    ],
    [[4, 5, 6], 2, [[7, negs(0, 4, 0)]]],
    [
      [1, 2, 3],
      1,
      [
        [4, negs(1, 2, 0)],
        [5, negs(1, 3, 1)],
      ],
    ],
    [
      [2, 3, 4],
      1,
      [
        [5, negs(1, 3, 0)],
        [6, negs(1, 4, 1)],
      ],
    ],
    [[3, 4, 5], 1, [[6, negs(1, 4, 0)]]],
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

test("scores: [z; P_u]·W'_i + b'_i after the last L items; unknown users score from the items alone; older items do not count", () => {
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
    if (user === 0) assert.deepEqual(x.slice(tiny.hiddenUnits), [0, 0, 0, 0]);
    for (let i = 1; i <= N; i++) {
      const s = directScore(model, x, i);
      assert.ok(Math.abs(scores[b * (N + 1) + i] - s) < 1e-5 * (1 + Math.abs(s)), `history ${b} item ${i}: ${scores[b * (N + 1) + i]} vs ${s}`);
    }
  });
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
  const record = { batchSize: 16, lr: 0.01, numEpochs: 3 };
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

test('Caser trains on real sampler batches (rows as long as the longest train sequence) on both kernel backends alike', () => {
  // 12 users, each walking a ring of 9 items for 3 + u mod 6 steps
  const train = [new Int32Array(0)];
  for (let u = 1; u <= 12; u++) train.push(Int32Array.from({ length: 3 + (u % 6) }, (_, t) => 1 + ((u + t) % 9)));
  const ids = (n: number) => ({ toIndex: new Map<string, number>(), toRaw: Array.from({ length: n + 1 }, (_, i) => (i ? String(i) : '')) });
  const split = {
    data: { userNum: 12, itemNum: 9, seqs: train, users: ids(12), items: ids(9) },
    train,
    valid: new Int32Array(13),
    test: new Int32Array(13),
  } as Split;
  assert.equal(trainingRowLength(split), 8);
  const cfg: CaserConfig = { itemNum: 9, userNum: 12, L: 3, T: 2, hiddenUnits: 6, nV: 2, nH: 3, dropoutRate: 0.2, l2: 1e-4, negSamples: 2 };
  const run = (wasm: boolean) => {
    setKernels(wasm ? createWasmKernelsSync() : referenceKernels);
    const prev = setTape(new Tape());
    try {
      const model = new Caser(cfg, { seed: 9 });
      const sampler = new TrainSampler(split, { batchSize: 5, maxlen: trainingRowLength(split), seed: 10, negatives: cfg.T * cfg.negSamples });
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

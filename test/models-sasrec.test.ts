/** Initialisation, Adam, state dicts, the Scorer interface and training behaviour of SASRec. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fans } from '../src/engine/init.js';
import { Rng } from '../src/engine/rng.js';
import { Parameter } from '../src/engine/tensor.js';
import { SASRec, type SASRecConfig } from '../src/models/sasrec/sasrec.js';
import { Adam } from '../src/optim/adam.js';
import { trainStep } from '../src/learn/step.js';

const small: SASRecConfig = { itemNum: 30, maxlen: 6, hiddenUnits: 8, numBlocks: 2, numHeads: 2, dropoutRate: 0.2 };

function std(a: Float32Array): number {
  let s = 0;
  let ss = 0;
  for (const x of a) {
    s += x;
    ss += x * x;
  }
  const m = s / a.length;
  return Math.sqrt(ss / a.length - m * m);
}

test('fans follow PyTorch (Conv1d [d, d, 1]: d and d; in_proj [3d, d]: d and 3d)', () => {
  assert.deepEqual(fans([8, 8, 1]), { fanIn: 8, fanOut: 8 });
  assert.deepEqual(fans([24, 8]), { fanIn: 8, fanOut: 24 });
  assert.throws(() => fans([8]));
});

test('parameter names and shapes are the reference state_dict keys', () => {
  const m = new SASRec({ ...small, numBlocks: 1 });
  const shapes = Object.fromEntries(m.namedParameters().map(([n, p]) => [n, p.shape.join('x')]));
  assert.deepEqual(shapes, {
    'item_emb.weight': '31x8',
    'pos_emb.weight': '7x8',
    'attention_layernorms.0.weight': '8',
    'attention_layernorms.0.bias': '8',
    'attention_layers.0.in_proj_weight': '24x8',
    'attention_layers.0.in_proj_bias': '24',
    'attention_layers.0.out_proj.weight': '8x8',
    'attention_layers.0.out_proj.bias': '8',
    'forward_layernorms.0.weight': '8',
    'forward_layernorms.0.bias': '8',
    'forward_layers.0.conv1.weight': '8x8x1',
    'forward_layers.0.conv1.bias': '8',
    'forward_layers.0.conv2.weight': '8x8x1',
    'forward_layers.0.conv2.bias': '8',
    'last_layernorm.weight': '8',
    'last_layernorm.bias': '8',
  });
});

test('initialisation as the reference trainer: xavier-normal ≥2-D, 1-D defaults, zero padding rows', () => {
  const d = 64;
  const m = new SASRec({ itemNum: 2000, maxlen: 50, hiddenUnits: d, numBlocks: 1, numHeads: 1, dropoutRate: 0.5 }, { seed: 1 });
  const P = Object.fromEntries(m.namedParameters());
  // std = sqrt(2 / (fan_in + fan_out))
  const expectStd = (name: string, fanIn: number, fanOut: number) => {
    const s = std(P[name].data);
    const want = Math.sqrt(2 / (fanIn + fanOut));
    assert.ok(Math.abs(s / want - 1) < 0.05, `${name}: std ${s}, want ${want}`);
  };
  expectStd('item_emb.weight', d, 2001);
  expectStd('attention_layers.0.in_proj_weight', d, 3 * d);
  expectStd('attention_layers.0.out_proj.weight', d, d);
  expectStd('forward_layers.0.conv1.weight', d, d);
  for (const e of ['item_emb.weight', 'pos_emb.weight']) assert.ok(P[e].data.subarray(0, d).every((x) => x === 0));
  assert.ok(P['attention_layernorms.0.weight'].data.every((x) => x === 1));
  assert.ok(P['last_layernorm.bias'].data.every((x) => x === 0));
  assert.ok(P['attention_layers.0.in_proj_bias'].data.every((x) => x === 0));
  assert.ok(P['attention_layers.0.out_proj.bias'].data.every((x) => x === 0));
  // conv biases keep U(−1/sqrt(d), 1/sqrt(d))
  const cb = P['forward_layers.0.conv1.bias'].data;
  assert.ok(cb.every((x) => Math.abs(x) <= 1 / Math.sqrt(d)) && std(cb) > 0.3 / Math.sqrt(d));
  // a seed fixes the initialisation
  const again = new SASRec({ itemNum: 2000, maxlen: 50, hiddenUnits: d, numBlocks: 1, numHeads: 1, dropoutRate: 0.5 }, { seed: 1 });
  assert.deepEqual(again.itemEmb.weight.data, m.itemEmb.weight.data);
});

test('Adam matches a hand-written PyTorch update over several steps, and state round-trips', () => {
  const p = new Parameter(Float32Array.from([0.5, -0.3, 0]), [3]);
  const grads = [
    [0.1, -0.2, 0],
    [0.3, 0.1, 0],
    [-0.05, 0.2, 0],
  ];
  const adam = new Adam([['w', p] as const], { lr: 0.01, betas: [0.9, 0.98], eps: 1e-8 });
  const ref = { p: [0.5, -0.3, 0], m: [0, 0, 0], v: [0, 0, 0] };
  grads.forEach((g, t) => {
    p.grad = Float32Array.from(g);
    adam.step();
    const step = t + 1;
    for (let i = 0; i < 3; i++) {
      ref.m[i] = 0.9 * ref.m[i] + 0.1 * g[i];
      ref.v[i] = 0.98 * ref.v[i] + 0.02 * g[i] * g[i];
      const mh = ref.m[i] / (1 - 0.9 ** step);
      const denom = Math.sqrt(ref.v[i]) / Math.sqrt(1 - 0.98 ** step) + 1e-8;
      ref.p[i] -= (0.01 * mh) / denom;
      assert.ok(Math.abs(p.data[i] - ref.p[i]) < 1e-6, `step ${step} element ${i}`);
    }
  });
  assert.equal(p.data[2], 0); // zero gradient, zero moments: no movement
  // resume: a copy of the state continues identically
  const st = adam.getState();
  const q = new Parameter(p.data.slice(), [3]);
  const adam2 = new Adam([['w', q] as const], { lr: 0.01 });
  adam2.setState({ ...st, buffers: { exp_avg: st.buffers.exp_avg.map((a) => a.slice()), exp_avg_sq: st.buffers.exp_avg_sq.map((a) => a.slice()) } });
  p.grad = Float32Array.from([0.2, 0.2, 0.2]);
  q.grad = Float32Array.from([0.2, 0.2, 0.2]);
  adam.step();
  adam2.step();
  assert.deepEqual(q.data, p.data);
  assert.throws(() => adam2.setState({ ...st, names: ['other'] }), /no state/);
});

test('loadStateDict copies by name and rejects missing, extra and mis-shaped keys', () => {
  const a = new SASRec(small, { seed: 1 });
  const b = new SASRec(small, { seed: 2 });
  assert.notDeepEqual(a.itemEmb.weight.data, b.itemEmb.weight.data);
  b.loadStateDict(a.stateDict());
  for (const [[n, pa], [, pb]] of a.namedParameters().map((x, i) => [x, b.namedParameters()[i]] as const)) {
    assert.deepEqual(pb.data, pa.data, n);
  }
  const sd = a.stateDict();
  const missing = new Map(sd);
  missing.delete('last_layernorm.bias');
  assert.throws(() => b.loadStateDict(missing), /missing "last_layernorm.bias"/);
  const extra = new Map(sd).set('user_emb.weight', { shape: [1], data: new Float32Array(1) });
  assert.throws(() => b.loadStateDict(extra), /unexpected "user_emb.weight"/);
  const bad = new Map(sd).set('forward_layers.0.conv1.weight', { shape: [8, 8], data: new Float32Array(64) });
  assert.throws(() => b.loadStateDict(bad), /conv1.weight": shape \[8, 8\] but the model has \[8, 8, 1\]/);
});

function batchOf(rng: Rng, B: number, L: number, itemNum: number) {
  const seqs = new Int32Array(B * L);
  const pos = new Int32Array(B * L);
  const neg = new Int32Array(B * L);
  for (let b = 0; b < B; b++) {
    const n = 1 + rng.nextInt(L);
    for (let t = L - n; t < L; t++) {
      seqs[b * L + t] = 1 + rng.nextInt(itemNum);
      pos[b * L + t] = 1 + rng.nextInt(itemNum);
      neg[b * L + t] = 1 + rng.nextInt(itemNum);
    }
  }
  return { batchSize: B, maxlen: L, users: new Int32Array(B), seqs, pos, neg };
}

test('Scorer: eval mode is deterministic, scoreCandidates agrees with scoreAll and predict', () => {
  const m = new SASRec(small, { seed: 3 });
  const rng = new Rng(4);
  const batch = batchOf(rng, 4, small.maxlen, small.itemNum);
  const C = 5;
  const cands = new Int32Array(4 * C);
  for (let i = 0; i < cands.length; i++) cands[i] = 1 + rng.nextInt(small.itemNum);
  const s1 = m.scoreCandidates(batch, cands, C);
  const s2 = m.scoreCandidates(batch, cands, C);
  assert.deepEqual(s1, s2);
  assert.equal(m.training, true); // mode restored
  const all = m.scoreAll(batch);
  assert.equal(all.length, 4 * (small.itemNum + 1));
  for (let b = 0; b < 4; b++) {
    for (let c = 0; c < C; c++) {
      const want = all[b * (small.itemNum + 1) + cands[b * C + c]];
      assert.ok(Math.abs(s1[b * C + c] - want) < 1e-5 * (1 + Math.abs(want)));
    }
  }
  // in training mode predict sees dropout (differs from eval)
  const t = m.predict(batch.seqs, 4, cands, C);
  assert.notDeepEqual(t, s1);
  m.eval();
  assert.deepEqual(m.predict(batch.seqs, 4, cands, C), s1);
});

test('training on a fixed batch lowers the loss (with dropout and l2)', () => {
  const m = new SASRec({ ...small, l2Emb: 1e-4 }, { seed: 5 });
  const adam = new Adam(m.namedParameters(), { lr: 0.01 });
  const batch = batchOf(new Rng(6), 8, small.maxlen, small.itemNum);
  const first = trainStep(m, adam, batch);
  let last = first;
  for (let i = 0; i < 30; i++) last = trainStep(m, adam, batch);
  assert.ok(Number.isFinite(first) && last < first * 0.7, `loss ${first} → ${last}`);
  assert.ok(
    m.itemEmb.weight.data.subarray(0, small.hiddenUnits).every((x) => x === 0),
    'padding row moved',
  );
});

test('a seeded training run is reproducible', () => {
  const run = () => {
    const m = new SASRec(small, { seed: 9 });
    const adam = new Adam(m.namedParameters());
    const batch = batchOf(new Rng(1), 4, small.maxlen, small.itemNum);
    for (let i = 0; i < 3; i++) trainStep(m, adam, batch);
    return m.lastLayernorm.weight.data.slice();
  };
  assert.deepEqual(run(), run());
});

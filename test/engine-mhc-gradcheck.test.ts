/**
 * Finite-difference checks of mHC: the Sinkhorn-Knopp op alone (the backward differentiates through
 * every iteration), each stream op, one HyperConnection (every parameter), and a tiny SASRec-mHC loss
 * with dropout on (every mHC parameter: φ, gates, biases).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as mhc from '../src/engine/mhc-ops.js';
import * as ops from '../src/engine/ops.js';
import { Rng } from '../src/engine/rng.js';
import { Parameter } from '../src/engine/tensor.js';
import { SASRec } from '../src/models/sasrec/sasrec.js';
import { HyperConnection } from '../src/nn/mhc.js';
import { gradCheck } from './helpers/gradcheck.js';

function param(shape: number[], rng: Rng, scale = 1): Parameter {
  const n = shape.reduce((a, b) => a * b, 1);
  return new Parameter(Float32Array.from({ length: n }, () => scale * rng.normal()), shape);
}

for (const iters of [1, 3, 20]) {
  test(`Sinkhorn-Knopp gradient through ${iters} iteration(s)`, () => {
    const rng = new Rng(iters);
    const logits = param([3, 4, 4], rng);
    const res = gradCheck(([l]) => mhc.sinkhorn(l, iters), [logits], { eps: 1e-2, rtol: 1e-2, atol: 1e-4 });
    assert.equal(res.checked, 48);
    assert.ok(res.ok, `ratio ${res.worstRatio}: ${res.worst}`);
  });
}

test('rmsNorm, gateBias, scaledSigmoid, streamWeightedSum, streamMix gradients', () => {
  const rng = new Rng(1);
  const x = param([5, 6], rng);
  assert.ok(gradCheck(([a]) => mhc.rmsNorm(a, 1e-6), [x], { eps: 1e-2 }).ok);
  const p = param([5, 3], rng);
  const alpha = param([1], rng);
  const b = param([3], rng);
  const g = gradCheck(([a, s, c]) => mhc.scaledSigmoid(mhc.gateBias(a, s, c), 2), [p, alpha, b], { eps: 1e-2 });
  assert.ok(g.ok, g.worst);
  const streams = param([4, 3, 5], rng);
  const w = param([4, 3], rng);
  const ws = gradCheck(([s, ww]) => mhc.streamWeightedSum(s, ww), [streams, w], { eps: 1e-2 });
  assert.ok(ws.ok, ws.worst);
  const hRes = param([4, 3, 3], rng);
  const hPost = param([4, 3], rng);
  const y = param([4, 5], rng);
  const sm = gradCheck(([s, h, hp, yy]) => mhc.streamMix(s, h, hp, yy), [streams, hRes, hPost, y], { eps: 1e-2 });
  assert.ok(sm.ok, sm.worst);
  const ex = gradCheck(([a]) => mhc.expandStreams(a, 3), [x], { eps: 1e-2 });
  assert.ok(ex.ok, ex.worst);
  const mean = gradCheck(([s]) => mhc.meanStreams(s), [streams], { eps: 1e-2 });
  assert.ok(mean.ok, mean.worst);
});

test('HyperConnection: gradients of every parameter and of the streams', () => {
  const rng = new Rng(2);
  const n = 3;
  const d = 4;
  const hc = new HyperConnection(n, d, { expansionRate: n, sinkhornIter: 8, initGate: 0.7 });
  const named = hc.namedParameters();
  for (const [, p] of named) for (let i = 0; i < p.size; i++) p.data[i] += 0.3 * rng.normal();
  const w = param([d, d], rng, 0.5);
  const x = param([5, n, d], rng);
  const params = [...named.map(([, p]) => p), x];
  const res = gradCheck(() => hc.forward(x, (u) => ops.relu(ops.linear(u, w, null))), params, { eps: 3e-3, rtol: 2e-2, atol: 1e-3 });
  assert.ok(res.ok, `ratio ${res.worstRatio}: ${res.worst}`);
});

test('tiny SASRec-mHC loss gradient, dropout 0.3 (every parameter, mHC ones all elements)', () => {
  const model = new SASRec(
    { itemNum: 12, maxlen: 5, hiddenUnits: 4, numBlocks: 2, numHeads: 2, dropoutRate: 0.3, l2Emb: 0.05, mhc: { expansionRate: 2, sinkhornIter: 6, initGate: 0.5 } },
    { seed: 3, packed: false },
  );
  const batch = {
    batchSize: 3, maxlen: 5,
    seqs: Int32Array.from([0, 0, 3, 4, 5, 1, 2, 3, 4, 5, 0, 0, 0, 0, 7]),
    pos: Int32Array.from([0, 0, 4, 5, 6, 2, 3, 4, 5, 6, 0, 0, 0, 0, 8]),
    neg: Int32Array.from([0, 0, 9, 10, 11, 12, 11, 10, 9, 8, 0, 0, 0, 0, 1]),
  };
  const named = model.namedParameters();
  const init = new Rng(17);
  for (const [name, p] of named) {
    if (p.shape.length === 1 || name.includes('.b_')) for (let i = 0; i < p.size; i++) p.data[i] += 0.2 * init.normal();
  }
  const params = named.map(([, p]) => p);
  const state = model.dropoutRng.getState();
  const res = gradCheck(() => model.loss(batch), params, {
    eps: 3e-3,
    rtol: 2e-2,
    atol: 2e-3,
    beforeEach: () => model.dropoutRng.setState(state),
    skip: (i, e) =>
      ((named[i][0] === 'item_emb.weight' || named[i][0] === 'pos_emb.weight') && e < 4) ||
      // non-mHC tensors: a spread sample of 12 elements each (the SASRec check covers them)
      (!named[i][0].startsWith('mhc_layers.') && e % Math.max(1, Math.floor(named[i][1].size / 12)) !== 0),
  });
  const mhcCount = named.filter(([k]) => k.startsWith('mhc_layers.')).reduce((s, [, p]) => s + p.size, 0);
  assert.ok(res.checked > mhcCount, `checked ${res.checked}`);
  assert.ok(res.ok, `ratio ${res.worstRatio}: ${named[Number(res.worst.split(' ')[1])][0]} ${res.worst}`);
});

test('stream mixes: the wasm backend == the fused reference kernels, forward and backward', async () => {
  const { createWasmKernelsSync } = await import('../src/kernels/wasm/index.js');
  const { getKernels, setKernels } = await import('../src/kernels/index.js');
  const { getTape } = await import('../src/engine/tape.js');
  const rng = new Rng(9);
  const rows = 7;
  const n = 3;
  const d = 5;
  const inputs = [param([rows, n, d], rng), param([rows, n, n], rng), param([rows, n], rng), param([rows, d], rng), param([rows, n], rng)];
  const seed = Float32Array.from({ length: rows * n * d + rows * d }, () => rng.normal());
  const run = () => {
    const tape = getTape();
    tape.reset();
    for (const p of inputs) p.grad = null;
    const [x, h, hp, y, w] = inputs;
    const mixed = mhc.streamMix(x, h, hp, y);
    const summed = mhc.streamWeightedSum(x, w);
    const out = [...mixed.data.subarray(0, mixed.size), ...summed.data.subarray(0, summed.size)];
    tape.backward(mixed, seed.subarray(0, mixed.size));
    const grads1 = inputs.map((p) => (p.grad ? [...p.grad] : []));
    tape.reset();
    for (const p of inputs) p.grad = null;
    const again = mhc.streamWeightedSum(x, w);
    tape.backward(again, seed.subarray(0, again.size));
    const grads2 = inputs.map((p) => (p.grad ? [...p.grad] : []));
    tape.reset();
    return { out, grads1, grads2 };
  };
  const before = getKernels();
  const ref = run();
  let fast: ReturnType<typeof run>;
  const wasm = createWasmKernelsSync();
  setKernels(wasm);
  try {
    fast = run();
  } finally {
    setKernels(before);
  }
  const close = (a: number[], b: number[], what: string) => {
    assert.equal(a.length, b.length, what);
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-5 + 1e-5 * Math.abs(b[i]), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
  };
  close(fast.out, ref.out, 'forward');
  for (const [i, g] of fast.grads1.entries()) close(g, ref.grads1[i], `streamMix grad ${i}`);
  for (const [i, g] of fast.grads2.entries()) close(g, ref.grads2[i], `streamWeightedSum grad ${i}`);
  assert.ok(ref.grads2[0].length > 0 && ref.grads2[4].length > 0);
});

/** Every op's backward against central finite differences (reference kernels). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ops from '../src/engine/ops.js';
import { Rng } from '../src/engine/rng.js';
import { getTape } from '../src/engine/tape.js';
import { Parameter, type Tensor } from '../src/engine/tensor.js';
import { gradCheck, type GradCheckOptions } from './helpers/gradcheck.js';

function param(shape: number[], rng: Rng, scale = 1, awayFromZero = 0): Parameter {
  const n = shape.reduce((a, b) => a * b, 1);
  const p = new Parameter(new Float32Array(n), shape);
  for (let i = 0; i < n; i++) {
    let v = rng.normal() * scale;
    if (Math.abs(v) < awayFromZero) v = v < 0 ? v - awayFromZero : v + awayFromZero;
    p.data[i] = v;
  }
  return p;
}

function check(fn: (p: Parameter[]) => Tensor, inputs: Parameter[], opts?: GradCheckOptions): void {
  const res = gradCheck(fn, inputs, opts);
  assert.ok(res.checked > 0, 'nothing was checked');
  assert.ok(res.ok, `gradient mismatch (ratio ${res.worstRatio.toFixed(3)}): ${res.worst}`);
}

test('the checker rejects a deliberately wrong gradient', () => {
  const rng = new Rng(1);
  const x = param([3, 4], rng);
  // x·2 whose backward claims 2.1
  const wrongScale = (t: Tensor): Tensor => {
    const tape = getTape();
    const out = tape.output(t.shape, t);
    for (let i = 0; i < t.size; i++) out.data[i] = 2 * t.data[i];
    if (out.requiresGrad) {
      tape.record(() => {
        const g = tape.gradOf(t);
        for (let i = 0; i < t.size; i++) g[i] += 2.1 * out.grad![i];
      });
    }
    return out;
  };
  const res = gradCheck(([a]) => wrongScale(a), [x]);
  assert.equal(res.ok, false);
  assert.ok(res.worstRatio > 1);
  // the correct op passes the same check
  assert.ok(gradCheck(([a]) => ops.scale(a, 2), [x]).ok);
});

test('add, scale, mul, reshape', () => {
  const rng = new Rng(2);
  const a = param([4, 5], rng);
  const b = param([4, 5], rng);
  check(([x, y]) => ops.add(x, y), [a, b]);
  check(([x]) => ops.scale(x, -1.7), [a]);
  check(([x, y]) => ops.mul(x, y), [a, b]);
  check(([x, y]) => ops.mul(ops.reshape(x, [20]), ops.reshape(y, [20])), [a, b]);
  // the same tensor used twice: gradients accumulate
  check(([x]) => ops.mul(x, x), [a]);
});

test('addRow: the row added to every row of x, and its gradient (column sums for the row)', () => {
  const rng = new Rng(21);
  const x = param([4, 3], rng);
  const b = param([3], rng);
  const y = ops.addRow(x, b);
  for (let r = 0; r < 4; r++) for (let k = 0; k < 3; k++) assert.equal(y.data[r * 3 + k], Math.fround(x.data[r * 3 + k] + b.data[k]));
  check(([u, v]) => ops.addRow(u, v), [x, b]);
  check(([u, v]) => ops.mul(ops.addRow(u, v), ops.addRow(u, v)), [x, b]);
  assert.throws(() => ops.addRow(x, param([4], rng)), /addRow: \[4\] is not a row of \[4, 3\]/);
});

test('normalizeRows: unit rows times the scale (a zero row stays zero), and its gradient', () => {
  const rng = new Rng(12);
  const x = param([4, 5], rng, 1, 0.1);
  const y = ops.normalizeRows(x, 3);
  for (let r = 0; r < 4; r++) {
    const norm = Math.hypot(...Array.from(y.data.subarray(r * 5, r * 5 + 5)));
    assert.ok(Math.abs(norm - 3) < 1e-5, `row ${r}: ${norm}`);
    for (let k = 0; k < 5; k++) assert.ok(Math.abs(y.data[r * 5 + k] * Math.hypot(...Array.from(x.data.subarray(r * 5, r * 5 + 5))) - 3 * x.data[r * 5 + k]) < 1e-4);
  }
  const zero = new Parameter(new Float32Array(3), [1, 3]);
  assert.deepEqual(Array.from(ops.normalizeRows(zero).data), [0, 0, 0]);
  check(([a]) => ops.normalizeRows(a, 0.7), [x], { eps: 1e-3 });
});

test('relu (inputs away from the kink)', () => {
  const rng = new Rng(3);
  const x = param([6, 7], rng, 1, 0.05);
  check(([t]) => ops.relu(t), [x]);
});

test('dropout with a fixed mask', () => {
  const rng = new Rng(4);
  const x = param([8, 9], rng);
  const drop = new Rng(99);
  const state = drop.getState();
  check(([t]) => ops.dropout(t, 0.3, drop), [x], { beforeEach: () => drop.setState(state) });
  // and it is really dropping: about 30% zeros, survivors scaled by 1/0.7
  drop.setState(state);
  const y = ops.dropout(x, 0.3, drop);
  let zeros = 0;
  for (let i = 0; i < x.size; i++) {
    if (y.data[i] === 0) zeros++;
    else assert.ok(Math.abs(y.data[i] - x.data[i] / 0.7) < 1e-5);
  }
  assert.ok(zeros > 5 && zeros < 40, `${zeros} of ${x.size} dropped`);
  getTape().reset();
});

test('embedding: gather with scale, scatter-add backward, padding row gets no gradient', () => {
  const rng = new Rng(5);
  const w = param([6, 4], rng);
  const idx = Int32Array.from([1, 3, 0, 3, 5, 0, 2]);
  check(([t]) => ops.embedding(t, idx, { scale: 1.5 }), [w]);
  const res = gradCheck(([t]) => ops.embedding(t, idx, { scale: 2, paddingIdx: 0 }), [w], { skip: (_, e) => e < 4 });
  assert.ok(res.ok, res.worst);
  assert.deepEqual([...res.analytic[0].subarray(0, 4)], [0, 0, 0, 0]);
});

test('linear with bias, without bias, and with a Conv1d [out, in, 1] weight', () => {
  const rng = new Rng(6);
  const x = param([5, 4], rng);
  const w = param([3, 4], rng, 0.5);
  const b = param([3], rng);
  check(([t, W, B]) => ops.linear(t, W, B), [x, w, b]);
  check(([t, W]) => ops.linear(t, W, null), [x, w]);
  const conv = param([3, 4, 1], rng, 0.5);
  check(([t, W, B]) => ops.linear(t, W, B), [x, conv, b]);
});

test('layerNorm', () => {
  const rng = new Rng(7);
  const x = param([5, 6], rng);
  const g = param([6], rng, 0.5);
  const b = param([6], rng);
  for (let i = 0; i < 6; i++) g.data[i] += 1;
  check(([t, G, B]) => ops.layerNorm(t, G, B, 1e-8), [x, g, b], { eps: 3e-3 });
});

test('causal attention (packed qkv; 1 and 2 heads; with attention dropout)', () => {
  const rng = new Rng(8);
  const batch = 2;
  const len = 4;
  const qkv = param([batch * len, 12], rng);
  check(([t]) => ops.causalAttentionPacked(t, { batch, len, heads: 1 }), [qkv], { eps: 3e-3 });
  check(([t]) => ops.causalAttentionPacked(t, { batch, len, heads: 2 }), [qkv], { eps: 3e-3 });
  const drop = new Rng(5);
  const state = drop.getState();
  check(([t]) => ops.causalAttentionPacked(t, { batch, len, heads: 2, dropout: 0.3, rng: drop }), [qkv], {
    eps: 3e-3, beforeEach: () => drop.setState(state),
  });
});

test('causal attention is causal: an output row does not depend on later rows', () => {
  const rng = new Rng(9);
  const len = 5;
  const qkv = param([len, 6], rng);
  const res = gradCheck(([t]) => ops.causalAttentionPacked(t, { batch: 1, len, heads: 1 }), [qkv]);
  // gradient of row 0's output only: seed via a projection on row 0
  const tape = getTape();
  tape.reset();
  qkv.grad?.fill(0);
  const y = ops.causalAttentionPacked(qkv, { batch: 1, len, heads: 1 });
  const seed = new Float32Array(y.size);
  seed.fill(1, 0, 2); // row 0, both columns
  tape.backward(y, seed);
  for (let r = 1; r < len; r++) for (let c = 0; c < 6; c++) assert.equal(qkv.grad![r * 6 + c], 0, `row ${r} influenced row 0`);
  tape.reset();
  assert.ok(res.ok, res.worst);
});

test('causal attention (separate q, k, v)', () => {
  const rng = new Rng(10);
  const q = param([6, 4], rng);
  const k = param([6, 4], rng);
  const v = param([6, 4], rng);
  check(([a, b, c]) => ops.causalAttention(a, b, c, { batch: 2, len: 3, heads: 2 }), [q, k, v], { eps: 3e-3 });
});

test('rowDot', () => {
  const rng = new Rng(11);
  const a = param([7, 5], rng);
  const b = param([7, 5], rng);
  check(([x, y]) => ops.rowDot(x, y), [a, b]);
});

test('bceWithLogitsMasked (masked positions get no gradient)', () => {
  const rng = new Rng(12);
  const pos = param([2, 5], rng, 2);
  const neg = param([2, 5], rng, 2);
  const target = Int32Array.from([0, 0, 3, 4, 1, 0, 2, 2, 9, 1]);
  const res = gradCheck(([p, n]) => ops.bceWithLogitsMasked(p, n, target), [pos, neg]);
  assert.ok(res.ok, res.worst);
  for (const g of res.analytic) for (const i of [0, 1, 5]) assert.equal(g[i], 0);
  // value: mean softplus(−pos) + mean softplus(neg) over the 7 unmasked positions
  let s = 0;
  for (let i = 0; i < 10; i++) if (target[i]) s += Math.log1p(Math.exp(-pos.data[i])) + Math.log1p(Math.exp(neg.data[i]));
  const loss = ops.bceWithLogitsMasked(pos, neg, target).item();
  assert.ok(Math.abs(loss - s / 7) < 1e-6);
  getTape().reset();
});

test('sumSquares', () => {
  const rng = new Rng(13);
  const w = param([4, 3], rng);
  check(([t]) => ops.sumSquares(t), [w]);
});

test('a small composite (linear → layerNorm → relu → rowDot) chains gradients correctly', () => {
  const rng = new Rng(14);
  const x = param([4, 6], rng);
  const w = param([6, 6], rng, 0.4);
  const b = param([6], rng, 0.1);
  const g = param([6], rng, 0.2);
  const beta = param([6], rng, 0.2);
  const e = param([4, 6], rng);
  for (let i = 0; i < 6; i++) g.data[i] += 1;
  check(
    ([X, W, B, G, Be, E]) => ops.rowDot(ops.relu(ops.layerNorm(ops.add(X, ops.linear(X, W, B)), G, Be)), E),
    [x, w, b, g, beta, e],
    { eps: 3e-3, rtol: 2e-2 },
  );
});

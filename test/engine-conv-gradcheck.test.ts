/**
 * The convolution ops (engine/conv-ops.ts, Caser's): values against direct float64 formulas, the
 * max-pooling kernel's first-maximum rule, every backward against central finite differences, and the
 * wasm backend (batched GEMMs) against the reference one.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { concatColumns, maxOverTime, verticalConv } from '../src/engine/conv-ops.js';
import * as ops from '../src/engine/ops.js';
import { Rng } from '../src/engine/rng.js';
import { getTape } from '../src/engine/tape.js';
import { Parameter, type Tensor } from '../src/engine/tensor.js';
import { getKernels, referenceKernels, setKernels } from '../src/kernels/index.js';
import { createWasmKernelsSync } from '../src/kernels/wasm/index.js';
import { type GradCheckOptions, gradCheck } from './helpers/gradcheck.js';

function param(shape: number[], rng: Rng, scale = 1): Parameter {
  const n = shape.reduce((a, b) => a * b, 1);
  const p = new Parameter(new Float32Array(n), shape);
  for (let i = 0; i < n; i++) p.data[i] = rng.normal() * scale;
  return p;
}

/** gradCheck that must check every element and pass; the failure names the worst one. */
function check(fn: (inputs: Parameter[]) => Tensor, inputs: Parameter[], opts?: GradCheckOptions): void {
  const res = gradCheck(fn, inputs, opts);
  assert.equal(res.checked, inputs.reduce((n, p) => n + p.size, 0), 'every element checked');
  assert.ok(res.ok, `gradient mismatch (ratio ${res.worstRatio.toFixed(3)}): ${res.worst}`);
}

const close = (a: number, b: number, tol = 1e-5) => Math.abs(a - b) <= tol * (1 + Math.abs(b));

test('verticalConv: out[b, k, c] = Σ_l w[k, l]·x[b, l, c] + bias[k], laid out [batch, n·d]', () => {
  const rng = new Rng(1);
  const B = 3, L = 4, d = 5, n = 2;
  const x = param([B * L, d], rng);
  const w = param([n, 1, L, 1], rng);
  const bias = param([n], rng);
  for (const withBias of [true, false]) {
    const y = verticalConv(x, w, withBias ? bias : null, L);
    assert.deepEqual(y.shape, [B, n * d]);
    for (let b = 0; b < B; b++) {
      for (let k = 0; k < n; k++) {
        for (let c = 0; c < d; c++) {
          let s = withBias ? bias.data[k] : 0;
          for (let l = 0; l < L; l++) s += w.data[k * L + l] * x.data[(b * L + l) * d + c];
          assert.ok(close(y.data[b * n * d + k * d + c], s), `b ${b} k ${k} c ${c}`);
        }
      }
    }
  }
  getTape().reset();
});

test('verticalConv backward (x, weight, bias; and without bias)', () => {
  const rng = new Rng(2);
  const L = 5, d = 3;
  const x = param([4 * L, d], rng);
  const w = param([3, 1, L, 1], rng);
  const b = param([3], rng);
  check(([t, W, B]) => verticalConv(t, W, B, L), [x, w, b]);
  check(([t, W]) => verticalConv(t, W, null, L), [x, w]);
});

test('maxPoolRows kernel: the maximum of each column per block, the first row on a tie, gradient to that row only', () => {
  // 2 blocks of 3 rows × 2 columns
  const x = Float32Array.from([1, 5, 4, 5, 4, -1, /* block 1 */ -3, -2, -3, -7, -4, -2]);
  const out = new Float32Array(4);
  const arg = new Int32Array(4);
  referenceKernels.maxPoolRowsForward(2, 3, 2, x, 0, out, 0, arg, 0);
  assert.deepEqual([...out], [4, 5, -3, -2]);
  assert.deepEqual([...arg], [1, 0, 0, 0]);
  const dx = new Float32Array(12).fill(1);
  referenceKernels.maxPoolRowsBackward(2, 3, 2, Float32Array.from([10, 20, 30, 40]), 0, arg, 0, dx, 0);
  assert.deepEqual([...dx], [1, 21, 11, 1, 1, 1, 31, 41, 1, 1, 1, 1]);
});

test('maxOverTime: [groups·len, n] → [groups, n], and its backward (distinct values)', () => {
  const rng = new Rng(3);
  const x = param([4 * 3, 5], rng);
  const y = maxOverTime(x, 4);
  assert.deepEqual(y.shape, [4, 5]);
  for (let g = 0; g < 4; g++) {
    for (let c = 0; c < 5; c++) {
      const col = [0, 1, 2].map((l) => x.data[(g * 3 + l) * 5 + c]);
      assert.equal(y.data[g * 5 + c], Math.max(...col));
    }
  }
  getTape().reset();
  // a step of 1e-3 never swaps the maximum of normal draws this far apart
  check(([t]) => maxOverTime(t, 4), [x], { eps: 1e-3 });
  // relu then max, as Caser's horizontal convolutions (values away from 0 and from each other)
  check(([t]) => maxOverTime(ops.relu(t), 2), [x], { eps: 1e-3 });
});

test('concatColumns: the parts side by side; gradients split back (a part used twice gets both)', () => {
  const rng = new Rng(4);
  const a = param([3, 2], rng);
  const b = param([3, 4], rng);
  const y = concatColumns([a, b, a]);
  assert.deepEqual(y.shape, [3, 8]);
  for (let r = 0; r < 3; r++) {
    assert.deepEqual([...y.data.subarray(r * 8, r * 8 + 8)], [...a.data.subarray(r * 2, r * 2 + 2), ...b.data.subarray(r * 4, r * 4 + 4), ...a.data.subarray(r * 2, r * 2 + 2)]);
  }
  getTape().reset();
  check(([p, q]) => concatColumns([p, q, p]), [a, b]);
  check(([p, q]) => ops.mul(concatColumns([p, q]), concatColumns([q, p])), [a, b]);
});

test('the wasm backend (batched GEMMs) computes verticalConv and maxOverTime as the reference does', () => {
  const rng = new Rng(5);
  const L = 5, d = 50, n = 4, B = 37;
  const x = param([B * L, d], rng);
  const w = param([n, 1, L, 1], rng);
  const bias = param([n], rng);
  const seed = Float32Array.from({ length: B * n * d }, () => rng.normal());
  const run = () => {
    const tape = getTape();
    tape.reset();
    for (const p of [x, w, bias]) p.grad = null;
    const y = verticalConv(x, w, bias, L);
    const m = maxOverTime(ops.reshape(y, [B * n, d]), B);
    const out = { y: y.data.slice(), m: m.data.slice() };
    tape.backward(y, seed);
    const grads = [x, w, bias].map((p) => p.grad!.slice());
    tape.reset();
    return { ...out, grads };
  };
  const ref = run();
  const previous = getKernels();
  setKernels(createWasmKernelsSync());
  try {
    const fast = run();
    for (const [name, a, b] of [['y', fast.y, ref.y], ['max', fast.m, ref.m], ['dx', fast.grads[0], ref.grads[0]], ['dw', fast.grads[1], ref.grads[1]], ['dbias', fast.grads[2], ref.grads[2]]] as const) {
      for (let i = 0; i < b.length; i++) assert.ok(close(a[i], b[i], 1e-4), `${name}[${i}]: ${a[i]} vs ${b[i]}`);
    }
  } finally {
    getTape().clearPool();
    setKernels(previous);
  }
});

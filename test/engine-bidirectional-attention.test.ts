/**
 * BERT4Rec's ops: exact GELU (values against a float64 erf, gradient against finite differences) and
 * bidirectional multi-head attention with a key-padding mask (against a direct float64 computation,
 * dense and ragged rows, and finite differences with and without attention dropout).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bidirectionalAttention, denseRows, type SequenceRows } from '../src/engine/bidirectional-attention.js';
import * as ops from '../src/engine/ops.js';
import { Rng } from '../src/engine/rng.js';
import { getTape } from '../src/engine/tape.js';
import { Parameter } from '../src/engine/tensor.js';
import { gradCheck } from './helpers/gradcheck.js';

function param(shape: number[], rng: Rng, scale = 1): Parameter {
  const n = shape.reduce((a, b) => a * b, 1);
  const p = new Parameter(new Float32Array(n), shape);
  for (let i = 0; i < n; i++) p.data[i] = rng.normal() * scale;
  return p;
}

/** erf(x) in float64 by its everywhere-convergent series 2/√π·e^(−x²)·Σ 2ⁿx^(2n+1)/(1·3·…·(2n+1)). */
function erf64(x: number): number {
  const a = Math.abs(x);
  if (a > 6) return Math.sign(x);
  let term = a;
  let sum = a;
  for (let n = 1; n < 400 && term > 1e-17 * sum; n++) {
    term *= (2 * a * a) / (2 * n + 1);
    sum += term;
  }
  return Math.sign(x) * ((2 / Math.sqrt(Math.PI)) * Math.exp(-a * a) * sum);
}

/** erfc(a) for a ≥ 0 in float64: 1 − erf below 3, else its continued fraction (no cancellation in the tail). */
function erfc64(a: number): number {
  if (a < 3) return 1 - erf64(a);
  let k = a;
  for (let n = 80; n >= 1; n--) k = a + n / 2 / k;
  return Math.exp(-a * a) / (Math.sqrt(Math.PI) * k);
}

/** Φ(x) in float64, accurate in both tails. */
const cdf64 = (x: number) => (x >= 0 ? 1 - 0.5 * erfc64(x / Math.SQRT2) : 0.5 * erfc64(-x / Math.SQRT2));
const gelu64 = (x: number) => x * cdf64(x);
const geluGrad64 = (x: number) => cdf64(x) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI);

test('GELU is the exact erf-based one (not the tanh approximation), in value and derivative', () => {
  const xs = Float32Array.from({ length: 161 }, (_, i) => -8 + 0.1 * i);
  const x = new Parameter(xs.slice(), [xs.length]);
  const y = ops.gelu(x);
  for (let i = 0; i < xs.length; i++) {
    const want = gelu64(xs[i]);
    assert.ok(Math.abs(y.data[i] - want) <= 2e-7 * Math.abs(want) + 1e-9, `gelu(${xs[i]}) = ${y.data[i]}, want ${want}`);
  }
  // the tanh approximation differs from the exact GELU by about 4e-4 at x = −3: we are not it
  const tanhApprox = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
  const at = xs.findIndex((v) => Math.abs(v + 3) < 1e-6);
  assert.ok(Math.abs(y.data[at] - tanhApprox(-3)) > 3e-4, `${y.data[at]} vs ${tanhApprox(-3)}`);
  // the analytic gradient is GELU's derivative
  getTape().backward(y, new Float32Array(xs.length).fill(1));
  for (let i = 0; i < xs.length; i++) {
    const want = geluGrad64(xs[i]);
    assert.ok(Math.abs(x.grad![i] - want) <= 1e-6 + 1e-6 * Math.abs(want), `gelu'(${xs[i]}) = ${x.grad![i]}, want ${want}`);
  }
  getTape().reset();
});

test('GELU: gradient check', () => {
  const x = param([6, 7], new Rng(3), 2);
  const res = gradCheck(([t]) => ops.gelu(t), [x], { eps: 1e-2 });
  assert.ok(res.ok, res.worst);
});

/**
 * The direct float64 computation: for each sequence and head, softmax over the unmasked keys of
 * q·k/√hd, times v. Rows outside every sequence, and queries without a key, are 0.
 */
function naiveAttention(qkv: Float32Array, rows: number, d: number, heads: number, seqs: SequenceRows, keyMask: Uint8Array | null): Float64Array {
  const out = new Float64Array(rows * d);
  const hd = d / heads;
  for (let s = 0; s < seqs.seqCount; s++) {
    const r0 = seqs.seqStart[s];
    const n = seqs.seqLen[s];
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < n; i++) {
        const scores: number[] = [];
        for (let j = 0; j < n; j++) {
          if (keyMask?.[r0 + j]) continue;
          let dot = 0;
          for (let c = 0; c < hd; c++) dot += qkv[(r0 + i) * 3 * d + h * hd + c] * qkv[(r0 + j) * 3 * d + d + h * hd + c];
          scores.push(dot / Math.sqrt(hd), j);
        }
        if (scores.length === 0) continue;
        let max = -Infinity;
        for (let k = 0; k < scores.length; k += 2) max = Math.max(max, scores[k]);
        let sum = 0;
        for (let k = 0; k < scores.length; k += 2) sum += Math.exp(scores[k] - max);
        for (let k = 0; k < scores.length; k += 2) {
          const w = Math.exp(scores[k] - max) / sum;
          const j = scores[k + 1];
          for (let c = 0; c < hd; c++) out[(r0 + i) * d + h * hd + c] += w * qkv[(r0 + j) * 3 * d + 2 * d + h * hd + c];
        }
      }
    }
  }
  return out;
}

function assertClose(got: Float32Array, want: Float64Array, tol: number, what: string): void {
  assert.equal(got.length, want.length, what);
  for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i] - want[i]) <= tol, `${what}[${i}]: ${got[i]} vs ${want[i]}`);
}

test('bidirectional attention = the direct computation: every key before and after, padding keys left out', () => {
  const rng = new Rng(5);
  const [B, L, d] = [3, 5, 8];
  const qkv = param([B * L, 3 * d], rng);
  // row 0: 2 padding positions; row 1: none; row 2: 4 (one real position)
  const seqs = Int32Array.from([0, 0, 3, 4, 5, 1, 2, 3, 4, 5, 0, 0, 0, 0, 7]);
  const keyMask = Uint8Array.from(seqs, (v) => (v === 0 ? 1 : 0));
  for (const heads of [1, 2, 4]) {
    const y = bidirectionalAttention(qkv, denseRows(B, L), { heads, keyMask });
    assertClose(y.data, naiveAttention(qkv.data, B * L, d, heads, denseRows(B, L), keyMask), 1e-5, `dense, ${heads} heads`);
    getTape().reset();
  }
  // the first real position of row 0 sees the last one: its output moves when only that key moves
  const before = bidirectionalAttention(qkv, denseRows(B, L), { heads: 2, keyMask }).data.slice();
  getTape().reset();
  const last = 4 * 3 * d + d; // row 0, position 4: its key
  const kept = qkv.data[last];
  qkv.data[last] += 1;
  const after = bidirectionalAttention(qkv, denseRows(B, L), { heads: 2, keyMask }).data.slice();
  getTape().reset();
  qkv.data[last] = kept;
  assert.ok(Math.abs(after[2 * d] - before[2 * d]) > 1e-4, 'position 2 depends on position 4 (no causal mask)');
  // a padding key moves nothing
  const pad = 0 * 3 * d + d; // row 0, position 0: a padding key
  const padKept = qkv.data[pad];
  qkv.data[pad] += 10;
  const padMoved = bidirectionalAttention(qkv, denseRows(B, L), { heads: 2, keyMask }).data.slice();
  getTape().reset();
  qkv.data[pad] = padKept;
  for (let i = 2 * d; i < B * L * d; i++) assert.equal(padMoved[i], before[i]);
});

test('ragged rows (padding left out) give the dense outputs at the real rows; a query with no key gets 0', () => {
  const rng = new Rng(6);
  const d = 6;
  const lengths = [3, 5, 1, 0, 2];
  const rows = lengths.reduce((a, b) => a + b, 0) + 1; // + one row in no sequence
  const qkv = param([rows, 3 * d], rng);
  const seqStart = new Int32Array(lengths.length);
  for (let s = 1; s < lengths.length; s++) seqStart[s] = seqStart[s - 1] + lengths[s - 1];
  const seqs = { seqCount: lengths.length, seqStart, seqLen: Int32Array.from(lengths) };
  const y = bidirectionalAttention(qkv, seqs, { heads: 2 });
  assertClose(y.data, naiveAttention(qkv.data, rows, d, 2, seqs, null), 1e-5, 'ragged');
  for (let c = 0; c < d; c++) assert.equal(y.data[(rows - 1) * d + c], 0, 'the row in no sequence');
  getTape().reset();
  // every key of a sequence masked: its queries give 0 (not NaN)
  const allMasked = bidirectionalAttention(qkv, seqs, { heads: 2, keyMask: new Uint8Array(rows).fill(1) });
  assert.ok(allMasked.data.every((v) => v === 0));
  getTape().reset();
});

test('bidirectional attention: gradient check (dense with padding keys, ragged, 1 and 2 heads)', () => {
  const rng = new Rng(7);
  const [B, L, d] = [2, 4, 6];
  const qkv = param([B * L, 3 * d], rng);
  const keyMask = Uint8Array.from([1, 0, 0, 0, 0, 0, 1, 1]); // row 1 not left-padded: masks are per key
  for (const heads of [1, 2]) {
    const res = gradCheck(([t]) => bidirectionalAttention(t, denseRows(B, L), { heads, keyMask }), [qkv], { eps: 3e-3 });
    assert.ok(res.ok, `dense ${heads} heads: ${res.worst}`);
    // padding keys and values get no gradient
    for (const r of [0, 6, 7]) for (let c = d; c < 3 * d; c++) assert.equal(res.analytic[0][r * 3 * d + c], 0);
  }
  const seqs = { seqCount: 2, seqStart: Int32Array.from([0, 3]), seqLen: Int32Array.from([3, 5]) };
  const res = gradCheck(([t]) => bidirectionalAttention(t, seqs, { heads: 2 }), [qkv], { eps: 3e-3 });
  assert.ok(res.ok, `ragged: ${res.worst}`);
});

test('bidirectional attention dropout: a fixed mask passes the gradient check; about p of the weights drop', () => {
  const rng = new Rng(8);
  const [B, L, d] = [2, 5, 4];
  const qkv = param([B * L, 3 * d], rng);
  const keyMask = Uint8Array.from([1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  const drop = new Rng(99);
  const state = drop.getState();
  const opts = { heads: 2, keyMask, dropout: 0.3, rng: drop };
  const res = gradCheck(([t]) => bidirectionalAttention(t, denseRows(B, L), opts), [qkv], { eps: 3e-3, beforeEach: () => drop.setState(state) });
  assert.ok(res.ok, res.worst);
  // dropout fires (another mask, another output) and is off outside training
  drop.setState(state);
  const a = bidirectionalAttention(qkv, denseRows(B, L), opts).data.slice();
  const b = bidirectionalAttention(qkv, denseRows(B, L), opts).data.slice();
  const off = bidirectionalAttention(qkv, denseRows(B, L), { ...opts, training: false }).data.slice();
  const plain = bidirectionalAttention(qkv, denseRows(B, L), { heads: 2, keyMask }).data.slice();
  getTape().reset();
  assert.notDeepEqual(a, b);
  assert.deepEqual(off, plain);
  // one draw per (head, query, unmasked key): 2 heads × (5·3 + 5·5) = 80 draws
  drop.setState(state);
  bidirectionalAttention(qkv, denseRows(B, L), opts);
  getTape().reset();
  const expect = new Rng(0);
  expect.setState(state);
  for (let k = 0; k < 80; k++) expect.nextFloat();
  assert.equal(drop.nextFloat(), expect.nextFloat());
  // with q = k = 0 every weight is 1/4 and v_j = e_j per head, so output column j is key j's weight:
  // 0 when dropped, 0.25/0.7 when kept; about 30% drop
  const u = new Parameter(new Float32Array(4 * 24), [4, 24]);
  for (let j = 0; j < 4; j++) for (const h of [0, 1]) u.data[j * 24 + 16 + h * 4 + j] = 1;
  let zeros = 0;
  for (let k = 0; k < 100; k++) {
    const y = bidirectionalAttention(u, denseRows(1, 4), { heads: 2, dropout: 0.3, rng: drop });
    for (const v of y.data) {
      if (v === 0) zeros++;
      else assert.ok(Math.abs(v - 0.25 / 0.7) < 1e-6, `a kept weight ${v}`);
    }
    getTape().reset();
  }
  assert.ok(Math.abs(zeros / 3200 - 0.3) < 0.03, `${zeros} of 3200 weights dropped`);
});

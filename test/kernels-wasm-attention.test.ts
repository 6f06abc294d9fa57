/**
 * The wasm packed causal attention against the reference kernel on random segment layouts: forward
 * (out, probs, dropped, the dropout state afterwards: identical masks) and backward (accumulated
 * dq, dk, dv), head dims that are and are not multiples of 4, 1–3 heads, segments with and without
 * padding, empty segments, long segments; arrays outside wasm memory fall back to the reference.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWasmKernelsSync, type WasmKernels } from '../src/kernels/wasm/index.js';
import { referenceKernels as ref } from '../src/kernels/reference/index.js';
import { fillRand, rng32 } from './helpers/random.js';
import { segmentLayout, type SegmentLayout } from './helpers/attention-layout.js';
import { testWasmVariants } from './helpers/wasm.js';

function assertClose(got: Float32Array, want: Float32Array, tol: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  // absolute slack of 10% of the largest value: long float32 sums with cancellation (200 keys)
  let scale = 0;
  for (const w of want) scale = Math.max(scale, Math.abs(w));
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= tol * (Math.abs(want[i]) + 0.1 * scale + 1e-6))) {
      assert.fail(`${what}: [${i}] got ${got[i]}, want ${want[i]} (err ${err})`);
    }
  }
}

function runCase(k: WasmKernels, lay: SegmentLayout, heads: number, hd: number, dropP: number, seed: number, inWasm = true): void {
  const r = rng32(seed);
  const d = heads * hd, ld = 3 * d;
  const alloc = (n: number) => (inWasm ? k.alloc(n) : new Float32Array(n));
  const qkv = alloc(lay.rows * ld); fillRand(qkv, r, 1.5);
  const pSize = Math.max(1, heads * lay.tri);
  const label = `segs=${lay.segLen.length} heads=${heads} hd=${hd} p=${dropP} wasm=${inWasm}`;
  const state0 = Uint32Array.from([0x9e3779b9, 0x243f6a88, 0xb7e15162, seed >>> 0 || 7]);

  // forward
  const wProbs = alloc(pSize), wDropped = dropP > 0 ? alloc(pSize) : wProbs, wOut = alloc(lay.rows * d);
  wOut.fill(NaN);
  const rProbs = new Float32Array(pSize), rDropped = dropP > 0 ? new Float32Array(pSize) : rProbs, rOut = new Float32Array(lay.rows * d);
  rOut.fill(NaN);
  const wState = Uint32Array.from(state0), rState = Uint32Array.from(state0);
  k.packedCausalAttentionForward(lay.segLen.length, heads, hd, lay.segStart, lay.segLen, lay.segPad, lay.padRow,
    qkv, 0, qkv, d, qkv, 2 * d, ld, dropP, dropP > 0 ? wState : null, wProbs, 0, wDropped, 0, wOut, 0, d);
  ref.packedCausalAttentionForward(lay.segLen.length, heads, hd, lay.segStart, lay.segLen, lay.segPad, lay.padRow,
    qkv, 0, qkv, d, qkv, 2 * d, ld, dropP, dropP > 0 ? rState : null, rProbs, 0, rDropped, 0, rOut, 0, d);
  assert.deepEqual([...wState], [...rState], `${label}: generator state after the forward`);
  assertClose(wProbs, rProbs, 1e-5, `${label}: probs`);
  if (dropP > 0) {
    for (let i = 0; i < pSize; i++) {
      assert.equal(wDropped[i] === 0, rDropped[i] === 0, `${label}: dropout mask differs at ${i}`);
    }
    assertClose(wDropped, rDropped, 1e-5, `${label}: dropped`);
  }
  assertClose(wOut, rOut, 1e-5, `${label}: out`);

  // backward (from the reference's probabilities, so both see identical inputs), accumulating
  const dOut = alloc(lay.rows * d); fillRand(dOut, r);
  const g0 = new Float32Array(lay.rows * ld); fillRand(g0, r, 0.5);
  const wG = alloc(lay.rows * ld); wG.set(g0);
  const rG = Float32Array.from(g0);
  const bp = alloc(pSize); bp.set(rProbs);
  const bd = dropP > 0 ? alloc(pSize) : bp; if (dropP > 0) bd.set(rDropped);
  k.packedCausalAttentionBackward(lay.segLen.length, heads, hd, lay.segStart, lay.segLen, lay.segPad, lay.padRow,
    qkv, 0, qkv, d, qkv, 2 * d, ld, bp, 0, bd, 0, dOut, 0, d, wG, 0, wG, d, wG, 2 * d, ld);
  ref.packedCausalAttentionBackward(lay.segLen.length, heads, hd, lay.segStart, lay.segLen, lay.segPad, lay.padRow,
    qkv, 0, qkv, d, qkv, 2 * d, ld, rProbs, 0, rDropped, 0, dOut, 0, d, rG, 0, rG, d, rG, 2 * d, ld);
  assertClose(wG, rG, 2e-5, `${label}: dq|dk|dv`);
}

testWasmVariants((variant) => `wasm packed attention (${variant}) matches the reference: edge layouts, head dims, dropout`, (k) => {
  let seed = 1;
  const layouts: [number[], number[]][] = [
    [[1], [0]],
    [[1], [3]],
    [[2, 3], [0, 1]],
    [[5, 0, 4, 6], [2, 7, 3, 0]],
    [[7, 8, 9, 10, 11], [4, 0, 2, 1, 0]],
    [[13, 1, 16, 17], [0, 0, 0, 0]],
    [[50, 23, 49], [0, 27, 1]],
  ];
  for (const [lens, pads] of layouts) {
    const lay = segmentLayout(lens, pads);
    for (const [heads, hd] of [[1, 50], [2, 25], [1, 8], [3, 3], [1, 1], [2, 6]]) {
      for (const p of [0, 0.3]) runCase(k, lay, heads, hd, p, seed++);
    }
  }
});

test('wasm packed attention: long segments (maxlen 200) and many short ones, with dropout', () => {
  const k = createWasmKernelsSync();
  const r = rng32(99);
  const lens: number[] = [], pads: number[] = [];
  for (let b = 0; b < 12; b++) { const n = 1 + Math.floor(r() * 200); lens.push(n); pads.push(200 - n); }
  lens.push(200); pads.push(0);
  runCase(k, segmentLayout(lens, pads), 1, 50, 0.2, 5);
  const short: number[] = [], spad: number[] = [];
  for (let b = 0; b < 60; b++) { const n = Math.floor(r() * 9); short.push(n); spad.push(50 - n); }
  runCase(k, segmentLayout(short, spad), 2, 25, 0.5, 6);
});

test('wasm packed attention: plain arrays fall back to the reference kernel', () => {
  const k = createWasmKernelsSync();
  runCase(k, segmentLayout([4, 6], [2, 0]), 2, 5, 0.5, 11, false);
});

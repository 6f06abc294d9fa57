/**
 * The wasm sampled-softmax kernels against the reference kernels: K around the vector width and the
 * default 256, with and without skipped negatives (a row may skip all of them), large logits (the
 * row maximum taken out), offsets, the plain-array fallback and bad extents.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { referenceKernels as ref } from '../src/kernels/reference/index.js';
import { createWasmKernelsSync, type WasmKernels } from '../src/kernels/wasm/index.js';
import { rng32 } from './helpers/random.js';
import { randomPair, testWasmVariants } from './helpers/wasm.js';

function close(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= tol * (Math.abs(want[i]) + 1))) assert.fail(`${what}: [${i}] got ${got[i]}, want ${want[i]} (err ${err})`);
  }
}

function suite(k: WasmKernels, inWasm: boolean): void {
  const r = rng32(inWasm ? 11 : 12);
  const tag = inWasm ? 'wasm' : 'plain';
  for (const M of [1, 6]) {
    for (const K of [1, 3, 4, 5, 256]) {
      for (const scale of [1, 40]) {
        for (const withSkip of [false, true]) {
          const [pos, pos0] = randomPair(k, M + 1, r, scale, inWasm), [neg, neg0] = randomPair(k, M * K + 2, r, scale, inWasm);
          const skip = withSkip ? Uint8Array.from({ length: M * K }, () => (r() < 0.3 ? 1 : 0)) : null;
          if (skip) skip.fill(1, 0, K); // row 0: every negative skipped, only the positive left
          const what = `${tag} M ${M} K ${K} scale ${scale}${skip ? ' skip' : ''}`;
          const lse = new Float64Array(M), lse0 = new Float64Array(M);
          const total = k.sampledSoftmaxForward(M, K, pos, 1, neg, 2, skip, lse);
          const total0 = ref.sampledSoftmaxForward(M, K, pos0, 1, neg0, 2, skip, lse0);
          close([total], [total0], 1e-5, `${what} loss`);
          close(lse, lse0, 1e-6, `${what} lse`);
          if (skip) assert.ok(Math.abs(lse[0] - pos[1]) < 1e-6, `${what}: a row with every negative skipped has lse = its positive`);
          const [dp, dp0] = randomPair(k, M + 1, r, 1, inWasm), [dn, dn0] = randomPair(k, M * K + 2, r, 1, inWasm);
          k.sampledSoftmaxBackward(M, K, pos, 1, neg, 2, skip, lse, 0.7, dp, 1, dn, 2);
          ref.sampledSoftmaxBackward(M, K, pos0, 1, neg0, 2, skip, lse0, 0.7, dp0, 1, dn0, 2);
          close(dp, dp0, 1e-5, `${what} dPos`);
          close(dn, dn0, 1e-5, `${what} dNeg`);
        }
      }
    }
  }
}

testWasmVariants((variant) => `wasm sampled-softmax kernels (${variant}) match the reference`, (k) => {
  suite(k, true);
});

test('wasm sampled-softmax kernels: plain arrays fall back to the reference', () => {
  suite(createWasmKernelsSync(), false);
});

test('wasm sampled-softmax kernels: out-of-range extents throw', () => {
  const k = createWasmKernelsSync();
  const pos = k.alloc(2), neg = k.alloc(5);
  assert.throws(() => k.sampledSoftmaxForward(2, 3, pos, 0, neg, 0, null, new Float64Array(2)), RangeError);
  assert.throws(() => k.sampledSoftmaxForward(2, 2, pos, 0, neg, 0, new Uint8Array(3), new Float64Array(2)), RangeError);
  assert.throws(() => k.sampledSoftmaxBackward(2, 2, pos, 0, neg, 0, null, new Float64Array(2), 1, pos, 1, neg, 0), RangeError);
});

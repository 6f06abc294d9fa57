import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  createWasmKernels, createWasmKernelsSync, relaxedSimdSupported, type WasmKernels,
} from '../src/kernels/wasm/index.js';
import { referenceKernels } from '../src/kernels/reference/index.js';
import { gemmBatched as gemmBatchedAny } from '../src/kernels/wasm/batched.js';

/** Deterministic uniform(-1, 1) floats. */
function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    out[i] = (s / 4294967296) * 2 - 1;
  }
  return out;
}

/** Naive GEMM with float64 accumulation (independent of src/kernels/reference/gemm.ts). */
function naiveGemm(
  tA: boolean, tB: boolean, M: number, N: number, K: number, alpha: number,
  A: Float32Array, aOff: number, lda: number, B: Float32Array, bOff: number, ldb: number,
  beta: number, C: Float32Array, cOff: number, ldc: number,
): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) {
        const a = tA ? A[aOff + k * lda + i] : A[aOff + i * lda + k];
        const b = tB ? B[bOff + j * ldb + k] : B[bOff + k * ldb + j];
        s += a * b;
      }
      const p = cOff + i * ldc + j;
      C[p] = beta === 0 ? alpha * s : alpha * s + beta * C[p];
    }
  }
}

/** max |x−y| / (|y| + 1e-3·scale) style check with a tolerance relative to the data's magnitude. */
function assertClose(got: Float32Array, want: Float32Array, K: number, what: string): void {
  assert.equal(got.length, want.length);
  // error of a K-term float32 dot product of O(1) values grows ~ sqrt(K)·eps; allow 1e-5 relative
  // to the magnitude of the terms (a sum of K products of values in [-1, 1] has scale sqrt(K)).
  const scale = Math.max(1, Math.sqrt(K));
  for (let i = 0; i < want.length; i++) {
    const g = got[i], w = want[i];
    if (Number.isNaN(w)) { assert.ok(Number.isNaN(g), `${what}: [${i}] want NaN got ${g}`); continue; }
    const err = Math.abs(g - w);
    if (!(err <= 1e-5 * (Math.abs(w) + scale))) {
      assert.fail(`${what}: element ${i}: got ${g}, want ${w} (err ${err})`);
    }
  }
}

interface Case {
  tA: boolean; tB: boolean; M: number; N: number; K: number; alpha: number; beta: number;
  pad: number; off: number; inWasm: boolean;
}

function runCase(k: WasmKernels, c: Case, seed: number): void {
  const { tA, tB, M, N, K, alpha, beta, pad, off, inWasm } = c;
  const lda = (tA ? M : K) + pad;
  const ldb = (tB ? K : N) + pad;
  const ldc = N + pad;
  const aRows = tA ? K : M, bRows = tB ? N : K;
  const aLen = off + aRows * lda + 3, bLen = off + bRows * ldb + 3, cLen = off + M * ldc + 3;
  const a0 = rand(aLen, seed), b0 = rand(bLen, seed + 1), c0 = rand(cLen, seed + 2);
  if (beta === 0) c0.fill(Number.NaN); // beta = 0 must ignore C's old contents, even NaN
  const A = inWasm ? k.alloc(aLen) : new Float32Array(aLen);
  const B = inWasm ? k.alloc(bLen) : new Float32Array(bLen);
  const C = inWasm ? k.alloc(cLen) : new Float32Array(cLen);
  A.set(a0); B.set(b0); C.set(c0);
  const want = Float32Array.from(c0);
  naiveGemm(tA, tB, M, N, K, alpha, a0, off, lda, b0, off, ldb, beta, want, off, ldc);
  k.gemm(tA, tB, M, N, K, alpha, A, off, lda, B, off, ldb, beta, C, off, ldc);
  const label = `${tA ? 'T' : 'N'}${tB ? 'T' : 'N'} M=${M} N=${N} K=${K} α=${alpha} β=${beta} pad=${pad} off=${off} wasm=${inWasm}`;
  // elements outside op(C)'s rows × cols (the padding and the margins) must be untouched
  for (let i = 0; i < cLen; i++) {
    const r = Math.floor((i - off) / ldc), col = (i - off) % ldc;
    const inside = i >= off && r < M && col < N;
    if (!inside && !Object.is(C[i], want[i])) assert.fail(`${label}: wrote outside C at ${i}`);
  }
  assertClose(C, want, K, label);
  assert.deepEqual(A, Float32Array.from(a0), `${label}: A modified`);
  assert.deepEqual(B, Float32Array.from(b0), `${label}: B modified`);
}

const SIZES = [1, 3, 7, 9, 50, 51, 127];

for (const variant of ['simd', 'relaxed-simd'] as const) {
  const supported = variant === 'simd' || relaxedSimdSupported();
  test(`wasm gemm (${variant}) matches a float64 naive GEMM on edge shapes, all transposes`, { skip: !supported && 'relaxed SIMD not enabled in this runtime' }, () => {
    const k = createWasmKernelsSync({ variant });
    assert.equal(k.name, `wasm-${variant}`);
    let seed = 1;
    for (const tA of [false, true]) for (const tB of [false, true]) {
      for (const M of SIZES) for (const N of SIZES) {
        // K: a small, an edge and (now and then) a large value spanning several K blocks
        const Ks = [1, 9, 50, (M * 7 + N) % 3 === 0 ? 600 : 127];
        for (const K of Ks) {
          const m = k.mark();
          runCase(k, { tA, tB, M, N, K, alpha: 1, beta: 0, pad: 0, off: 0, inWasm: true }, seed++);
          k.release(m);
        }
      }
    }
  });

  test(`wasm gemm (${variant}): alpha/beta, offsets, leading dims, arrays in and out of wasm memory`, { skip: !supported && 'relaxed SIMD not enabled in this runtime' }, () => {
    const k = createWasmKernelsSync({ variant });
    let seed = 1000;
    // (253: two row blocks of the A pack, the second with an odd number of slivers; 600 columns: two
    // column blocks of the B pack; K = 300: two K blocks, so beta applies only to the first)
    const shapes: [number, number, number][] = [
      [7, 9, 3], [50, 50, 50], [51, 127, 9], [4, 8, 1], [13, 5, 300], [1, 51, 7], [253, 21, 300], [6, 600, 20],
    ];
    for (const tA of [false, true]) for (const tB of [false, true]) {
      for (const [M, N, K] of shapes) {
        for (const [alpha, beta] of [[1, 1], [0.5, -2], [-1.5, 0], [2, 0.25]]) {
          for (const inWasm of [true, false]) {
            const m = k.mark();
            runCase(k, { tA, tB, M, N, K, alpha, beta, pad: 5, off: 3, inWasm }, seed++);
            k.release(m);
          }
        }
      }
    }
    // alpha = 0 or K = 0: C = beta·C (and beta = 0 clears NaN)
    for (const [alpha, K, beta] of [[0, 5, 0.5], [1, 0, 0], [1, 0, 3]]) {
      runCase(k, { tA: false, tB: true, M: 9, N: 7, K, alpha, beta, pad: 2, off: 1, inWasm: true }, seed++);
      runCase(k, { tA: false, tB: true, M: 9, N: 7, K, alpha, beta, pad: 2, off: 1, inWasm: false }, seed++);
    }
  });
}

test('mixed operands: A and C in wasm memory, B a plain array', () => {
  const k = createWasmKernelsSync();
  const M = 30, N = 20, K = 11;
  const A = k.alloc(M * K); A.set(rand(M * K, 5));
  const B = rand(K * N, 6);
  const C = k.alloc(M * N); C.set(rand(M * N, 7));
  const want = Float32Array.from(C);
  naiveGemm(false, false, M, N, K, 1, A, 0, K, B, 0, N, 0.5, want, 0, N);
  k.gemm(false, false, M, N, K, 1, A, 0, K, B, 0, N, 0.5, C, 0, N);
  assertClose(C, want, K, 'mixed');
});

test('gemmBatched equals a loop of gemm (shared B via stride 0, strided A and C)', () => {
  const k = createWasmKernelsSync();
  for (const inWasm of [true, false]) {
    for (const [tA, tB] of [[false, true], [false, false], [true, false], [true, true]] as const) {
      const batch = 5, M = 9, N = 13, K = 50;
      const lda = (tA ? M : K) + 1, ldb = (tB ? K : N) + 2, ldc = N + 3;
      const sA = (tA ? K : M) * lda + 4, sB = 0, sC = M * ldc + 1;
      const aLen = batch * sA, bLen = (tB ? N : K) * ldb, cLen = batch * sC;
      const A = inWasm ? k.alloc(aLen) : new Float32Array(aLen);
      const B = inWasm ? k.alloc(bLen) : new Float32Array(bLen);
      const C = inWasm ? k.alloc(cLen) : new Float32Array(cLen);
      A.set(rand(aLen, 11)); B.set(rand(bLen, 12)); C.set(rand(cLen, 13));
      const want = Float32Array.from(C);
      for (let t = 0; t < batch; t++) {
        naiveGemm(tA, tB, M, N, K, 0.7, A, t * sA, lda, B, t * sB, ldb, 0.3, want, t * sC, ldc);
      }
      k.gemmBatched(tA, tB, M, N, K, 0.7, A, 0, lda, B, 0, ldb, 0.3, C, 0, ldc, batch, sA, sB, sC);
      assertClose(C, want, K, `batched ${tA}${tB} wasm=${inWasm}`);
    }
  }
});

test('gemmBatched with beta = 0 on a contiguous plain C ignores its old contents', () => {
  const k = createWasmKernelsSync();
  const batch = 3, M = 5, N = 6, K = 4;
  const A = rand(batch * M * K, 1), B = rand(batch * K * N, 2);
  const C = new Float32Array(batch * M * N).fill(Number.NaN);
  const want = new Float32Array(batch * M * N);
  for (let t = 0; t < batch; t++) naiveGemm(false, false, M, N, K, 1, A, t * M * K, K, B, t * K * N, N, 0, want, t * M * N, N);
  k.gemmBatched(false, false, M, N, K, 1, A, 0, K, B, 0, N, 0, C, 0, N, batch, M * K, K * N, M * N);
  assertClose(C, want, K, 'batched beta=0');
});

test('bad arguments throw instead of reading out of bounds', () => {
  const k = createWasmKernelsSync();
  const A = k.alloc(10), B = k.alloc(10), C = k.alloc(10);
  assert.throws(() => k.gemm(false, false, 4, 4, 4, 1, A, 0, 4, B, 0, 4, 0, C, 0, 4), RangeError);
  assert.throws(() => k.gemm(false, false, 2, 2, 3, 1, A, 0, 2, B, 0, 2, 0, C, 0, 2), RangeError); // lda < K
  assert.throws(() => k.gemm(false, false, -1, 2, 2, 1, A, 0, 2, B, 0, 2, 0, C, 0, 2), RangeError);
});

test('alloc: zeroed, 64-byte aligned views into one shared memory; growth keeps old views valid', () => {
  const k = createWasmKernelsSync({ initialMiB: 1, maximumMiB: 256 });
  assert.ok((k.memory.buffer as ArrayBufferLike) instanceof SharedArrayBuffer);
  const first = k.alloc(1000);
  assert.equal(first.buffer, k.memory.buffer);
  assert.equal(first.byteOffset % 64, 0);
  first.fill(3.5);
  const before = k.memory.buffer.byteLength;
  // force several growths
  const big = k.alloc(8 * 2 ** 20 / 4);
  const after = k.memory.buffer.byteLength;
  assert.ok(after > before, 'memory grew');
  assert.equal(big.byteOffset % 64, 0);
  assert.ok(big.every((v) => v === 0));
  // the old view is still attached and sees the same bytes as a fresh view of the grown memory
  assert.equal(first.length, 1000);
  assert.equal(first[999], 3.5);
  const again = new Float32Array(k.memory.buffer, first.byteOffset, 1000);
  again[0] = -1;
  assert.equal(first[0], -1);
  // arrays over the old buffer object are still recognised as wasm memory (zero-copy)
  assert.notEqual(first.buffer, k.memory.buffer);
  assert.ok(k.owns(first));
  assert.ok(!k.owns(new Float32Array(4)));
  // and gemm on them writes in place
  const A = first.subarray(0, 4); A.set([1, 2, 3, 4]);
  const B = first.subarray(16, 20); B.set([1, 0, 0, 1]);
  const C = first.subarray(32, 36);
  k.gemm(false, false, 2, 2, 2, 1, A, 0, 2, B, 0, 2, 0, C, 0, 2);
  assert.deepEqual(Array.from(first.subarray(32, 36)), [1, 2, 3, 4]);
  assert.throws(() => k.alloc(300 * 2 ** 20 / 4), RangeError, 'beyond maximumMiB');
});

test('free / mark / release reuse memory', () => {
  const k = createWasmKernelsSync();
  const a = k.alloc(100);
  const b = k.alloc(100);
  const keep = k.alloc(10);
  a.fill(7);
  k.free(a);
  const c = k.alloc(97); // same rounded size class (400 → 448 bytes → reuses a's block)
  assert.equal(c.byteOffset, a.byteOffset);
  assert.ok(c.every((v) => v === 0), 'alloc zeroes reused memory');
  const m = k.mark();
  const s1 = k.alloc(1000);
  k.alloc(5000).fill(2);
  s1.fill(5);
  k.release(m);
  const s2 = k.alloc(1000);
  assert.equal(s2.byteOffset, s1.byteOffset, 'release rewinds the bump pointer');
  assert.ok(s2.every((v) => v === 0), 'alloc zeroes released memory');
  const s3 = k.alloc(6000); // partly over released (dirty) memory, partly fresh
  assert.ok(s3.every((v) => v === 0), 'alloc zeroes memory that straddles the high-water mark');
  assert.notEqual(b.byteOffset, keep.byteOffset);
  assert.throws(() => k.free(new Float32Array(3)), RangeError);
});

test('freeing the top block lowers the bump pointer through every free block below it, in any free order', () => {
  const k = createWasmKernelsSync();
  const start = k.arena.used;
  const blocks = [100, 30, 500, 7, 64, 1000].map((n) => k.alloc(n));
  const grown = k.arena.used;
  for (const i of [1, 4, 0, 2]) k.free(blocks[i]); // not the top: onto the free lists
  assert.equal(k.arena.used, grown);
  k.free(blocks[5]); // the top: down to blocks[3], the one block still in use
  assert.equal(k.arena.used, blocks[3].byteOffset + 64 - k.arena.base); // 7 floats round up to 64 bytes
  k.free(blocks[3]); // the last one: everything is free again
  assert.equal(k.arena.used, start);
  // the free lists were emptied along the way: the same sizes are bump-allocated again, from the start
  const again = k.alloc(100);
  assert.equal(again.byteOffset, blocks[0].byteOffset);
});

test('falls back to the reference kernels for everything wasm does not implement', async () => {
  const k = await createWasmKernels();
  assert.match(k.name, /^wasm-(relaxed-)?simd$/);
  assert.equal(k.variant === 'relaxed-simd', relaxedSimdSupported());
  for (const key of Object.keys(referenceKernels) as (keyof typeof referenceKernels)[]) {
    assert.equal(typeof k[key], typeof referenceKernels[key], key);
  }
  assert.equal(k.causalAttentionForward, referenceKernels.causalAttentionForward); // (not in wasm yet)
  assert.notEqual(k.timeRelations, referenceKernels.timeRelations);
  assert.notEqual(k.gemm, referenceKernels.gemm);
  // a reference kernel works on wasm-allocated arrays
  const x = k.alloc(8); x.set([1, -2, 3, -4, 5, -6, 7, -8]);
  const y = k.alloc(8);
  k.relu(8, x, 0, y, 0);
  assert.deepEqual(Array.from(y), [1, 0, 3, 0, 5, 0, 7, 0]);
});

test('SASRec shapes: projection, weight gradient and attention (batched) agree with float64', () => {
  const k = createWasmKernelsSync();
  // (i) [2048×50]·[50×50]ᵀ-style projection (NT), weight gradient [50×2048]·[2048×50] (TN)
  const R = 2048, d = 50;
  const X = k.alloc(R * d); X.set(rand(R * d, 21));
  const W = k.alloc(d * d); W.set(rand(d * d, 22));
  const Y = k.alloc(R * d);
  k.gemm(false, true, R, d, d, 1, X, 0, d, W, 0, d, 0, Y, 0, d);
  const want = new Float32Array(R * d);
  naiveGemm(false, true, R, d, d, 1, X, 0, d, W, 0, d, 0, want, 0, d);
  assertClose(Y, want, d, 'projection');
  const G = k.alloc(d * d);
  k.gemm(true, false, d, d, R, 1, X, 0, d, Y, 0, d, 0, G, 0, d);
  const wantG = new Float32Array(d * d);
  naiveGemm(true, false, d, d, R, 1, X, 0, d, Y, 0, d, 0, wantG, 0, d);
  assertClose(G, wantG, R * d, 'weight grad'); // Y's entries are O(sqrt(d))
  // (ii) batched attention scores Q·Kᵀ for 4 sequences of length 200
  const L = 200, nb = 4;
  const Q = k.alloc(nb * L * d); Q.set(rand(nb * L * d, 23));
  const Kt = k.alloc(nb * L * d); Kt.set(rand(nb * L * d, 24));
  const S = k.alloc(nb * L * L);
  k.gemmBatched(false, true, L, L, d, 0.125, Q, 0, d, Kt, 0, d, 0, S, 0, L, nb, L * d, L * d, L * L);
  const wantS = new Float32Array(nb * L * L);
  for (let t = 0; t < nb; t++) naiveGemm(false, true, L, L, d, 0.125, Q, t * L * d, d, Kt, t * L * d, d, 0, wantS, t * L * L, L);
  assertClose(S, wantS, d, 'scores');
});

test('relaxed-SIMD build: same checks in a child process started with --experimental-wasm-relaxed-simd', {
  skip: relaxedSimdSupported() && 'relaxed SIMD is on in this process: covered above',
}, () => {
  const out = execFileSync(process.execPath, [
    '--experimental-wasm-relaxed-simd', '--import', 'tsx', '--test', '--test-reporter=tap',
    '--test-name-pattern=relaxed-simd', fileURLToPath(import.meta.url),
  ], { encoding: 'utf8', env: { ...process.env, NODE_TEST_CONTEXT: undefined } });
  // both relaxed-simd tests ran (not skipped) and passed
  assert.match(out, /^ok \d+ - wasm gemm \(relaxed-simd\) matches[^#\n]*$/m);
  assert.match(out, /^ok \d+ - wasm gemm \(relaxed-simd\): alpha\/beta[^#\n]*$/m);
  assert.match(out, /# fail 0\b/);
});

test('gemmBatched helper: same result through the wasm backend and through the reference loop', () => {
  const k = createWasmKernelsSync();
  const batch = 4, M = 11, N = 50, K = 9;
  const A = rand(batch * M * K, 31), B = rand(K * N, 32);
  const viaWasm = new Float32Array(batch * M * N);
  const viaLoop = new Float32Array(batch * M * N);
  const want = new Float32Array(batch * M * N);
  for (let t = 0; t < batch; t++) naiveGemm(false, false, M, N, K, 2, A, t * M * K, K, B, 0, N, 0, want, t * M * N, N);
  gemmBatchedAny(k, false, false, M, N, K, 2, A, 0, K, B, 0, N, 0, viaWasm, 0, N, batch, M * K, 0, M * N);
  const loopOnly = { ...referenceKernels, gemmBatched: undefined }; // a backend without gemmBatched
  gemmBatchedAny(loopOnly, false, false, M, N, K, 2, A, 0, K, B, 0, N, 0, viaLoop, 0, N, batch, M * K, 0, M * N);
  assertClose(viaWasm, want, K, 'helper via wasm');
  assertClose(viaLoop, want, K, 'helper via loop');
});

/** Reference kernels against direct float64 formulas (the fast backend is tested against these). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { referenceKernels as K } from '../src/kernels/reference/index.js';
import { Rng } from '../src/engine/rng.js';

function rand(n: number, rng: Rng): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

function close(a: number, b: number, tol = 1e-5): boolean {
  return Math.abs(a - b) <= tol * (1 + Math.abs(b));
}

test('gemm: all transpose combinations, offsets, leading dims, alpha and beta', () => {
  const rng = new Rng(1);
  const M = 5, N = 4, K_ = 3;
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      const lda = (transA ? M : K_) + 2;
      const ldb = (transB ? K_ : N) + 1;
      const ldc = N + 3;
      const A = rand(3 + lda * (transA ? K_ : M), rng);
      const B = rand(2 + ldb * (transB ? N : K_), rng);
      const C = rand(1 + ldc * M, rng);
      const C0 = C.slice();
      K.gemm(transA, transB, M, N, K_, 0.5, A, 3, lda, B, 2, ldb, -2, C, 1, ldc);
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          let s = 0;
          for (let k = 0; k < K_; k++) {
            const a = transA ? A[3 + k * lda + i] : A[3 + i * lda + k];
            const b = transB ? B[2 + j * ldb + k] : B[2 + k * ldb + j];
            s += a * b;
          }
          const want = 0.5 * s - 2 * C0[1 + i * ldc + j];
          assert.ok(close(C[1 + i * ldc + j], want), `transA=${transA} transB=${transB} C[${i},${j}]`);
        }
        // padding between rows untouched
        for (let j = N; j < ldc && 1 + i * ldc + j < C.length; j++) assert.equal(C[1 + i * ldc + j], C0[1 + i * ldc + j]);
      }
    }
  }
  // beta = 0 ignores NaN in C
  const C = new Float32Array(4).fill(NaN);
  K.gemm(false, false, 2, 2, 1, 1, Float32Array.from([1, 2]), 0, 1, Float32Array.from([3, 4]), 0, 2, 0, C, 0, 2);
  assert.deepEqual([...C], [3, 4, 6, 8]);
});

test('dropout kernel draws exactly Rng.nextFloat() and advances the state', () => {
  const rng = new Rng(5);
  const copy = new Rng(5);
  const state = Uint32Array.from(rng.getState().slice(0, 4));
  const x = new Float32Array(1000).fill(2);
  const mask = new Float32Array(1000);
  const out = new Float32Array(1000);
  K.dropout(1000, 0.25, state, x, 0, mask, 0, out, 0);
  let dropped = 0;
  for (let i = 0; i < 1000; i++) {
    const keep = copy.nextFloat() >= 0.25;
    assert.equal(mask[i], keep ? Math.fround(1 / 0.75) : 0);
    assert.equal(out[i], Math.fround(2 * mask[i]));
    if (!keep) dropped++;
  }
  assert.ok(dropped > 200 && dropped < 300);
  // the state continues the same stream
  rng.setState(Array.from(state));
  assert.equal(rng.getState()[4], copy.getState()[4]); // no cached normal on either
  assert.equal(rng.nextU32(), copy.nextU32());
});

test('layerNorm forward matches the formula (biased variance, eps inside the sqrt)', () => {
  const rng = new Rng(2);
  const rows = 3, dim = 7;
  const x = rand(rows * dim, rng);
  const g = rand(dim, rng);
  const b = rand(dim, rng);
  const out = new Float32Array(rows * dim);
  const mean = new Float32Array(rows);
  const rstd = new Float32Array(rows);
  K.layerNormForward(rows, dim, x, 0, g, 0, b, 0, 1e-5, out, 0, mean, rstd, 0);
  for (let r = 0; r < rows; r++) {
    const row = [...x.subarray(r * dim, (r + 1) * dim)];
    const mu = row.reduce((s, v) => s + v, 0) / dim;
    const v = row.reduce((s, t) => s + (t - mu) ** 2, 0) / dim;
    for (let k = 0; k < dim; k++) assert.ok(close(out[r * dim + k], ((row[k] - mu) / Math.sqrt(v + 1e-5)) * g[k] + b[k]));
  }
});

test('causal attention forward equals dense masked softmax attention', () => {
  const rng = new Rng(3);
  const batch = 2, len = 4, heads = 2, hd = 3, d = heads * hd;
  const qkv = rand(batch * len * 3 * d, rng);
  const out = new Float32Array(batch * len * d);
  const probs = new Float32Array(batch * heads * len * len).fill(NaN);
  K.causalAttentionForward(batch, len, heads, hd, qkv, 0, qkv, d, qkv, 2 * d, 3 * d, 0, null, probs, 0, probs, 0, out, 0, d);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < len; i++) {
        const q = (t: number, c: number) => qkv[(b * len + t) * 3 * d + h * hd + c];
        const k = (t: number, c: number) => qkv[(b * len + t) * 3 * d + d + h * hd + c];
        const v = (t: number, c: number) => qkv[(b * len + t) * 3 * d + 2 * d + h * hd + c];
        const s = Array.from({ length: len }, (_, j) => {
          if (j > i) return -Infinity;
          let dot = 0;
          for (let c = 0; c < hd; c++) dot += q(i, c) * k(j, c);
          return dot / Math.sqrt(hd);
        });
        const m = Math.max(...s);
        const e = s.map((x) => Math.exp(x - m));
        const z = e.reduce((a, x) => a + x, 0);
        for (let j = 0; j < len; j++) assert.ok(close(probs[((b * heads + h) * len + i) * len + j], e[j] / z));
        for (let c = 0; c < hd; c++) {
          let o = 0;
          for (let j = 0; j < len; j++) o += (e[j] / z) * v(j, c);
          assert.ok(close(out[(b * len + i) * d + h * hd + c], o));
        }
      }
    }
  }
});

test('attention dropout: drops only the causal half, rescales survivors, and matches the documented draw order', () => {
  const rng = new Rng(4);
  const batch = 1, len = 3, heads = 1, hd = 2, d = 2;
  const qkv = rand(len * 3 * d, rng);
  const probs = new Float32Array(len * len);
  const dropped = new Float32Array(len * len).fill(NaN);
  const out = new Float32Array(len * d);
  const state = Uint32Array.from(new Rng(9).getState().slice(0, 4));
  K.causalAttentionForward(batch, len, heads, hd, qkv, 0, qkv, d, qkv, 2 * d, 3 * d, 0.5, state, probs, 0, dropped, 0, out, 0, d);
  const draws = new Rng(9);
  for (let i = 0; i < len; i++) {
    for (let j = 0; j < len; j++) {
      if (j > i) {
        assert.equal(dropped[i * len + j], 0);
        continue;
      }
      const u = draws.nextFloat();
      assert.equal(dropped[i * len + j], u < 0.5 ? 0 : Math.fround(probs[i * len + j] * 2));
    }
  }
  assert.equal(Array.from(state).join(), draws.getState().slice(0, 4).map((x) => x >>> 0).join());
});

test('bce, sumSquares, gather/scatter, rowDot, colSum, adam step', () => {
  const pos = Float32Array.from([2, -1, 30]);
  const neg = Float32Array.from([-3, 0.5, -40]);
  const target = Int32Array.from([1, 0, 5]);
  const sp = (x: number) => Math.log1p(Math.exp(x));
  assert.ok(close(K.bceLogitsMaskedSum(3, pos, 0, neg, 0, target, 0), sp(-2) + sp(-3) + sp(-30) + sp(-40), 1e-12));
  assert.equal(K.sumSquares(3, pos, 0), 4 + 1 + 900);

  const table = Float32Array.from([0, 0, 1, 2, 3, 4]);
  const idx = Int32Array.from([2, 0, 2]);
  const g = new Float32Array(6);
  K.gatherRows(3, 2, table, 0, idx, 0, 2, g, 0);
  assert.deepEqual([...g], [6, 8, 0, 0, 6, 8]);
  const dt = new Float32Array(6);
  K.scatterAddRows(3, 2, Float32Array.from([1, 1, 5, 5, 2, 3]), 0, idx, 0, 1, 0, dt, 0);
  assert.deepEqual([...dt], [0, 0, 0, 0, 3, 4]);

  // gatherDot: rows f = [1, 2] and [3, 4], each against K = 2 table rows; its backward by hand
  const gd = new Float32Array(4);
  K.gatherDot(2, 2, 2, Float32Array.from([1, 2, 3, 4]), 0, table, 0, Int32Array.from([2, 1, 0, 2]), 0, gd, 0);
  assert.deepEqual([...gd], [11, 5, 0, 25]);
  const gdf = Float32Array.from([1, 1, 1, 1]);
  const gdt = new Float32Array(6);
  K.gatherDotBackward(2, 2, 2, Float32Array.from([1, 2, 3, 4]), 0, table, 0, Int32Array.from([2, 1, 0, 2]), 0,
    Float32Array.from([1, 2, 3, -1]), 0, 0, gdf, 0, gdt, 0);
  // df row 0 += 1·[3, 4] + 2·[1, 2]; row 1 += 3·[0, 0] − 1·[3, 4]
  assert.deepEqual([...gdf], [6, 9, -2, -3]);
  // table row 2 gets 1·[1, 2] − 1·[3, 4], row 1 gets 2·[1, 2], row 0 (skipped) nothing
  assert.deepEqual([...gdt], [0, 0, 2, 4, -2, -2]);

  const dots = new Float32Array(2);
  K.rowDot(2, 2, Float32Array.from([1, 2, 3, 4]), 0, Float32Array.from([5, 6, 7, 8]), 0, dots, 0);
  assert.deepEqual([...dots], [17, 53]);
  const cs = Float32Array.from([1, 1]);
  K.colSumAcc(2, 2, Float32Array.from([1, 2, 3, 4]), 0, cs, 0);
  assert.deepEqual([...cs], [5, 7]);

  // Adam, PyTorch order: one step from zero state moves by lr·g/(|g| + eps·…) ≈ lr·sign(g)
  const p = Float32Array.from([1, 1]);
  const m = new Float32Array(2);
  const v = new Float32Array(2);
  K.adamStep(2, p, 0, Float32Array.from([0.5, -2]), 0, m, 0, v, 0, 0.1, 0.9, 0.98, 1e-8, 1 - 0.9, 1 - 0.98);
  assert.ok(close(m[0], 0.05) && close(v[1], 0.08));
  assert.ok(close(p[0], 0.9, 1e-6) && close(p[1], 1.1, 1e-6));
});

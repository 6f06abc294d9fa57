// Element-wise, row-wise, normalisation, loss and optimiser kernels for the WebAssembly SIMD
// backend. Semantics: src/kernels/types.ts (same names, byte addresses instead of array + offset).
// Vector loops of 4 floats with scalar tails; inputs and outputs may alias exactly (in place).
// Long reductions over rows (bias / LayerNorm parameter gradients) accumulate in float64, as the
// reference does; short ones (a row of `dim` floats) in float32.

import { dropApply, dropThresholdU32, expv, fmadd, hsum, imin32, loadTail, rngLoad, rngRaw, rngSave, storeTail, tailMask } from './common';

// ---------------------------------------------------------------------------------------------
// element-wise

/** x[i] = value; value +0 is a memset (bulk memory). */
export function ewFill(n: i32, value: f32, x: usize): void {
  const end = <usize>n << 2;
  if (reinterpret<u32>(value) == 0) {
    memory.fill(x, 0, end);
    return;
  }
  const v = f32x4.splat(value);
  let o: usize = 0;
  for (; o + 16 <= end; o += 16) v128.store(x + o, v);
  for (; o < end; o += 4) store<f32>(x + o, value);
}

export function ewAdd(n: i32, a: usize, b: usize, out: usize): void {
  const end = <usize>n << 2;
  let o: usize = 0;
  for (; o + 16 <= end; o += 16) v128.store(out + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
  for (; o < end; o += 4) store<f32>(out + o, load<f32>(a + o) + load<f32>(b + o));
}

export function ewAxpy(n: i32, alpha: f32, x: usize, y: usize): void {
  const end = <usize>n << 2;
  const av = f32x4.splat(alpha);
  let o: usize = 0;
  for (; o + 16 <= end; o += 16) v128.store(y + o, fmadd(av, v128.load(x + o), v128.load(y + o)));
  for (; o < end; o += 4) store<f32>(y + o, load<f32>(y + o) + alpha * load<f32>(x + o));
}

export function ewScale(n: i32, alpha: f32, x: usize, out: usize): void {
  const end = <usize>n << 2;
  const av = f32x4.splat(alpha);
  let o: usize = 0;
  for (; o + 16 <= end; o += 16) v128.store(out + o, f32x4.mul(av, v128.load(x + o)));
  for (; o < end; o += 4) store<f32>(out + o, alpha * load<f32>(x + o));
}

export function ewMul(n: i32, a: usize, b: usize, out: usize): void {
  const end = <usize>n << 2;
  let o: usize = 0;
  for (; o + 16 <= end; o += 16) v128.store(out + o, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  for (; o < end; o += 4) store<f32>(out + o, load<f32>(a + o) * load<f32>(b + o));
}

export function ewMulAcc(n: i32, a: usize, b: usize, out: usize): void {
  const end = <usize>n << 2;
  let o: usize = 0;
  for (; o + 16 <= end; o += 16) v128.store(out + o, fmadd(v128.load(a + o), v128.load(b + o), v128.load(out + o)));
  for (; o < end; o += 4) store<f32>(out + o, load<f32>(out + o) + load<f32>(a + o) * load<f32>(b + o));
}

export function ewRelu(n: i32, x: usize, out: usize): void {
  const end = <usize>n << 2;
  const z = f32x4.splat(0);
  let o: usize = 0;
  // pmax(z, x) = x > 0 ? x : 0 (NaN → 0 would differ; NaN > 0 is false in the reference too)
  for (; o + 16 <= end; o += 16) v128.store(out + o, f32x4.pmax(z, v128.load(x + o)));
  for (; o < end; o += 4) {
    const v = load<f32>(x + o);
    store<f32>(out + o, v > 0 ? v : 0);
  }
}

export function ewReluBackward(n: i32, y: usize, dy: usize, dx: usize): void {
  const end = <usize>n << 2;
  const z = f32x4.splat(0);
  let o: usize = 0;
  for (; o + 16 <= end; o += 16) {
    const m = f32x4.gt(v128.load(y + o), z);
    v128.store(dx + o, f32x4.add(v128.load(dx + o), v128.and(v128.load(dy + o), m)));
  }
  for (; o < end; o += 4) if (load<f32>(y + o) > 0) store<f32>(dx + o, load<f32>(dx + o) + load<f32>(dy + o));
}

/**
 * Φ(x) per lane, the standard normal CDF, as the reference's exact GELU computes it: ½·erfc(|x|/√2)
 * by Numerical Recipes' Chebyshev fit (relative error < 1.2e-7; here in float32), then 1 − that for
 * x ≥ 0.
 */
@inline function normalCdf(x: v128): v128 {
  const a = f32x4.mul(f32x4.abs(x), f32x4.splat(0.70710678118654752));
  const t = f32x4.div(f32x4.splat(1), fmadd(a, f32x4.splat(0.5), f32x4.splat(1)));
  let p = f32x4.splat(0.17087277);
  p = fmadd(p, t, f32x4.splat(-0.82215223));
  p = fmadd(p, t, f32x4.splat(1.48851587));
  p = fmadd(p, t, f32x4.splat(-1.13520398));
  p = fmadd(p, t, f32x4.splat(0.27886807));
  p = fmadd(p, t, f32x4.splat(-0.18628806));
  p = fmadd(p, t, f32x4.splat(0.09678418));
  p = fmadd(p, t, f32x4.splat(0.37409196));
  p = fmadd(p, t, f32x4.splat(1.00002368));
  p = fmadd(p, t, f32x4.splat(-1.26551223));
  // the exponent −a² + p is ≤ 3e-8 (p ≤ 3e-8 at a = 0): expv's range
  const h = f32x4.mul(f32x4.mul(t, expv(f32x4.sub(p, f32x4.mul(a, a)))), f32x4.splat(0.5));
  return v128.bitselect(f32x4.sub(f32x4.splat(1), h), h, f32x4.ge(x, f32x4.splat(0)));
}

/** Exact GELU x·Φ(x); the last n mod 4 elements as one partial vector (the same code per element). */
export function ewGelu(n: i32, x: usize, out: usize): void {
  const end = <usize>n << 2;
  let o: usize = 0;
  for (; o + 16 <= end; o += 16) {
    const v = v128.load(x + o);
    v128.store(out + o, f32x4.mul(v, normalCdf(v)));
  }
  const rem = <i32>(end - o) >> 2;
  if (rem > 0) {
    const v = loadTail(x + o, rem);
    storeTail(out + o, f32x4.mul(v, normalCdf(v)), rem);
  }
}

/** dx += dy · (Φ(x) + x·φ(x)), φ(x) = e^(−x²/2)/√(2π). */
@inline function geluGrad(v: v128, dy: v128, dx: v128): v128 {
  const pdf = f32x4.mul(expv(f32x4.mul(f32x4.mul(v, v), f32x4.splat(-0.5))), f32x4.splat(0.3989422804014327));
  return fmadd(dy, fmadd(v, pdf, normalCdf(v)), dx);
}

export function ewGeluBackward(n: i32, x: usize, dy: usize, dx: usize): void {
  const end = <usize>n << 2;
  let o: usize = 0;
  for (; o + 16 <= end; o += 16) v128.store(dx + o, geluGrad(v128.load(x + o), v128.load(dy + o), v128.load(dx + o)));
  const rem = <i32>(end - o) >> 2;
  if (rem > 0) storeTail(dx + o, geluGrad(loadTail(x + o, rem), loadTail(dy + o, rem), loadTail(dx + o, rem)), rem);
}

/**
 * Inverted dropout; rng points at 4 u32 of xoshiro128** state (advanced by n draws); raw: scratch
 * of RAW_CHUNK u32. Draws a chunk of raw words serially, then scrambles/thresholds it with SIMD.
 */
export function ewDropout(n: i32, p: f64, rng: usize, x: usize, mask: usize, out: usize, raw: usize): void {
  rngLoad(rng);
  const thr = dropThresholdU32(p);
  const keep: f64 = 1 / (1 - p);
  for (let i = 0; i < n; i += RAW_CHUNK) {
    const c = imin32(RAW_CHUNK, n - i);
    const o = <usize>i << 2;
    rngRaw(c, raw);
    dropApply(c, raw, thr, keep, x + o, mask + o, out + o);
  }
  rngSave(rng);
}

/** Raw draws (u32) per chunk (4 KiB: stays in L1). */
export const RAW_CHUNK: i32 = 1024;

// ---------------------------------------------------------------------------------------------
// rows

export function rowAddBias(rows: i32, cols: i32, bias: usize, out: usize): void {
  const rowB = <usize>cols << 2;
  const full = <usize>(cols & ~3) << 2;
  const rem = cols & 3;
  const bt = rem != 0 ? loadTail(bias + full, rem) : f32x4.splat(0);
  for (let r = 0; r < rows; r++) {
    const o = out + <usize>r * rowB;
    let c: usize = 0;
    for (; c < full; c += 16) v128.store(o + c, f32x4.add(v128.load(o + c), v128.load(bias + c)));
    if (rem != 0) storeTail(o + full, f32x4.add(loadTail(o + full, rem), bt), rem);
  }
}

const COLSUM_BLOCK: i32 = 64;

/**
 * out[c] += Σ_r x[r, c]. Rows are summed 4 at a time into float32 partial sums (acc32, cols
 * floats), flushed into float64 totals (acc64, cols doubles) every COLSUM_BLOCK rows.
 */
export function rowColSumAcc(rows: i32, cols: i32, x: usize, out: usize, acc: usize): void {
  const acc64 = acc;
  const acc32 = acc + ((<usize>cols << 3) + 63 & ~63);
  const rowB = <usize>cols << 2;
  const full = <usize>(cols & ~3) << 2;
  const rem = cols & 3;
  memory.fill(acc64, 0, <usize>cols << 3);
  for (let r0 = 0; r0 < rows; r0 += COLSUM_BLOCK) {
    const r1 = imin32(rows, r0 + COLSUM_BLOCK);
    memory.fill(acc32, 0, (<usize>cols << 2) + 16);
    let r = r0;
    for (; r + 4 <= r1; r += 4) {
      const x0 = x + <usize>r * rowB;
      const x1 = x0 + rowB, x2 = x1 + rowB, x3 = x2 + rowB;
      let c: usize = 0;
      for (; c < full; c += 16) {
        const s = f32x4.add(f32x4.add(v128.load(x0 + c), v128.load(x1 + c)), f32x4.add(v128.load(x2 + c), v128.load(x3 + c)));
        v128.store(acc32 + c, f32x4.add(v128.load(acc32 + c), s));
      }
      if (rem != 0) {
        const s = f32x4.add(f32x4.add(loadTail(x0 + c, rem), loadTail(x1 + c, rem)), f32x4.add(loadTail(x2 + c, rem), loadTail(x3 + c, rem)));
        v128.store(acc32 + c, f32x4.add(v128.load(acc32 + c), s));
      }
    }
    for (; r < r1; r++) {
      const xr = x + <usize>r * rowB;
      let c: usize = 0;
      for (; c < full; c += 16) v128.store(acc32 + c, f32x4.add(v128.load(acc32 + c), v128.load(xr + c)));
      if (rem != 0) v128.store(acc32 + c, f32x4.add(v128.load(acc32 + c), loadTail(xr + c, rem)));
    }
    for (let c = 0; c < cols; c++) {
      const a = acc64 + (<usize>c << 3);
      store<f64>(a, load<f64>(a) + <f64>load<f32>(acc32 + (<usize>c << 2)));
    }
  }
  for (let c = 0; c < cols; c++) {
    const o = out + (<usize>c << 2);
    store<f32>(o, <f32>(<f64>load<f32>(o) + load<f64>(acc64 + (<usize>c << 3))));
  }
}

export function rowDotK(n: i32, dim: i32, a: usize, b: usize, out: usize): void {
  const rowB = <usize>dim << 2;
  const full = <usize>(dim & ~3) << 2;
  const rem = dim & 3;
  for (let i = 0; i < n; i++) {
    const ai = a + <usize>i * rowB, bi = b + <usize>i * rowB;
    let s = f32x4.splat(0);
    let c: usize = 0;
    for (; c < full; c += 16) s = fmadd(v128.load(ai + c), v128.load(bi + c), s);
    if (rem != 0) s = fmadd(loadTail(ai + c, rem), loadTail(bi + c, rem), s);
    store<f32>(out + (<usize>i << 2), hsum(s));
  }
}

export function rowScaleAccK(n: i32, dim: i32, s: usize, x: usize, y: usize): void {
  const rowB = <usize>dim << 2;
  const full = <usize>(dim & ~3) << 2;
  const rem = dim & 3;
  for (let i = 0; i < n; i++) {
    const si = load<f32>(s + (<usize>i << 2));
    if (si == 0) continue;
    const sv = f32x4.splat(si);
    const xi = x + <usize>i * rowB, yi = y + <usize>i * rowB;
    let c: usize = 0;
    for (; c < full; c += 16) v128.store(yi + c, fmadd(sv, v128.load(xi + c), v128.load(yi + c)));
    if (rem != 0) storeTail(yi + c, fmadd(sv, loadTail(xi + c, rem), loadTail(yi + c, rem)), rem);
  }
}

/** out[i, :] = alpha · table[idx[i], :] (idx: n i32). */
export function rowGather(n: i32, dim: i32, table: usize, idx: usize, alpha: f32, out: usize): void {
  const rowB = <usize>dim << 2;
  const full = <usize>(dim & ~3) << 2;
  const rem = dim & 3;
  const av = f32x4.splat(alpha);
  for (let i = 0; i < n; i++) {
    const t = table + <usize>load<i32>(idx + (<usize>i << 2)) * rowB;
    const o = out + <usize>i * rowB;
    let c: usize = 0;
    if (alpha == 1) {
      for (; c < full; c += 16) v128.store(o + c, v128.load(t + c));
      if (rem != 0) storeTail(o + c, loadTail(t + c, rem), rem);
    } else {
      for (; c < full; c += 16) v128.store(o + c, f32x4.mul(av, v128.load(t + c)));
      if (rem != 0) storeTail(o + c, f32x4.mul(av, loadTail(t + c, rem)), rem);
    }
  }
}

/** dTable[idx[i], :] += alpha · dOut[i, :] for idx[i] ≠ skip, in order i = 0..n−1. */
export function rowScatterAdd(n: i32, dim: i32, dOut: usize, idx: usize, alpha: f32, skip: i32, dTable: usize): void {
  const rowB = <usize>dim << 2;
  const full = <usize>(dim & ~3) << 2;
  const rem = dim & 3;
  const av = f32x4.splat(alpha);
  for (let i = 0; i < n; i++) {
    const id = load<i32>(idx + (<usize>i << 2));
    if (id == skip) continue;
    const t = dTable + <usize>id * rowB;
    const o = dOut + <usize>i * rowB;
    let c: usize = 0;
    for (; c < full; c += 16) v128.store(t + c, fmadd(av, v128.load(o + c), v128.load(t + c)));
    if (rem != 0) storeTail(t + c, fmadd(av, loadTail(o + c, rem), loadTail(t + c, rem)), rem);
  }
}

/** out[m·K + k] = f[m, :] · table[idx[m·K + k], :] (idx: M·K i32); four of a row's K rows at a time. */
export function rowGatherDot(M: i32, K: i32, dim: i32, f: usize, table: usize, idx: usize, out: usize): void {
  const rowB = <usize>dim << 2;
  const full = <usize>(dim & ~3) << 2;
  const rem = dim & 3;
  for (let m = 0; m < M; m++) {
    const fm = f + <usize>m * rowB;
    const im = idx + ((<usize>m * <usize>K) << 2);
    const om = out + ((<usize>m * <usize>K) << 2);
    let k = 0;
    for (; k + 4 <= K; k += 4) {
      const ik = im + (<usize>k << 2);
      const t0 = table + <usize>load<i32>(ik) * rowB;
      const t1 = table + <usize>load<i32>(ik, 4) * rowB;
      const t2 = table + <usize>load<i32>(ik, 8) * rowB;
      const t3 = table + <usize>load<i32>(ik, 12) * rowB;
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
      let c: usize = 0;
      for (; c < full; c += 16) {
        const fv = v128.load(fm + c);
        s0 = fmadd(fv, v128.load(t0 + c), s0);
        s1 = fmadd(fv, v128.load(t1 + c), s1);
        s2 = fmadd(fv, v128.load(t2 + c), s2);
        s3 = fmadd(fv, v128.load(t3 + c), s3);
      }
      if (rem != 0) {
        const fv = loadTail(fm + c, rem);
        s0 = fmadd(fv, loadTail(t0 + c, rem), s0);
        s1 = fmadd(fv, loadTail(t1 + c, rem), s1);
        s2 = fmadd(fv, loadTail(t2 + c, rem), s2);
        s3 = fmadd(fv, loadTail(t3 + c, rem), s3);
      }
      const ok = om + (<usize>k << 2);
      store<f32>(ok, hsum(s0));
      store<f32>(ok, hsum(s1), 4);
      store<f32>(ok, hsum(s2), 8);
      store<f32>(ok, hsum(s3), 12);
    }
    for (; k < K; k++) {
      const t = table + <usize>load<i32>(im + (<usize>k << 2)) * rowB;
      let s = f32x4.splat(0);
      let c: usize = 0;
      for (; c < full; c += 16) s = fmadd(v128.load(fm + c), v128.load(t + c), s);
      if (rem != 0) s = fmadd(loadTail(fm + c, rem), loadTail(t + c, rem), s);
      store<f32>(om + (<usize>k << 2), hsum(s));
    }
  }
}

/**
 * rowGatherDot's backward (accumulates): df[m, :] += Σ_k dy[m·K + k]·table[idx[m·K + k], :] and
 * dTable[id, :] += dy[m·K + k]·f[m, :] for id ≠ skip, in order m, k; df or dTable 0: not wanted.
 */
export function rowGatherDotBackward(M: i32, K: i32, dim: i32, f: usize, table: usize, idx: usize, dy: usize, skip: i32,
                                     df: usize, dTable: usize): void {
  const rowB = <usize>dim << 2;
  const full = <usize>(dim & ~3) << 2;
  const rem = dim & 3;
  for (let m = 0; m < M; m++) {
    const fm = f + <usize>m * rowB;
    const im = idx + ((<usize>m * <usize>K) << 2);
    const gm = dy + ((<usize>m * <usize>K) << 2);
    if (df != 0) {
      // 16 columns at a time summed over the K rows in registers, then added to df once
      const dfm = df + <usize>m * rowB;
      let c: usize = 0;
      for (; c + 64 <= full; c += 64) {
        let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
        for (let k = 0; k < K; k++) {
          const gv = f32x4.splat(load<f32>(gm + (<usize>k << 2)));
          const t = table + <usize>load<i32>(im + (<usize>k << 2)) * rowB + c;
          a0 = fmadd(gv, v128.load(t), a0);
          a1 = fmadd(gv, v128.load(t, 16), a1);
          a2 = fmadd(gv, v128.load(t, 32), a2);
          a3 = fmadd(gv, v128.load(t, 48), a3);
        }
        const o = dfm + c;
        v128.store(o, f32x4.add(v128.load(o), a0));
        v128.store(o, f32x4.add(v128.load(o, 16), a1), 16);
        v128.store(o, f32x4.add(v128.load(o, 32), a2), 32);
        v128.store(o, f32x4.add(v128.load(o, 48), a3), 48);
      }
      for (; c < full; c += 16) {
        let a = f32x4.splat(0);
        for (let k = 0; k < K; k++) {
          const gv = f32x4.splat(load<f32>(gm + (<usize>k << 2)));
          a = fmadd(gv, v128.load(table + <usize>load<i32>(im + (<usize>k << 2)) * rowB + c), a);
        }
        v128.store(dfm + c, f32x4.add(v128.load(dfm + c), a));
      }
      if (rem != 0) {
        let a = f32x4.splat(0);
        for (let k = 0; k < K; k++) {
          const gv = f32x4.splat(load<f32>(gm + (<usize>k << 2)));
          a = fmadd(gv, loadTail(table + <usize>load<i32>(im + (<usize>k << 2)) * rowB + c, rem), a);
        }
        storeTail(dfm + c, f32x4.add(loadTail(dfm + c, rem), a), rem);
      }
    }
    if (dTable != 0) {
      for (let k = 0; k < K; k++) {
        const id = load<i32>(im + (<usize>k << 2));
        if (id == skip) continue;
        const gv = f32x4.splat(load<f32>(gm + (<usize>k << 2)));
        const t = dTable + <usize>id * rowB;
        let c: usize = 0;
        for (; c < full; c += 16) v128.store(t + c, fmadd(gv, v128.load(fm + c), v128.load(t + c)));
        if (rem != 0) storeTail(t + c, fmadd(gv, loadTail(fm + c, rem), loadTail(t + c, rem)), rem);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// LayerNorm

export function lnForward(rows: i32, dim: i32, x: usize, gamma: usize, beta: usize, eps: f64,
                          out: usize, mean: usize, rstd: usize): void {
  const rowB = <usize>dim << 2;
  const full = <usize>(dim & ~3) << 2;
  const rem = dim & 3;
  const tm = tailMask(rem);
  const gt = rem != 0 ? loadTail(gamma + full, rem) : f32x4.splat(0);
  const bt = rem != 0 ? loadTail(beta + full, rem) : f32x4.splat(0);
  const invDim: f32 = <f32>(1 / <f64>dim);
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowB;
    let sv = f32x4.splat(0);
    let c: usize = 0;
    for (; c < full; c += 16) sv = f32x4.add(sv, v128.load(xr + c));
    const xt = rem != 0 ? loadTail(xr + full, rem) : f32x4.splat(0);
    sv = f32x4.add(sv, xt);
    const mu: f32 = hsum(sv) * invDim;
    const mv = f32x4.splat(mu);
    let qv = f32x4.splat(0);
    for (c = 0; c < full; c += 16) {
      const d = f32x4.sub(v128.load(xr + c), mv);
      qv = fmadd(d, d, qv);
    }
    if (rem != 0) {
      const d = v128.and(f32x4.sub(xt, mv), tm);
      qv = fmadd(d, d, qv);
    }
    const rs: f32 = <f32>(1 / Math.sqrt(<f64>hsum(qv) / <f64>dim + eps));
    store<f32>(mean + (<usize>r << 2), mu);
    store<f32>(rstd + (<usize>r << 2), rs);
    const rv = f32x4.splat(rs);
    const yr = out + <usize>r * rowB;
    for (c = 0; c < full; c += 16) {
      const xh = f32x4.mul(f32x4.sub(v128.load(xr + c), mv), rv);
      v128.store(yr + c, fmadd(xh, v128.load(gamma + c), v128.load(beta + c)));
    }
    if (rem != 0) storeTail(yr + full, fmadd(f32x4.mul(f32x4.sub(xt, mv), rv), gt, bt), rem);
  }
}

/**
 * LayerNorm backward (accumulates). dx, dGamma, dBeta may be 0 (not wanted). acc: scratch of
 * 2·dim float64 (dGamma, dBeta totals) + 2·(dim + 4) float32 (their partial sums over a block of
 * rows, flushed into the totals every COLSUM_BLOCK rows).
 */
export function lnBackward(rows: i32, dim: i32, x: usize, gamma: usize, mean: usize, rstd: usize, dy: usize,
                           dx: usize, dGamma: usize, dBeta: usize, acc: usize): void {
  const rowB = <usize>dim << 2;
  const full = <usize>(dim & ~3) << 2;
  const rem = dim & 3;
  const tm = tailMask(rem);
  const gt = rem != 0 ? loadTail(gamma + full, rem) : f32x4.splat(0);
  const padB = ((<usize>dim + 4) << 2);
  const accG = acc;
  const accB = acc + (<usize>dim << 3);
  const pg = acc + (<usize>dim << 4);
  const pb = pg + padB;
  const wantParams = dGamma != 0 || dBeta != 0;
  if (wantParams) memory.fill(acc, 0, <usize>dim << 4);
  const invDim: f32 = <f32>(1 / <f64>dim);
  for (let r0 = 0; r0 < rows; r0 += COLSUM_BLOCK) {
    const r1 = imin32(rows, r0 + COLSUM_BLOCK);
    if (wantParams) memory.fill(pg, 0, padB << 1);
    for (let r = r0; r < r1; r++) {
      const xr = x + <usize>r * rowB;
      const yr = dy + <usize>r * rowB;
      const mu = f32x4.splat(load<f32>(mean + (<usize>r << 2)));
      const rs = f32x4.splat(load<f32>(rstd + (<usize>r << 2)));
      // pass 1: Σ g and Σ g·xhat (g = dy·gamma), and the parameter partial sums
      let sg = f32x4.splat(0), sgx = f32x4.splat(0);
      let c: usize = 0;
      for (; c < full; c += 16) {
        const h = f32x4.mul(f32x4.sub(v128.load(xr + c), mu), rs);
        const d = v128.load(yr + c);
        const g = f32x4.mul(d, v128.load(gamma + c));
        sg = f32x4.add(sg, g);
        sgx = fmadd(g, h, sgx);
        if (wantParams) {
          v128.store(pg + c, fmadd(d, h, v128.load(pg + c)));
          v128.store(pb + c, f32x4.add(v128.load(pb + c), d));
        }
      }
      let ht = f32x4.splat(0), dt = f32x4.splat(0);
      if (rem != 0) {
        ht = v128.and(f32x4.mul(f32x4.sub(loadTail(xr + full, rem), mu), rs), tm);
        dt = loadTail(yr + full, rem);
        const g = f32x4.mul(dt, gt);
        sg = f32x4.add(sg, g);
        sgx = fmadd(g, ht, sgx);
        if (wantParams) {
          v128.store(pg + full, fmadd(dt, ht, v128.load(pg + full)));
          v128.store(pb + full, f32x4.add(v128.load(pb + full), dt));
        }
      }
      // pass 2: dx += rstd · (g − mean(g) − xhat · mean(g·xhat))
      if (dx != 0) {
        const mg = f32x4.splat(hsum(sg) * invDim);
        const mgx = f32x4.splat(hsum(sgx) * invDim);
        const o = dx + <usize>r * rowB;
        for (c = 0; c < full; c += 16) {
          const h = f32x4.mul(f32x4.sub(v128.load(xr + c), mu), rs);
          const g = f32x4.mul(v128.load(yr + c), v128.load(gamma + c));
          const t = f32x4.sub(f32x4.sub(g, mg), f32x4.mul(h, mgx));
          v128.store(o + c, fmadd(rs, t, v128.load(o + c)));
        }
        if (rem != 0) {
          const t = f32x4.sub(f32x4.sub(f32x4.mul(dt, gt), mg), f32x4.mul(ht, mgx));
          storeTail(o + full, fmadd(rs, t, loadTail(o + full, rem)), rem);
        }
      }
    }
    if (wantParams) {
      for (let c = 0; c < dim; c++) {
        const o8 = <usize>c << 3, o4 = <usize>c << 2;
        store<f64>(accG + o8, load<f64>(accG + o8) + <f64>load<f32>(pg + o4));
        store<f64>(accB + o8, load<f64>(accB + o8) + <f64>load<f32>(pb + o4));
      }
    }
  }
  if (dGamma != 0) {
    for (let c = 0; c < dim; c++) {
      const o = dGamma + (<usize>c << 2);
      store<f32>(o, <f32>(<f64>load<f32>(o) + load<f64>(accG + (<usize>c << 3))));
    }
  }
  if (dBeta != 0) {
    for (let c = 0; c < dim; c++) {
      const o = dBeta + (<usize>c << 2);
      store<f32>(o, <f32>(<f64>load<f32>(o) + load<f64>(accB + (<usize>c << 3))));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// losses, reductions, optimiser

export function redSumSquares(n: i32, x: usize): f64 {
  const end = <usize>n << 2;
  let a0 = f64x2.splat(0), a1 = f64x2.splat(0);
  let o: usize = 0;
  for (; o + 16 <= end; o += 16) {
    const v = v128.load(x + o);
    const sq = f32x4.mul(v, v);
    a0 = f64x2.add(a0, f64x2.promote_low_f32x4(sq));
    a1 = f64x2.add(a1, f64x2.promote_low_f32x4(i32x4.shuffle(sq, sq, 2, 3, 0, 1)));
  }
  const s = f64x2.add(a0, a1);
  let t = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  for (; o < end; o += 4) {
    const v = <f64>load<f32>(x + o);
    t += v * v;
  }
  return t;
}

@inline function softplus(x: f64): f64 {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

@inline function sigmoid(x: f64): f64 {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

export function bceSum(n: i32, pos: usize, neg: usize, target: usize): f64 {
  let s: f64 = 0;
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    if (load<i32>(target + o) == 0) continue;
    s += softplus(-<f64>load<f32>(pos + o)) + softplus(<f64>load<f32>(neg + o));
  }
  return s;
}

export function bceBackward(n: i32, pos: usize, neg: usize, target: usize, scale: f64, dPos: usize, dNeg: usize): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    if (load<i32>(target + o) == 0) continue;
    store<f32>(dPos + o, <f32>(<f64>load<f32>(dPos + o) + scale * (sigmoid(<f64>load<f32>(pos + o)) - 1)));
    store<f32>(dNeg + o, <f32>(<f64>load<f32>(dNeg + o) + scale * sigmoid(<f64>load<f32>(neg + o))));
  }
}

/**
 * Adam (PyTorch order): m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
 * p −= (lr/bc1) · m / (sqrt(v)/sqrt(bc2) + eps). Float32 throughout (memory-bound).
 */
export function optAdam(n: i32, p: usize, g: usize, m: usize, v: usize,
                        lr: f64, beta1: f64, beta2: f64, eps: f64, bc1: f64, bc2: f64): void {
  const stepSize = <f32>(lr / bc1);
  const invBc2Sqrt = <f32>(1 / Math.sqrt(bc2));
  const b1 = <f32>beta1, c1 = <f32>(1 - beta1), b2 = <f32>beta2, c2 = <f32>(1 - beta2), e = <f32>eps;
  const b1v = f32x4.splat(b1), c1v = f32x4.splat(c1), b2v = f32x4.splat(b2), c2v = f32x4.splat(c2);
  const ev = f32x4.splat(e), sv = f32x4.splat(stepSize), iv = f32x4.splat(invBc2Sqrt);
  const end = <usize>n << 2;
  let o: usize = 0;
  for (; o + 16 <= end; o += 16) {
    const gi = v128.load(g + o);
    const mi = f32x4.add(f32x4.mul(b1v, v128.load(m + o)), f32x4.mul(c1v, gi));
    const vi = f32x4.add(f32x4.mul(b2v, v128.load(v + o)), f32x4.mul(c2v, f32x4.mul(gi, gi)));
    v128.store(m + o, mi);
    v128.store(v + o, vi);
    const den = fmadd(f32x4.sqrt(vi), iv, ev);
    v128.store(p + o, f32x4.sub(v128.load(p + o), f32x4.div(f32x4.mul(sv, mi), den)));
  }
  for (; o < end; o += 4) {
    const gi = load<f32>(g + o);
    const mi = b1 * load<f32>(m + o) + c1 * gi;
    const vi = b2 * load<f32>(v + o) + c2 * gi * gi;
    store<f32>(m + o, mi);
    store<f32>(v + o, vi);
    store<f32>(p + o, load<f32>(p + o) - (stepSize * mi) / (Mathf.sqrt(vi) * invBc2Sqrt + e));
  }
}


// Kernels of manifold-constrained hyper-connections (mHC) for the WebAssembly SIMD backend:
// RMS normalisation, scaled sigmoid, Sinkhorn-Knopp and the per-row stream mixes. Semantics:
// src/kernels/types.ts (byte addresses instead of array + offset; a null gradient is address 0).
// Everything is float32. Row-wise kernels vectorise over a row; Sinkhorn vectorises across four
// matrices at once (one per lane), since its n×n matrices are too small to fill a vector.

import { expv, fmadd, hsum, loadTail, storeTail } from './common';

// ---------------------------------------------------------------------------------------------
// RMS normalisation (no gain)

/** Σ a[c]·b[c] over the first `full` bytes (a multiple of 16), as a vector, in four independent chains. */
@inline function dotFull(full: usize, a: usize, b: usize): v128 {
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
  let c: usize = 0;
  for (; c + 64 <= full; c += 64) {
    s0 = fmadd(v128.load(a + c, 0), v128.load(b + c, 0), s0);
    s1 = fmadd(v128.load(a + c, 16), v128.load(b + c, 16), s1);
    s2 = fmadd(v128.load(a + c, 32), v128.load(b + c, 32), s2);
    s3 = fmadd(v128.load(a + c, 48), v128.load(b + c, 48), s3);
  }
  for (; c < full; c += 16) s0 = fmadd(v128.load(a + c), v128.load(b + c), s0);
  return f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3));
}

export function mhcRmsForward(rows: i32, dim: i32, x: usize, eps: f64, out: usize, rstd: usize): void {
  const rowB = <usize>dim << 2;
  const full = <usize>(dim & ~3) << 2;
  const rem = dim & 3;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowB;
    const xt = rem != 0 ? loadTail(xr + full, rem) : f32x4.splat(0);
    const sv = fmadd(xt, xt, dotFull(full, xr, xr));
    const rs: f32 = <f32>(1 / Math.sqrt(<f64>hsum(sv) / <f64>dim + eps));
    store<f32>(rstd + (<usize>r << 2), rs);
    const rv = f32x4.splat(rs);
    const yr = out + <usize>r * rowB;
    for (let c: usize = 0; c < full; c += 16) v128.store(yr + c, f32x4.mul(v128.load(xr + c), rv));
    if (rem != 0) storeTail(yr + full, f32x4.mul(xt, rv), rem);
  }
}

/** dx += rstd · (dy − y · mean(dy·y)), y = x·rstd. */
export function mhcRmsBackward(rows: i32, dim: i32, x: usize, rstd: usize, dy: usize, dx: usize): void {
  const rowB = <usize>dim << 2;
  const full = <usize>(dim & ~3) << 2;
  const rem = dim & 3;
  const invDim: f32 = <f32>(1 / <f64>dim);
  for (let r = 0; r < rows; r++) {
    const o = <usize>r * rowB;
    const rs = load<f32>(rstd + (<usize>r << 2));
    const xt = rem != 0 ? loadTail(x + o + full, rem) : f32x4.splat(0);
    const gt = rem != 0 ? loadTail(dy + o + full, rem) : f32x4.splat(0);
    const sv = fmadd(gt, xt, dotFull(full, dy + o, x + o));
    // rstd·(dy − x·rstd²·mean(dy·x))
    const rv = f32x4.splat(rs);
    const kv = f32x4.splat(-rs * rs * rs * hsum(sv) * invDim);
    for (let c: usize = 0; c < full; c += 16) {
      const p = dx + o + c;
      v128.store(p, f32x4.add(v128.load(p), fmadd(v128.load(x + o + c), kv, f32x4.mul(v128.load(dy + o + c), rv))));
    }
    if (rem != 0) {
      const p = dx + o + full;
      storeTail(p, f32x4.add(loadTail(p, rem), fmadd(xt, kv, f32x4.mul(gt, rv))), rem);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// scale · sigmoid

@inline function sigmoidv(x: v128): v128 {
  // e = exp(−|x|) ≤ 1 (expv needs x ≤ 0): sigmoid = 1/(1+e) for x ≥ 0, e/(1+e) otherwise
  const e = expv(f32x4.neg(f32x4.abs(x)));
  const inv = f32x4.div(f32x4.splat(1), f32x4.add(e, f32x4.splat(1)));
  return v128.bitselect(f32x4.mul(e, inv), inv, f32x4.lt(x, f32x4.splat(0)));
}

export function mhcSigmoidForward(n: i32, scale: f32, x: usize, out: usize): void {
  const full = <usize>(n & ~3) << 2;
  const rem = n & 3;
  const sv = f32x4.splat(scale);
  let o: usize = 0;
  for (; o < full; o += 16) v128.store(out + o, f32x4.mul(sigmoidv(v128.load(x + o)), sv));
  if (rem != 0) storeTail(out + full, f32x4.mul(sigmoidv(loadTail(x + full, rem)), sv), rem);
}

export function mhcSigmoidBackward(n: i32, scale: f32, y: usize, dy: usize, dx: usize): void {
  const full = <usize>(n & ~3) << 2;
  const rem = n & 3;
  const inv = f32x4.splat(1 / scale);
  const one = f32x4.splat(1);
  let o: usize = 0;
  for (; o < full; o += 16) {
    const v = v128.load(y + o);
    const g = f32x4.mul(f32x4.mul(v128.load(dy + o), v), f32x4.sub(one, f32x4.mul(v, inv)));
    v128.store(dx + o, f32x4.add(v128.load(dx + o), g));
  }
  if (rem != 0) {
    const v = loadTail(y + full, rem);
    const g = f32x4.mul(f32x4.mul(loadTail(dy + full, rem), v), f32x4.sub(one, f32x4.mul(v, inv)));
    storeTail(dx + full, f32x4.add(loadTail(dx + full, rem), g), rem);
  }
}

// ---------------------------------------------------------------------------------------------
// Sinkhorn-Knopp, four matrices per vector (lane l = matrix r0 + l). Work space per group of four,
// in v128 slots: K [n²], u_t [iters·n], v_t [(iters+1)·n], then (backward) gK [n²], gu, gv, gab [n],
// gb_t, ga_t [iters·n each].

/** Bytes of work space that mhcSinkhornForward / Backward need. */
export function mhcSinkhornScratchBytes(n: i32, iters: i32): i32 {
  return (2 * n * n + (4 * iters + 1) * n + 3 * n) << 4;
}

/** Lane l of slot q ← src[(r0 + l)·nn + q] for the `lanes` valid matrices (0 in the others). */
function gatherLanes(nn: i32, lanes: i32, src: usize, dst: usize): void {
  const stride = <usize>nn << 2;
  for (let q = 0; q < nn; q++) {
    const s = src + (<usize>q << 2);
    const dq = dst + (<usize>q << 4);
    v128.store(dq, f32x4.splat(0));
    for (let l = 0; l < lanes; l++) store<f32>(dq + (<usize>l << 2), load<f32>(s + <usize>l * stride));
  }
}

/** dst[(r0 + l)·nn + q] (+)= lane l of slot q, for the `lanes` valid matrices. */
function scatterLanes(nn: i32, lanes: i32, src: usize, dst: usize, acc: bool): void {
  const stride = <usize>nn << 2;
  for (let q = 0; q < nn; q++) {
    const sq = src + (<usize>q << 4);
    const d = dst + (<usize>q << 2);
    for (let l = 0; l < lanes; l++) {
      const p = d + <usize>l * stride;
      const v = load<f32>(sq + (<usize>l << 2));
      store<f32>(p, acc ? load<f32>(p) + v : v);
    }
  }
}

/** K = exp(L − rowmax L) in place (slots K), then the scaling vectors u_1..u_T, v_0..v_T. */
function sinkhornScalings(n: i32, iters: i32, K: usize, us: usize, vs: usize): void {
  const rowB = <usize>n << 4;
  for (let i = 0; i < n; i++) {
    const ki = K + <usize>i * rowB;
    let mx = v128.load(ki);
    for (let j = 1; j < n; j++) mx = f32x4.pmax(mx, v128.load(ki + (<usize>j << 4)));
    for (let j = 0; j < n; j++) {
      const p = ki + (<usize>j << 4);
      v128.store(p, expv(f32x4.sub(v128.load(p), mx)));
    }
  }
  if (n == 4) {
    sinkhornIterate4(iters, K, us, vs);
    return;
  }
  if (n == 2) {
    sinkhornIterate2(iters, K, us, vs);
    return;
  }
  const one = f32x4.splat(1);
  for (let j = 0; j < n; j++) v128.store(vs + (<usize>j << 4), one);
  for (let t = 1; t <= iters; t++) {
    const vPrev = vs + <usize>(t - 1) * rowB;
    const u = us + <usize>(t - 1) * rowB;
    const v = vs + <usize>t * rowB;
    for (let i = 0; i < n; i++) {
      const ki = K + <usize>i * rowB;
      let a = f32x4.splat(0);
      for (let j = 0; j < n; j++) a = fmadd(v128.load(ki + (<usize>j << 4)), v128.load(vPrev + (<usize>j << 4)), a);
      v128.store(u + (<usize>i << 4), f32x4.div(one, a));
    }
    for (let j = 0; j < n; j++) {
      let b = f32x4.splat(0);
      for (let i = 0; i < n; i++) b = fmadd(v128.load(K + <usize>i * rowB + (<usize>j << 4)), v128.load(u + (<usize>i << 4)), b);
      v128.store(v + (<usize>j << 4), f32x4.div(one, b));
    }
  }
}

/** The iterations of sinkhornScalings for n = 4 (mHC's default), with the matrix held in locals. */
function sinkhornIterate4(iters: i32, K: usize, us: usize, vs: usize): void {
  const k00 = v128.load(K, 0), k01 = v128.load(K, 16), k02 = v128.load(K, 32), k03 = v128.load(K, 48);
  const k10 = v128.load(K, 64), k11 = v128.load(K, 80), k12 = v128.load(K, 96), k13 = v128.load(K, 112);
  const k20 = v128.load(K, 128), k21 = v128.load(K, 144), k22 = v128.load(K, 160), k23 = v128.load(K, 176);
  const k30 = v128.load(K, 192), k31 = v128.load(K, 208), k32 = v128.load(K, 224), k33 = v128.load(K, 240);
  const one = f32x4.splat(1);
  let v0 = one, v1 = one, v2 = one, v3 = one;
  v128.store(vs, one, 0); v128.store(vs, one, 16); v128.store(vs, one, 32); v128.store(vs, one, 48);
  for (let t = 0; t < iters; t++) {
    const u0 = f32x4.div(one, fmadd(k03, v3, fmadd(k02, v2, fmadd(k01, v1, f32x4.mul(k00, v0)))));
    const u1 = f32x4.div(one, fmadd(k13, v3, fmadd(k12, v2, fmadd(k11, v1, f32x4.mul(k10, v0)))));
    const u2 = f32x4.div(one, fmadd(k23, v3, fmadd(k22, v2, fmadd(k21, v1, f32x4.mul(k20, v0)))));
    const u3 = f32x4.div(one, fmadd(k33, v3, fmadd(k32, v2, fmadd(k31, v1, f32x4.mul(k30, v0)))));
    v0 = f32x4.div(one, fmadd(k30, u3, fmadd(k20, u2, fmadd(k10, u1, f32x4.mul(k00, u0)))));
    v1 = f32x4.div(one, fmadd(k31, u3, fmadd(k21, u2, fmadd(k11, u1, f32x4.mul(k01, u0)))));
    v2 = f32x4.div(one, fmadd(k32, u3, fmadd(k22, u2, fmadd(k12, u1, f32x4.mul(k02, u0)))));
    v3 = f32x4.div(one, fmadd(k33, u3, fmadd(k23, u2, fmadd(k13, u1, f32x4.mul(k03, u0)))));
    const u = us + (<usize>t << 6);
    v128.store(u, u0, 0); v128.store(u, u1, 16); v128.store(u, u2, 32); v128.store(u, u3, 48);
    const v = vs + (<usize>(t + 1) << 6);
    v128.store(v, v0, 0); v128.store(v, v1, 16); v128.store(v, v2, 32); v128.store(v, v3, 48);
  }
}

/** The iterations of sinkhornScalings for n = 2, with the matrix in locals. */
function sinkhornIterate2(iters: i32, K: usize, us: usize, vs: usize): void {
  const k00 = v128.load(K, 0), k01 = v128.load(K, 16), k10 = v128.load(K, 32), k11 = v128.load(K, 48);
  const one = f32x4.splat(1);
  let v0 = one, v1 = one;
  v128.store(vs, one, 0); v128.store(vs, one, 16);
  for (let t = 0; t < iters; t++) {
    const u0 = f32x4.div(one, fmadd(k01, v1, f32x4.mul(k00, v0)));
    const u1 = f32x4.div(one, fmadd(k11, v1, f32x4.mul(k10, v0)));
    v0 = f32x4.div(one, fmadd(k10, u1, f32x4.mul(k00, u0)));
    v1 = f32x4.div(one, fmadd(k11, u1, f32x4.mul(k01, u0)));
    const u = us + (<usize>t << 5);
    v128.store(u, u0, 0); v128.store(u, u1, 16);
    const v = vs + (<usize>(t + 1) << 5);
    v128.store(v, v0, 0); v128.store(v, v1, 16);
  }
}

export function mhcSinkhornForward(rows: i32, n: i32, iters: i32, logits: usize, out: usize, work: usize): void {
  const nn = n * n;
  const matB = <usize>nn << 2;
  const rowB = <usize>n << 4;
  const K = work;
  const us = K + (<usize>nn << 4);
  const vs = us + <usize>iters * rowB;
  const uT = us + <usize>(iters - 1) * rowB;
  const vT = vs + <usize>iters * rowB;
  for (let r0 = 0; r0 < rows; r0 += 4) {
    const lanes = rows - r0 < 4 ? rows - r0 : 4;
    gatherLanes(nn, lanes, logits + <usize>r0 * matB, K);
    sinkhornScalings(n, iters, K, us, vs);
    for (let i = 0; i < n; i++) {
      const ui = v128.load(uT + (<usize>i << 4));
      for (let j = 0; j < n; j++) {
        const p = K + <usize>i * rowB + (<usize>j << 4);
        v128.store(p, f32x4.mul(f32x4.mul(ui, v128.load(p)), v128.load(vT + (<usize>j << 4))));
      }
    }
    scatterLanes(nn, lanes, K, out + <usize>r0 * matB, false);
  }
}

/** Reverse mode through every iteration (see reference/mhc.ts sinkhornBackward); dLogits accumulates. */
export function mhcSinkhornBackward(rows: i32, n: i32, iters: i32, logits: usize, dOut: usize, dLogits: usize, work: usize): void {
  const nn = n * n;
  const matB = <usize>nn << 2;
  const rowB = <usize>n << 4;
  const K = work;
  const us = K + (<usize>nn << 4);
  const vs = us + <usize>iters * rowB;
  const gK = vs + <usize>(iters + 1) * rowB;
  const gu = gK + (<usize>nn << 4);
  const gv = gu + rowB;
  const gab = gv + rowB;
  const uT = us + <usize>(iters - 1) * rowB;
  const vT = vs + <usize>iters * rowB;
  const zero = f32x4.splat(0);
  for (let r0 = 0; r0 < rows; r0 += 4) {
    const lanes = rows - r0 < 4 ? rows - r0 : 4;
    gatherLanes(nn, lanes, logits + <usize>r0 * matB, K);
    sinkhornScalings(n, iters, K, us, vs);
    gatherLanes(nn, lanes, dOut + <usize>r0 * matB, gK);
    // P = diag(u_T) K diag(v_T): gK = g·u·v, gu_T = Σ_j g·K·v, gv_T = Σ_i g·u·K
    for (let j = 0; j < n; j++) v128.store(gv + (<usize>j << 4), zero);
    for (let i = 0; i < n; i++) {
      const ui = v128.load(uT + (<usize>i << 4));
      let su = zero;
      for (let j = 0; j < n; j++) {
        const q = <usize>i * rowB + (<usize>j << 4);
        const g = v128.load(gK + q);
        const kij = v128.load(K + q);
        const vj = v128.load(vT + (<usize>j << 4));
        const gu_ = f32x4.mul(g, ui);
        v128.store(gK + q, f32x4.mul(gu_, vj));
        su = fmadd(f32x4.mul(g, kij), vj, su);
        const pj = gv + (<usize>j << 4);
        v128.store(pj, fmadd(gu_, kij, v128.load(pj)));
      }
      v128.store(gu + (<usize>i << 4), su);
    }
    if (n == 4) {
      sinkhornReverse4(iters, K, us, vs, gK, gu, gv, gab + rowB, gab + rowB + <usize>iters * rowB);
    } else if (n == 2) {
      sinkhornReverse2(iters, K, us, vs, gK, gu, gv);
    } else {
      sinkhornReverse(n, iters, K, us, vs, gK, gu, gv, gab);
    }
    for (let q = 0; q < nn; q++) {
      const p = gK + (<usize>q << 4);
      v128.store(p, f32x4.mul(v128.load(p), v128.load(K + (<usize>q << 4))));
    }
    scatterLanes(nn, lanes, gK, dLogits + <usize>r0 * matB, true);
  }
}

/**
 * The reverse iterations of mhcSinkhornBackward (gK, gu, gv hold the gradients at the output; gK
 * accumulates). Per iteration t (reverse): v_t = 1/(Kᵀu_t) gives gb = −gv ∘ v², gK += u gbᵀ,
 * gu += K gb (gu is the output's only at t = T); u_t = 1/(K v_{t−1}) gives ga = −gu ∘ u²,
 * gK += ga v_{t−1}ᵀ, gv = Kᵀ ga. Row i of gK needs only ga_i, so both updates of gK and the new gv
 * run in one pass per row.
 */
function sinkhornReverse(n: i32, iters: i32, K: usize, us: usize, vs: usize, gK: usize, gu: usize, gv: usize, gab: usize): void {
  const rowB = <usize>n << 4;
  const zero = f32x4.splat(0);
  for (let t = iters; t >= 1; t--) {
    const u = us + <usize>(t - 1) * rowB;
    const v = vs + <usize>t * rowB;
    const vPrev = vs + <usize>(t - 1) * rowB;
    for (let j = 0; j < n; j++) {
      const pj = gv + (<usize>j << 4);
      const vj = v128.load(v + (<usize>j << 4));
      v128.store(gab + (<usize>j << 4), f32x4.neg(f32x4.mul(v128.load(pj), f32x4.mul(vj, vj))));
      v128.store(pj, zero);
    }
    for (let i = 0; i < n; i++) {
      const ki = K + <usize>i * rowB;
      const gki = gK + <usize>i * rowB;
      const ui = v128.load(u + (<usize>i << 4));
      let s = t == iters ? v128.load(gu + (<usize>i << 4)) : zero;
      for (let j = 0; j < n; j++) s = fmadd(v128.load(ki + (<usize>j << 4)), v128.load(gab + (<usize>j << 4)), s);
      const ga = f32x4.neg(f32x4.mul(s, f32x4.mul(ui, ui)));
      for (let j = 0; j < n; j++) {
        const o = <usize>j << 4;
        v128.store(gki + o, fmadd(ui, v128.load(gab + o), fmadd(ga, v128.load(vPrev + o), v128.load(gki + o))));
        v128.store(gv + o, fmadd(v128.load(ki + o), ga, v128.load(gv + o)));
      }
    }
  }
}

/** sinkhornReverse for n = 2: everything in locals. */
function sinkhornReverse2(iters: i32, K: usize, us: usize, vs: usize, gK: usize, gu: usize, gv: usize): void {
  const k00 = v128.load(K, 0), k01 = v128.load(K, 16), k10 = v128.load(K, 32), k11 = v128.load(K, 48);
  let a00 = v128.load(gK, 0), a01 = v128.load(gK, 16), a10 = v128.load(gK, 32), a11 = v128.load(gK, 48);
  let gv0 = v128.load(gv, 0), gv1 = v128.load(gv, 16);
  for (let t = iters; t >= 1; t--) {
    const v = vs + (<usize>t << 5);
    const vp = vs + (<usize>(t - 1) << 5);
    const u = us + (<usize>(t - 1) << 5);
    const v0 = v128.load(v, 0), v1 = v128.load(v, 16);
    const gb0 = f32x4.neg(f32x4.mul(gv0, f32x4.mul(v0, v0)));
    const gb1 = f32x4.neg(f32x4.mul(gv1, f32x4.mul(v1, v1)));
    let s0 = fmadd(k01, gb1, f32x4.mul(k00, gb0));
    let s1 = fmadd(k11, gb1, f32x4.mul(k10, gb0));
    if (t == iters) {
      s0 = f32x4.add(s0, v128.load(gu, 0));
      s1 = f32x4.add(s1, v128.load(gu, 16));
    }
    const u0 = v128.load(u, 0), u1 = v128.load(u, 16);
    const ga0 = f32x4.neg(f32x4.mul(s0, f32x4.mul(u0, u0)));
    const ga1 = f32x4.neg(f32x4.mul(s1, f32x4.mul(u1, u1)));
    gv0 = fmadd(k10, ga1, f32x4.mul(k00, ga0));
    gv1 = fmadd(k11, ga1, f32x4.mul(k01, ga0));
    const vp0 = v128.load(vp, 0), vp1 = v128.load(vp, 16);
    a00 = fmadd(u0, gb0, fmadd(ga0, vp0, a00));
    a01 = fmadd(u0, gb1, fmadd(ga0, vp1, a01));
    a10 = fmadd(u1, gb0, fmadd(ga1, vp0, a10));
    a11 = fmadd(u1, gb1, fmadd(ga1, vp1, a11));
  }
  v128.store(gK, a00, 0); v128.store(gK, a01, 16); v128.store(gK, a10, 32); v128.store(gK, a11, 48);
}

/**
 * sinkhornReverse for n = 4 (mHC's default): the recurrence with the matrix in locals, keeping gb_t
 * and ga_t (slots gbs, gas), then gK += Σ_t u_t gb_tᵀ + ga_t v_{t−1}ᵀ one row at a time.
 */
function sinkhornReverse4(iters: i32, K: usize, us: usize, vs: usize, gK: usize, gu: usize, gv: usize, gbs: usize, gas: usize): void {
  const k00 = v128.load(K, 0), k01 = v128.load(K, 16), k02 = v128.load(K, 32), k03 = v128.load(K, 48);
  const k10 = v128.load(K, 64), k11 = v128.load(K, 80), k12 = v128.load(K, 96), k13 = v128.load(K, 112);
  const k20 = v128.load(K, 128), k21 = v128.load(K, 144), k22 = v128.load(K, 160), k23 = v128.load(K, 176);
  const k30 = v128.load(K, 192), k31 = v128.load(K, 208), k32 = v128.load(K, 224), k33 = v128.load(K, 240);
  let gv0 = v128.load(gv, 0), gv1 = v128.load(gv, 16), gv2 = v128.load(gv, 32), gv3 = v128.load(gv, 48);
  for (let t = iters; t >= 1; t--) {
    const v = vs + (<usize>t << 6);
    const u = us + (<usize>(t - 1) << 6);
    const v0 = v128.load(v, 0), v1 = v128.load(v, 16), v2 = v128.load(v, 32), v3 = v128.load(v, 48);
    const gb0 = f32x4.neg(f32x4.mul(gv0, f32x4.mul(v0, v0)));
    const gb1 = f32x4.neg(f32x4.mul(gv1, f32x4.mul(v1, v1)));
    const gb2 = f32x4.neg(f32x4.mul(gv2, f32x4.mul(v2, v2)));
    const gb3 = f32x4.neg(f32x4.mul(gv3, f32x4.mul(v3, v3)));
    let s0 = fmadd(k03, gb3, fmadd(k02, gb2, fmadd(k01, gb1, f32x4.mul(k00, gb0))));
    let s1 = fmadd(k13, gb3, fmadd(k12, gb2, fmadd(k11, gb1, f32x4.mul(k10, gb0))));
    let s2 = fmadd(k23, gb3, fmadd(k22, gb2, fmadd(k21, gb1, f32x4.mul(k20, gb0))));
    let s3 = fmadd(k33, gb3, fmadd(k32, gb2, fmadd(k31, gb1, f32x4.mul(k30, gb0))));
    if (t == iters) {
      s0 = f32x4.add(s0, v128.load(gu, 0));
      s1 = f32x4.add(s1, v128.load(gu, 16));
      s2 = f32x4.add(s2, v128.load(gu, 32));
      s3 = f32x4.add(s3, v128.load(gu, 48));
    }
    const u0 = v128.load(u, 0), u1 = v128.load(u, 16), u2 = v128.load(u, 32), u3 = v128.load(u, 48);
    const ga0 = f32x4.neg(f32x4.mul(s0, f32x4.mul(u0, u0)));
    const ga1 = f32x4.neg(f32x4.mul(s1, f32x4.mul(u1, u1)));
    const ga2 = f32x4.neg(f32x4.mul(s2, f32x4.mul(u2, u2)));
    const ga3 = f32x4.neg(f32x4.mul(s3, f32x4.mul(u3, u3)));
    gv0 = fmadd(k30, ga3, fmadd(k20, ga2, fmadd(k10, ga1, f32x4.mul(k00, ga0))));
    gv1 = fmadd(k31, ga3, fmadd(k21, ga2, fmadd(k11, ga1, f32x4.mul(k01, ga0))));
    gv2 = fmadd(k32, ga3, fmadd(k22, ga2, fmadd(k12, ga1, f32x4.mul(k02, ga0))));
    gv3 = fmadd(k33, ga3, fmadd(k23, ga2, fmadd(k13, ga1, f32x4.mul(k03, ga0))));
    const gb = gbs + (<usize>(t - 1) << 6);
    v128.store(gb, gb0, 0); v128.store(gb, gb1, 16); v128.store(gb, gb2, 32); v128.store(gb, gb3, 48);
    const ga = gas + (<usize>(t - 1) << 6);
    v128.store(ga, ga0, 0); v128.store(ga, ga1, 16); v128.store(ga, ga2, 32); v128.store(ga, ga3, 48);
  }
  for (let i = 0; i < 4; i++) {
    const row = gK + (<usize>i << 6);
    const o = <usize>i << 4;
    let a0 = v128.load(row, 0), a1 = v128.load(row, 16), a2 = v128.load(row, 32), a3 = v128.load(row, 48);
    for (let t = 0; t < iters; t++) {
      const tb = <usize>t << 6;
      const ui = v128.load(us + tb + o);
      const gai = v128.load(gas + tb + o);
      const gb = gbs + tb;
      const vp = vs + tb;
      a0 = fmadd(ui, v128.load(gb, 0), fmadd(gai, v128.load(vp, 0), a0));
      a1 = fmadd(ui, v128.load(gb, 16), fmadd(gai, v128.load(vp, 16), a1));
      a2 = fmadd(ui, v128.load(gb, 32), fmadd(gai, v128.load(vp, 32), a2));
      a3 = fmadd(ui, v128.load(gb, 48), fmadd(gai, v128.load(vp, 48), a3));
    }
    v128.store(row, a0, 0); v128.store(row, a1, 16); v128.store(row, a2, 32); v128.store(row, a3, 48);
  }
}

// ---------------------------------------------------------------------------------------------
// stream mixes; a row holds n streams of d floats, x[(r·n + i)·d + c]

export function mhcCopyBlock(rows: i32, cols: i32, src: usize, ldSrc: i32, dst: usize, ldDst: i32): void {
  const full = <usize>(cols & ~3) << 2;
  const rem = cols & 3;
  for (let r = 0; r < rows; r++) {
    const a = src + (<usize>r * <usize>ldSrc << 2);
    const b = dst + (<usize>r * <usize>ldDst << 2);
    let c: usize = 0;
    for (; c < full; c += 16) v128.store(b + c, v128.load(a + c));
    if (rem != 0) storeTail(b + full, loadTail(a + full, rem), rem);
  }
}

/** dst[0..d) (+)= Σ_k w[k·wStep] · src[k·srcStride + c] for k < count. */
@inline function combine(count: i32, d: i32, w: usize, wStep: usize, src: usize, srcStride: usize, dst: usize, acc: bool): void {
  const full = <usize>(d & ~3) << 2;
  const rem = d & 3;
  let c: usize = 0;
  // four vectors per pass: four independent accumulation chains, one weight splat per term
  for (; c + 64 <= full; c += 64) {
    const p = dst + c;
    let s0 = acc ? v128.load(p, 0) : f32x4.splat(0);
    let s1 = acc ? v128.load(p, 16) : f32x4.splat(0);
    let s2 = acc ? v128.load(p, 32) : f32x4.splat(0);
    let s3 = acc ? v128.load(p, 48) : f32x4.splat(0);
    for (let k = 0; k < count; k++) {
      const wk = f32x4.splat(load<f32>(w + <usize>k * wStep));
      const q = src + <usize>k * srcStride + c;
      s0 = fmadd(wk, v128.load(q, 0), s0);
      s1 = fmadd(wk, v128.load(q, 16), s1);
      s2 = fmadd(wk, v128.load(q, 32), s2);
      s3 = fmadd(wk, v128.load(q, 48), s3);
    }
    v128.store(p, s0, 0);
    v128.store(p, s1, 16);
    v128.store(p, s2, 32);
    v128.store(p, s3, 48);
  }
  for (; c < full; c += 16) {
    let s = acc ? v128.load(dst + c) : f32x4.splat(0);
    for (let k = 0; k < count; k++) s = fmadd(f32x4.splat(load<f32>(w + <usize>k * wStep)), v128.load(src + <usize>k * srcStride + c), s);
    v128.store(dst + c, s);
  }
  if (rem != 0) {
    let s = acc ? loadTail(dst + full, rem) : f32x4.splat(0);
    for (let k = 0; k < count; k++) s = fmadd(f32x4.splat(load<f32>(w + <usize>k * wStep)), loadTail(src + <usize>k * srcStride + full, rem), s);
    storeTail(dst + full, s, rem);
  }
}

/**
 * out[k·4] += Σ_c shared[c]·others[k·otherStride + c] for k < count (d floats each): four dot products
 * at a time, sharing the loads of `shared` and keeping four independent accumulation chains (a single
 * chain is bound by the fused multiply-add latency at mHC's small d).
 */
function multiDot(count: i32, d: i32, shared: usize, others: usize, otherStride: usize, out: usize): void {
  const full = <usize>(d & ~3) << 2;
  const rem = d & 3;
  let k = 0;
  for (; k + 4 <= count; k += 4) {
    const o0 = others + <usize>k * otherStride;
    const o1 = o0 + otherStride, o2 = o1 + otherStride, o3 = o2 + otherStride;
    let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
    let c: usize = 0;
    for (; c < full; c += 16) {
      const g = v128.load(shared + c);
      s0 = fmadd(g, v128.load(o0 + c), s0);
      s1 = fmadd(g, v128.load(o1 + c), s1);
      s2 = fmadd(g, v128.load(o2 + c), s2);
      s3 = fmadd(g, v128.load(o3 + c), s3);
    }
    if (rem != 0) {
      const g = loadTail(shared + full, rem);
      s0 = fmadd(g, loadTail(o0 + full, rem), s0);
      s1 = fmadd(g, loadTail(o1 + full, rem), s1);
      s2 = fmadd(g, loadTail(o2 + full, rem), s2);
      s3 = fmadd(g, loadTail(o3 + full, rem), s3);
    }
    // transpose-free horizontal sums of the four accumulators into one vector: lane k = Σ s_k
    const t01 = f32x4.add(i32x4.shuffle(s0, s1, 0, 1, 4, 5), i32x4.shuffle(s0, s1, 2, 3, 6, 7));
    const t23 = f32x4.add(i32x4.shuffle(s2, s3, 0, 1, 4, 5), i32x4.shuffle(s2, s3, 2, 3, 6, 7));
    const sums = f32x4.add(i32x4.shuffle(t01, t23, 0, 2, 4, 6), i32x4.shuffle(t01, t23, 1, 3, 5, 7));
    const p = out + (<usize>k << 2);
    v128.store(p, f32x4.add(v128.load(p), sums));
  }
  for (; k < count; k++) {
    const o = others + <usize>k * otherStride;
    let s0 = f32x4.splat(0);
    let c: usize = 0;
    for (; c < full; c += 16) s0 = fmadd(v128.load(shared + c), v128.load(o + c), s0);
    if (rem != 0) s0 = fmadd(loadTail(shared + full, rem), loadTail(o + full, rem), s0);
    const p = out + (<usize>k << 2);
    store<f32>(p, load<f32>(p) + hsum(s0));
  }
}

export function mhcWeightedSum(rows: i32, n: i32, d: i32, w: usize, x: usize, out: usize): void {
  const dB = <usize>d << 2;
  for (let r = 0; r < rows; r++) {
    combine(n, d, w + (<usize>(r * n) << 2), 4, x + <usize>(r * n) * dB, dB, out + <usize>r * dB, false);
  }
}

export function mhcWeightedSumBackward(rows: i32, n: i32, d: i32, w: usize, x: usize, dOut: usize, dW: usize, dX: usize): void {
  const dB = <usize>d << 2;
  for (let r = 0; r < rows; r++) {
    const g = dOut + <usize>r * dB;
    const k0 = <usize>(r * n);
    if (dW != 0) multiDot(n, d, g, x + k0 * dB, dB, dW + (k0 << 2));
    if (dX != 0) {
      for (let i = 0; i < n; i++) {
        const k = k0 + <usize>i;
        combine(1, d, w + (k << 2), 0, g, 0, dX + k * dB, true);
      }
    }
  }
}

export function mhcMixForward(rows: i32, n: i32, d: i32, hRes: usize, x: usize, hPost: usize, y: usize, out: usize): void {
  const dB = <usize>d << 2;
  const nn = n * n;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>(r * n) * dB;
    const yr = y + <usize>r * dB;
    for (let i = 0; i < n; i++) {
      const o = out + <usize>(r * n + i) * dB;
      combine(1, d, hPost + (<usize>(r * n + i) << 2), 0, yr, 0, o, false);
      combine(n, d, hRes + (<usize>(r * nn + i * n) << 2), 4, xr, dB, o, true);
    }
  }
}

export function mhcMixBackward(
  rows: i32, n: i32, d: i32, hRes: usize, x: usize, hPost: usize, y: usize, dOut: usize,
  dHRes: usize, dX: usize, dHPost: usize, dY: usize,
): void {
  const dB = <usize>d << 2;
  const nn = n * n;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>(r * n) * dB;
    const yr = y + <usize>r * dB;
    const gr = dOut + <usize>(r * n) * dB;
    const hr = hRes + (<usize>(r * nn) << 2);
    if (dHPost != 0) multiDot(n, d, yr, gr, dB, dHPost + (<usize>(r * n) << 2));
    if (dHRes != 0) {
      for (let i = 0; i < n; i++) multiDot(n, d, gr + <usize>i * dB, xr, dB, dHRes + (<usize>(r * nn + i * n) << 2));
    }
    // dY_r += Σ_i hPost[r,i]·dOut[r,i];  dX[r,j] += Σ_i hRes[r,i,j]·dOut[r,i]
    if (dY != 0) combine(n, d, hPost + (<usize>(r * n) << 2), 4, gr, dB, dY + <usize>r * dB, true);
    if (dX != 0) {
      for (let j = 0; j < n; j++) combine(n, d, hr + (<usize>j << 2), <usize>n << 2, gr, dB, dX + <usize>(r * n + j) * dB, true);
    }
  }
}

// Helpers shared by the non-GEMM AssemblyScript kernels (attention.ts, elementwise.ts, time.ts,
// mhc.ts): fused multiply-add, a vectorised exp, a xoshiro128** generator kept in locals by the
// callers, and small register-blocked micro-kernels with arbitrary strides.
//
// Everything here is compiled into the one module built from kernels.entry.ts (all kernels share
// one module so that their static data never collide on the shared memory).

@inline export function fmadd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

@inline export function imin32(a: i32, b: i32): i32 {
  return a < b ? a : b;
}

@inline export function imax32(a: i32, b: i32): i32 {
  return a > b ? a : b;
}

/** The last rem = 1..3 floats at p as a vector (other lanes 0); reads nothing past them. */
@inline export function loadTail(p: usize, rem: i32): v128 {
  if (rem == 2) return v128.load64_zero(p);
  if (rem == 1) return v128.load32_zero(p);
  return v128.load32_lane(p, v128.load64_zero(p), 2, 8);
}

/** Stores the first rem = 1..3 lanes of v at p. */
@inline export function storeTail(p: usize, v: v128, rem: i32): void {
  if (rem == 1) {
    v128.store32_lane(p, v, 0);
  } else {
    v128.store64_lane(p, v, 0);
    if (rem == 3) v128.store32_lane(p, v, 2, 8);
  }
}

/** All-ones in the first rem lanes. */
@inline export function tailMask(rem: i32): v128 {
  return i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(rem));
}

/** Horizontal sum of the four lanes. */
@inline export function hsum(v: v128): f32 {
  const t = f32x4.add(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(f32x4.add(t, i32x4.shuffle(t, t, 1, 0, 3, 2)), 0);
}

/** Horizontal max of the four lanes. */
@inline export function hmax(v: v128): f32 {
  const t = f32x4.pmax(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(f32x4.pmax(t, i32x4.shuffle(t, t, 1, 0, 3, 2)), 0);
}

/**
 * e^x per lane for x ≤ 0 (softmax arguments), Cephes expf: x = n·ln2 + r, |r| ≤ ln2/2, a degree-5
 * polynomial for e^r, 2^n by the exponent bits; about 1 ulp. x is clamped at −87.3 (results
 * ≈ 1e−38 instead of underflowing to 0; the callers mask lanes that must be exactly 0).
 */
@inline export function expv(x0: v128): v128 {
  // (pmax, and rounding by adding 1.5·2^23: single instructions on x64, unlike wasm's f32x4.max /
  // nearest / trunc_sat, whose NaN and overflow rules cost V8 several instructions each)
  const x1 = f32x4.pmax(x0, f32x4.splat(-87.3));
  const magic = f32x4.splat(12582912.0); // 1.5·2^23: adding it rounds to an integer (ties to even)
  const t = f32x4.add(f32x4.mul(x1, f32x4.splat(1.44269504088896341)), magic);
  const fx = f32x4.sub(t, magic);
  let x = f32x4.sub(x1, f32x4.mul(fx, f32x4.splat(0.693359375)));
  x = f32x4.sub(x, f32x4.mul(fx, f32x4.splat(-2.12194440e-4)));
  const z = f32x4.mul(x, x);
  let y = f32x4.splat(1.9875691500e-4);
  y = fmadd(y, x, f32x4.splat(1.3981999507e-3));
  y = fmadd(y, x, f32x4.splat(8.3334519073e-3));
  y = fmadd(y, x, f32x4.splat(4.1665795894e-2));
  y = fmadd(y, x, f32x4.splat(1.6666665459e-1));
  y = fmadd(y, x, f32x4.splat(5.0000001201e-1));
  y = fmadd(y, z, f32x4.add(x, f32x4.splat(1)));
  // n = bits(t) − bits(magic) (the integer sits in the low mantissa bits); 2^n = (n + 127) << 23
  const pow2n = i32x4.shl(i32x4.add(i32x4.sub(t, magic), i32x4.splat(127)), 23);
  return f32x4.mul(y, pow2n);
}

// ---------------------------------------------------------------------------------------------
// xoshiro128** (bit-identical to Rng.nextU32 / the reference's StateRng). The state lives in four
// globals between calls of `rngNext`; hot loops copy it to locals themselves.

export let rs0: u32 = 0;
export let rs1: u32 = 0;
export let rs2: u32 = 0;
export let rs3: u32 = 0;

export function rngLoad(state: usize): void {
  rs0 = load<u32>(state);
  rs1 = load<u32>(state, 4);
  rs2 = load<u32>(state, 8);
  rs3 = load<u32>(state, 12);
}

export function rngSave(state: usize): void {
  store<u32>(state, rs0);
  store<u32>(state, rs1, 4);
  store<u32>(state, rs2, 8);
  store<u32>(state, rs3, 12);
}

/** Next 32-bit output (advances the global state). */
@inline export function rngNext(): u32 {
  const s0 = rs0, s1 = rs1, s2 = rs2 ^ s0, s3 = rs3 ^ s1;
  const result = rotl<u32>(s1 * 5, 7) * 9;
  rs1 = s1 ^ s2;
  rs0 = s0 ^ s3;
  rs2 = s2 ^ (s1 << 9);
  rs3 = rotl<u32>(s3, 11);
  return result;
}

/**
 * Writes n raw draws' s1 words (the state word the output is scrambled from) to buf (u32) and
 * advances the global state by n: the serial part of xoshiro128**, kept minimal; `dropApply`
 * scrambles and thresholds them 4 at a time.
 */
export function rngRaw(n: i32, buf: usize): void {
  let x0 = rs0, x1 = rs1, x2 = rs2, x3 = rs3;
  let b = buf;
  const end4 = buf + (<usize>(n & ~3) << 2);
  for (; b < end4; b += 16) {
    store<u32>(b, x1);
    let t = x1 << 9; x2 ^= x0; x3 ^= x1; x1 ^= x2; x0 ^= x3; x2 ^= t; x3 = rotl<u32>(x3, 11);
    store<u32>(b, x1, 4);
    t = x1 << 9; x2 ^= x0; x3 ^= x1; x1 ^= x2; x0 ^= x3; x2 ^= t; x3 = rotl<u32>(x3, 11);
    store<u32>(b, x1, 8);
    t = x1 << 9; x2 ^= x0; x3 ^= x1; x1 ^= x2; x0 ^= x3; x2 ^= t; x3 = rotl<u32>(x3, 11);
    store<u32>(b, x1, 12);
    t = x1 << 9; x2 ^= x0; x3 ^= x1; x1 ^= x2; x0 ^= x3; x2 ^= t; x3 = rotl<u32>(x3, 11);
  }
  const end = buf + (<usize>n << 2);
  for (; b < end; b += 4) {
    store<u32>(b, x1);
    const t = x1 << 9; x2 ^= x0; x3 ^= x1; x1 ^= x2; x0 ^= x3; x2 ^= t; x3 = rotl<u32>(x3, 11);
  }
  rs0 = x0; rs1 = x1; rs2 = x2; rs3 = x3;
}

/**
 * Integer drop threshold: u/2^32 < p ⟺ u < ceil(p·2^32) for integer u. Returns −1 when every
 * draw drops (ceil(p·2^32) = 2^32, p within 2^−32 of 1), which the callers handle separately.
 */
export function dropThresholdU32(p: f64): i64 {
  const t = Math.ceil(p * 4294967296.0);
  return t >= 4294967296.0 ? -1 : <i64>t;
}

/**
 * For i < n: u = scramble(raw[i]); keep = u ≥ thr (unsigned; thr < 0: drop all);
 * mask[i] = keep ? keepF : 0 (when mask ≠ 0); out[i] = keep ? f32(f64(src[i])·keep64) : src[i]·0.
 * out may alias src. Vector body + scalar tail.
 */
export function dropApply(n: i32, raw: usize, thr: i64, keep64: f64, src: usize, mask: usize, out: usize): void {
  const allDrop = thr < 0;
  const thrV = i32x4.splat(<i32>(<u32>(allDrop ? 0 : thr)));
  const keepF = <f32>keep64;
  // When keep is a float32 (p = 0.5, 0.2, 0.75, …) the float32 product x·keep is the correctly
  // rounded exact product, i.e. exactly f32(f64(x)·keep): no float64 detour needed.
  const exactF32 = <f64>keepF == keep64;
  const kf = f32x4.splat(keepF);
  const kd = f64x2.splat(keep64);
  const zero = f32x4.splat(0);
  const five = i32x4.splat(5), nine = i32x4.splat(9);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const s1 = v128.load(raw + o);
    const x = i32x4.mul(s1, five);
    const u = i32x4.mul(v128.or(i32x4.shl(x, 7), i32x4.shr_u(x, 25)), nine);
    const drop = allDrop ? i32x4.splat(-1) : i32x4.lt_u(u, thrV);
    const xv = v128.load(src + o);
    let kept: v128;
    if (exactF32) {
      kept = f32x4.mul(xv, kf);
    } else {
      const lo = f64x2.mul(f64x2.promote_low_f32x4(xv), kd);
      const hi = f64x2.mul(f64x2.promote_low_f32x4(i32x4.shuffle(xv, xv, 2, 3, 0, 1)), kd);
      kept = i32x4.shuffle(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
    }
    v128.store(out + o, v128.bitselect(f32x4.mul(xv, zero), kept, drop));
    if (mask != 0) v128.store(mask + o, v128.andnot(kf, drop));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const u = rotl<u32>(load<u32>(raw + o) * 5, 7) * 9;
    const drop = allDrop || <i64>u < thr;
    const xv = load<f32>(src + o);
    store<f32>(out + o, drop ? xv * 0 : <f32>(<f64>xv * keep64));
    if (mask != 0) store<f32>(mask + o, drop ? 0 : keepF);
  }
}

/**
 * The drop threshold: u = x/2^32 < p  ⟺  x < p·2^32 (both sides exact in float64), so a draw x
 * drops iff <f64>x < dropThreshold(p).
 */
@inline export function dropThreshold(p: f64): f64 {
  return p * 4294967296.0;
}

// ---------------------------------------------------------------------------------------------
// Micro-kernels: C[r][0..w) = Σ_k W[k][r] · Z[k][0..w) for r < 5, with W read as 5 consecutive
// floats at w + k·ws and Z as w consecutive floats at z + k·zs (byte strides). Writes (or adds to)
// 5 rows of C at c + r·cs. 10 (resp. 5) accumulators: V8 has 15 allocatable xmm registers.

export function mk5x8(kc: i32, w: usize, ws: usize, z: usize, zs: usize, c: usize, cs: usize, acc: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let c40 = f32x4.splat(0), c41 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(z);
    const b1 = v128.load(z, 16);
    let x = v128.load32_splat(w);
    c00 = fmadd(x, b0, c00); c01 = fmadd(x, b1, c01);
    x = v128.load32_splat(w, 4);
    c10 = fmadd(x, b0, c10); c11 = fmadd(x, b1, c11);
    x = v128.load32_splat(w, 8);
    c20 = fmadd(x, b0, c20); c21 = fmadd(x, b1, c21);
    x = v128.load32_splat(w, 12);
    c30 = fmadd(x, b0, c30); c31 = fmadd(x, b1, c31);
    x = v128.load32_splat(w, 16);
    c40 = fmadd(x, b0, c40); c41 = fmadd(x, b1, c41);
    w += ws;
    z += zs;
  }
  if (acc) {
    c00 = f32x4.add(c00, v128.load(c)); c01 = f32x4.add(c01, v128.load(c, 16));
    c10 = f32x4.add(c10, v128.load(c + cs)); c11 = f32x4.add(c11, v128.load(c + cs, 16));
    c20 = f32x4.add(c20, v128.load(c + 2 * cs)); c21 = f32x4.add(c21, v128.load(c + 2 * cs, 16));
    c30 = f32x4.add(c30, v128.load(c + 3 * cs)); c31 = f32x4.add(c31, v128.load(c + 3 * cs, 16));
    c40 = f32x4.add(c40, v128.load(c + 4 * cs)); c41 = f32x4.add(c41, v128.load(c + 4 * cs, 16));
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  c += cs;
  v128.store(c, c10); v128.store(c, c11, 16);
  c += cs;
  v128.store(c, c20); v128.store(c, c21, 16);
  c += cs;
  v128.store(c, c30); v128.store(c, c31, 16);
  c += cs;
  v128.store(c, c40); v128.store(c, c41, 16);
}

export function mk5x4(kc: i32, w: usize, ws: usize, z: usize, zs: usize, c: usize, cs: usize, acc: bool): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0), c4 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b = v128.load(z);
    c0 = fmadd(v128.load32_splat(w), b, c0);
    c1 = fmadd(v128.load32_splat(w, 4), b, c1);
    c2 = fmadd(v128.load32_splat(w, 8), b, c2);
    c3 = fmadd(v128.load32_splat(w, 12), b, c3);
    c4 = fmadd(v128.load32_splat(w, 16), b, c4);
    w += ws;
    z += zs;
  }
  if (acc) {
    c0 = f32x4.add(c0, v128.load(c));
    c1 = f32x4.add(c1, v128.load(c + cs));
    c2 = f32x4.add(c2, v128.load(c + 2 * cs));
    c3 = f32x4.add(c3, v128.load(c + 3 * cs));
    c4 = f32x4.add(c4, v128.load(c + 4 * cs));
  }
  v128.store(c, c0);
  v128.store(c + cs, c1);
  v128.store(c + 2 * cs, c2);
  v128.store(c + 3 * cs, c3);
  v128.store(c + 4 * cs, c4);
}

/**
 * C (5 rows × hp columns, row stride cs) = Σ_k W[k][r] · Z[k][0..hp): mk5x8 over 8-column chunks
 * and mk5x4 for a last 4-column chunk (hp is a multiple of 4).
 */
export function mk5xN(kc: i32, hp: i32, w: usize, ws: usize, z: usize, zs: usize, c: usize, cs: usize, acc: bool): void {
  let c0 = 0;
  for (; c0 + 8 <= hp; c0 += 8) mk5x8(kc, w, ws, z + (<usize>c0 << 2), zs, c + (<usize>c0 << 2), cs, acc);
  if (c0 < hp) mk5x4(kc, w, ws, z + (<usize>c0 << 2), zs, c + (<usize>c0 << 2), cs, acc);
}

/**
 * Dropout factor of the merged padding key (p copies, kept count k ~ Binomial(p, 1 − dropP) drawn
 * by inverse CDF from u ∈ [0, 1)): k / (p·(1 − dropP)). The same float64 operations, in the same
 * order, as paddingKeepFactor in src/kernels/reference/attention.ts (documented there), so both give
 * the same bits.
 */
export function paddingKeepFactor(u: f64, p: i32, dropP: f64): f64 {
  if (p > 1000) return 1;
  const q: f64 = 1 - dropP;
  let k: i32;
  if (dropP >= q) {
    let pmf: f64 = 1;
    for (let t = 0; t < p; t++) pmf *= dropP;
    const ratio = q / dropP;
    let cdf = pmf;
    k = 0;
    while (u >= cdf && k < p) {
      pmf = ((pmf * <f64>(p - k)) / <f64>(k + 1)) * ratio;
      k++;
      cdf += pmf;
    }
  } else {
    let pmf: f64 = 1;
    for (let t = 0; t < p; t++) pmf *= q;
    const ratio = dropP / q;
    let tail = pmf;
    k = p;
    while (k > 0 && u < 1 - tail) {
      pmf = ((pmf * <f64>k) / <f64>(p - k + 1)) * ratio;
      k--;
      tail += pmf;
    }
  }
  return <f64>k / (<f64>p * q);
}

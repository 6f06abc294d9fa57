// Packed causal attention (the padding-skip path) for the WebAssembly SIMD backend.
// Semantics: Kernels.packedCausalAttentionForward/Backward in src/kernels/types.ts.
//
// Per segment (n queries from row r0, p padding positions) and head, keys are indexed κ = 0..n:
// κ = 0 is the merged padding key (row padRow, score + ln p; absent when p = 0) and κ = j + 1 is
// key j. Query i sees κ ≤ i + 1, which is exactly the triangle row layout [P_P, P_0, …, P_i].
// The work is blocked like a GEMM, 5 queries (a "sliver") at a time:
//   forward:  S = (Q/√hd)·Kᵀ for the sliver's keys (5×8 blocks, K packed transposed), row softmax
//             (vectorised exp) and dropout in the reference's draw order (the padding key's draw
//             gives a Binomial kept share, paddingKeepFactor), then out = A·V (A packed
//             [κ][5], V packed rows, 5×8 blocks over the head's columns);
//   backward: dA = dO·Vᵀ (same blocking), dS = (A∘dA − P∘rowsum(A∘dA))/√hd per row,
//             dQ = dS·K per sliver; after all slivers dV = Aᵀ·dO and dK = dSᵀ·Q per 5-key
//             sliver, reading A and dS from row-major n × (n+1) scratch matrices.
// Every operand is packed into scratch with the head dimension padded to a multiple of 4 (zeros),
// so any headDim works (50, 25, …) and stores into the caller's rows touch only the head's columns.

import { dropApply, dropThresholdU32, expv, hmax, hsum, imax32, imin32, loadTail, mk5x8, mk5xN, paddingKeepFactor, rngLoad, rngRaw, rngSave, storeTail } from './common';

@inline function ceilTo(x: i32, m: i32): i32 {
  return ((x + m - 1) / m) * m;
}

// Scratch layout for a call with segments of at most nmax queries (offsets in floats). Plain
// globals, not an object: the module must not allocate (the JS arena owns all memory above
// __heap_base).
let ldQ_: i32 = 0; // queries per QT / dOT row (multiple of 5)
let ldK_: i32 = 0; // keys per KT / VT row (multiple of 8, ≥ nmax + 1)
let hp_: i32 = 0; // head dim padded to 4
let ldM_: i32 = 0; // row stride of the A / dS matrices (≥ nmax + 6)
let oQT: i32 = 0;
let oKT: i32 = 0;
let oVP: i32 = 0;
let oS: i32 = 0;
let oAP: i32 = 0;
let oCS: i32 = 0;
let oRAW: i32 = 0;
let oDOP: i32 = 0;
let oQP: i32 = 0;
let oMA: i32 = 0;
let oMDS: i32 = 0;
let oTotal: i32 = 0;

function layout(nmax: i32, hd: i32, backward: bool): void {
  const n5 = ceilTo(imax32(nmax, 1), 5);
  ldQ_ = n5;
  ldK_ = ceilTo(nmax + 1, 8);
  hp_ = ceilTo(hd, 4);
  ldM_ = ceilTo(nmax + 6, 4);
  const hp = hp_;
  let o = 0;
  oQT = o; o += ceilTo(hd * ldQ_, 16); // QT (forward) / dOT (backward)
  oKT = o; o += ceilTo(hd * ldK_, 16); // KT (forward) / VT (backward)
  oVP = o; o += ceilTo((ldK_ + 8) * hp, 16); // V rows (forward) / K rows (backward)
  oS = o; o += ceilTo(5 * (ldK_ + 8) + 8, 16); // a sliver's scores / dA, row stride ldK + 8
  oAP = o; o += ceilTo((ldK_ + 8) * 5, 16); // packed A / dS of a sliver, [κ][5] (≥ ceil4(kmax) groups)
  oCS = o; o += ceilTo(5 * hp, 16); // 5 output rows
  oRAW = o; o += ceilTo(ldK_, 16); // a row's raw dropout draws
  if (backward) {
    oDOP = o; o += ceilTo((n5 + 8) * hp, 16);
    oQP = o; o += ceilTo((n5 + 8) * hp, 16);
    oMA = o; o += ceilTo(n5 * ldM_, 16);
    oMDS = o; o += ceilTo(n5 * ldM_, 16);
  }
  oTotal = o;
}

/** Bytes of scratch the attention kernels need for segments of at most nmax queries. */
export function attentionScratchBytes(nmax: i32, headDim: i32, backward: i32): i32 {
  layout(nmax, headDim, backward != 0);
  return oTotal * 4 + 64;
}

// ---------------------------------------------------------------------------------------------
// Packing

/**
 * dst[c·ld + i] = src row (r0 + i), column c, times scale, for i < n, c < hd; zero for n ≤ i < ld.
 * When withPad: column 0 holds row padRow (or zeros when hasPad is false) and row i goes to i + 1.
 */
function packTransposed(src: usize, ldIn: i32, r0: i32, n: i32, hd: i32, dst: usize, ld: i32, scale: f32,
                        withPad: bool, hasPad: bool, padRow: i32): void {
  const ldB = <usize>ld << 2;
  const ldInB = <usize>ldIn << 2;
  let first = 0;
  if (withPad) {
    const s = src + <usize>padRow * ldInB;
    for (let c = 0; c < hd; c++) store<f32>(dst + <usize>c * ldB, hasPad ? load<f32>(s + (<usize>c << 2)) * scale : 0);
    first = 1;
  }
  const cols = first + n;
  for (let c = 0; c < hd; c++) {
    const d = dst + <usize>c * ldB;
    for (let i = cols; i < ld; i++) store<f32>(d + (<usize>i << 2), 0);
  }
  // 4 rows at a time: each row's hd floats scatter to 4 consecutive columns
  let s = src + <usize>r0 * ldInB;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const d = dst + (<usize>(first + i) << 2);
    const s1 = s + ldInB, s2 = s1 + ldInB, s3 = s2 + ldInB;
    let c = 0;
    const sv = f32x4.splat(scale);
    for (; c + 4 <= hd; c += 4) {
      const o = <usize>c << 2;
      const r0v = f32x4.mul(v128.load(s + o), sv);
      const r1v = f32x4.mul(v128.load(s1 + o), sv);
      const r2v = f32x4.mul(v128.load(s2 + o), sv);
      const r3v = f32x4.mul(v128.load(s3 + o), sv);
      const t0 = i32x4.shuffle(r0v, r1v, 0, 4, 1, 5);
      const t1 = i32x4.shuffle(r0v, r1v, 2, 6, 3, 7);
      const t2 = i32x4.shuffle(r2v, r3v, 0, 4, 1, 5);
      const t3 = i32x4.shuffle(r2v, r3v, 2, 6, 3, 7);
      const dc = d + <usize>c * ldB;
      v128.store(dc, i32x4.shuffle(t0, t2, 0, 1, 4, 5));
      v128.store(dc + ldB, i32x4.shuffle(t0, t2, 2, 3, 6, 7));
      v128.store(dc + 2 * ldB, i32x4.shuffle(t1, t3, 0, 1, 4, 5));
      v128.store(dc + 3 * ldB, i32x4.shuffle(t1, t3, 2, 3, 6, 7));
    }
    for (; c < hd; c++) {
      const o = <usize>c << 2;
      const dc = d + <usize>c * ldB;
      store<f32>(dc, load<f32>(s + o) * scale);
      store<f32>(dc, load<f32>(s1 + o) * scale, 4);
      store<f32>(dc, load<f32>(s2 + o) * scale, 8);
      store<f32>(dc, load<f32>(s3 + o) * scale, 12);
    }
    s += 4 * ldInB;
  }
  for (; i < n; i++) {
    const d = dst + (<usize>(first + i) << 2);
    for (let c = 0; c < hd; c++) store<f32>(d + <usize>c * ldB, load<f32>(s + (<usize>c << 2)) * scale);
    s += ldInB;
  }
}

/**
 * dst[i·hp + c] = src row (r0 + i), column c (zero for hd ≤ c < hp), for i < n; with withPad row 0
 * is row padRow (zeros when hasPad is false) and row i goes to i + 1. Then `extra` zero rows.
 */
function packRows(src: usize, ldIn: i32, r0: i32, n: i32, hd: i32, hp: i32, dst: usize,
                  withPad: bool, hasPad: bool, padRow: i32, extra: i32): void {
  const ldInB = <usize>ldIn << 2;
  const hpB = <usize>hp << 2;
  let d = dst;
  const full = hd & ~3;
  if (withPad) {
    if (hasPad) copyRow(src + <usize>padRow * ldInB, d, hd, hp, full);
    else for (let c = 0; c < hp; c += 4) v128.store(d + (<usize>c << 2), f32x4.splat(0));
    d += hpB;
  }
  let s = src + <usize>r0 * ldInB;
  for (let i = 0; i < n; i++) {
    copyRow(s, d, hd, hp, full);
    s += ldInB;
    d += hpB;
  }
  for (let i = 0; i < extra; i++) {
    for (let c = 0; c < hp; c += 4) v128.store(d + (<usize>c << 2), f32x4.splat(0));
    d += hpB;
  }
}

@inline function copyRow(s: usize, d: usize, hd: i32, hp: i32, full: i32): void {
  for (let c = 0; c < full; c += 4) v128.store(d + (<usize>c << 2), v128.load(s + (<usize>c << 2)));
  if (full < hp) {
    v128.store(d + (<usize>full << 2), f32x4.splat(0));
    for (let c = full; c < hd; c++) store<f32>(d + (<usize>c << 2), load<f32>(s + (<usize>c << 2)));
  }
}

/** dst[0..n) = src[0..n) (any alignment; nothing past n is written). */
function copyFloats(src: usize, dst: usize, n: i32): void {
  const full = <usize>(n & ~3) << 2;
  let o: usize = 0;
  for (; o < full; o += 16) v128.store(dst + o, v128.load(src + o));
  const rem = n & 3;
  if (rem != 0) storeTail(dst + o, loadTail(src + o, rem), rem);
}

/**
 * Transposes 5 rows (byte stride ldB) of kmax floats into [κ][5] groups at dst (20 bytes per κ),
 * 4 κ at a time (reads and writes up to ceil4(kmax)).
 */
function packSliverT(src: usize, ldB: usize, kmax: i32, dst: usize): void {
  const s1 = src + ldB, s2 = s1 + ldB, s3 = s2 + ldB, s4 = s3 + ldB;
  let d = dst;
  for (let k = 0; k < kmax; k += 4) {
    const o = <usize>k << 2;
    const r0 = v128.load(src + o);
    const r1 = v128.load(s1 + o);
    const r2 = v128.load(s2 + o);
    const r3 = v128.load(s3 + o);
    const r4 = v128.load(s4 + o);
    const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5);
    const t1 = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
    const t2 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);
    const t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
    v128.store(d, i32x4.shuffle(t0, t2, 0, 1, 4, 5));
    v128.store32_lane(d, r4, 0, 16);
    v128.store(d, i32x4.shuffle(t0, t2, 2, 3, 6, 7), 20);
    v128.store32_lane(d, r4, 1, 36);
    v128.store(d, i32x4.shuffle(t1, t3, 0, 1, 4, 5), 40);
    v128.store32_lane(d, r4, 2, 56);
    v128.store(d, i32x4.shuffle(t1, t3, 2, 3, 6, 7), 60);
    v128.store32_lane(d, r4, 3, 76);
    d += 80;
  }
}

/** dst row (row i of 5 at stride ldB) = or += the first hd floats of tile rows (stride hp). */
function storeRows(tile: usize, hp: i32, nrows: i32, hd: i32, dst: usize, ldB: usize, acc: bool): void {
  const full = hd & ~3;
  const hpB = <usize>hp << 2;
  for (let r = 0; r < nrows; r++) {
    const t = tile + <usize>r * hpB;
    const d = dst + <usize>r * ldB;
    if (acc) {
      for (let c = 0; c < full; c += 4) {
        const o = <usize>c << 2;
        v128.store(d + o, f32x4.add(v128.load(d + o), v128.load(t + o)));
      }
      for (let c = full; c < hd; c++) {
        const o = <usize>c << 2;
        store<f32>(d + o, load<f32>(d + o) + load<f32>(t + o));
      }
    } else {
      for (let c = 0; c < full; c += 4) {
        const o = <usize>c << 2;
        v128.store(d + o, v128.load(t + o));
      }
      for (let c = full; c < hd; c++) {
        const o = <usize>c << 2;
        store<f32>(d + o, load<f32>(t + o));
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Forward

/**
 * Row softmax over s[0..len) (s[0] is the padding key's score, without ln p yet), in place: writes
 * e^(s − max) and returns 1/Σ. The padding slot gets + logP, or is excluded (exactly 0) when
 * hasPad is false. s has room for a whole last vector (garbage lanes are masked).
 */
function softmaxRow(s: usize, len: i32, hasPad: bool, logP: f32): f32 {
  const lane = i32x4(0, 1, 2, 3);
  const ninf = f32x4.splat(-Infinity);
  if (hasPad) store<f32>(s, load<f32>(s) + logP);
  else store<f32>(s, -Infinity);
  // max
  let mv = ninf;
  let j = 0;
  for (; j + 4 <= len; j += 4) mv = f32x4.pmax(mv, v128.load(s + (<usize>j << 2)));
  if (j < len) {
    const valid = i32x4.lt_s(lane, i32x4.splat(len - j));
    mv = f32x4.pmax(mv, v128.bitselect(v128.load(s + (<usize>j << 2)), ninf, valid));
  }
  const mx = f32x4.splat(hmax(mv));
  // exp and sum
  let sv = f32x4.splat(0);
  j = 0;
  for (; j + 4 <= len; j += 4) {
    const p = s + (<usize>j << 2);
    const e = expv(f32x4.sub(v128.load(p), mx));
    v128.store(p, e);
    sv = f32x4.add(sv, e);
  }
  if (j < len) {
    const p = s + (<usize>j << 2);
    const valid = i32x4.lt_s(lane, i32x4.splat(len - j));
    const e = v128.and(expv(f32x4.sub(v128.load(p), mx)), valid);
    v128.store(p, e);
    sv = f32x4.add(sv, e);
  }
  if (!hasPad) store<f32>(s, 0);
  return 1 / hsum(sv);
}

/**
 * Forward over all segments. Pointers are byte addresses of element 0 (offsets applied); seg points
 * at numSeg triples (start, len, pad) of i32; rng at 4 u32 of xoshiro128** state (0: no dropout).
 */
export function packedAttnForward(
  numSeg: i32, heads: i32, hd: i32, seg: usize, padRow: i32,
  q: usize, k: usize, v: usize, ldIn: i32, dropP: f64, rng: usize,
  probs: usize, dropped: usize, out: usize, ldOut: i32, nmax: i32, scratch: usize,
): void {
  layout(nmax, hd, false);
  const hp = hp_;
  const qt = scratch + (<usize>oQT << 2);
  const kt = scratch + (<usize>oKT << 2);
  const vp = scratch + (<usize>oVP << 2);
  const sb = scratch + (<usize>oS << 2);
  const ap = scratch + (<usize>oAP << 2);
  const cs = scratch + (<usize>oCS << 2);
  const raw = scratch + (<usize>oRAW << 2);
  const useDrop = dropP > 0 && rng != 0;
  if (useDrop) rngLoad(rng);
  const thr = dropThresholdU32(dropP);
  const keep: f64 = 1 / (1 - dropP);
  const scale: f32 = <f32>(1 / Math.sqrt(<f64>hd));
  const ldInB = <usize>ldIn << 2;
  const ldOutB = <usize>ldOut << 2;
  const hpB = <usize>hp << 2;
  let base: usize = 0; // float offset of the segment's triangles
  for (let si = 0; si < numSeg; si++) {
    const r0 = load<i32>(seg + <usize>si * 12);
    const n = load<i32>(seg + <usize>si * 12, 4);
    const pc = load<i32>(seg + <usize>si * 12, 8);
    const tri = <usize>((n * (n + 3)) >> 1);
    if (n == 0) continue;
    const hasPad = pc > 0;
    const logP: f32 = hasPad ? <f32>Math.log(<f64>pc) : 0;
    const nk = n + 1;
    // this segment's strides (≤ the layout's, which are sized for nmax)
    const ldQ = ceilTo(n, 5), ldK = ceilTo(nk, 8);
    const ldKB = <usize>ldK << 2;
    const ldSB = ldKB + 32; // score rows: room for a zero vector past any row's end
    for (let h = 0; h < heads; h++) {
      const col = <usize>(h * hd) << 2;
      packTransposed(q + col, ldIn, r0, n, hd, qt, ldQ, scale, false, false, 0);
      packTransposed(k + col, ldIn, r0, n, hd, kt, ldK, 1, true, hasPad, padRow);
      packRows(v + col, ldIn, r0, n, hd, hp, vp, true, hasPad, padRow, 0);
      const triH = base + <usize>h * tri;
      for (let i0 = 0; i0 < n; i0 += 5) {
        const kmax = imin32(i0 + 6, nk); // keys the sliver needs
        const rows = imin32(5, n - i0);
        // scores of the 5 × kmax block
        for (let k0 = 0; k0 < kmax; k0 += 8) {
          mk5x8(hd, qt + (<usize>i0 << 2), <usize>ldQ << 2, kt + (<usize>k0 << 2), ldKB, sb + (<usize>k0 << 2), ldSB, false);
        }
        for (let r = 0; r < rows; r++) {
          const i = i0 + r;
          const len = i + 2;
          const srow = sb + <usize>r * ldSB;
          const inv = softmaxRow(srow, len, hasPad, logP);
          const rowOff = (triH + <usize>((i * (i + 3)) >> 1)) << 2;
          const pRow = probs + rowOff;
          // P = e · inv (in place), stored to the triangle
          const iv = f32x4.splat(inv);
          let j = 0;
          for (; j + 4 <= len; j += 4) {
            const o = <usize>j << 2;
            const pv = f32x4.mul(v128.load(srow + o), iv);
            v128.store(srow + o, pv);
            v128.store(pRow + o, pv);
          }
          for (; j < len; j++) {
            const o = <usize>j << 2;
            const pj = load<f32>(srow + o) * inv;
            store<f32>(srow + o, pj);
            store<f32>(pRow + o, pj);
          }
          // A (dropout in the reference's order: padding slot when present, then keys 0..i), in
          // place in the score row, then copied to the triangle
          if (useDrop) {
            const first = hasPad ? 0 : 1; // no draw for an absent padding key (its P is 0)
            rngRaw(len - first, raw);
            dropApply(len - first, raw, thr, keep, srow + (<usize>first << 2), 0, srow + (<usize>first << 2));
            if (pc > 1) {
              // the merged padding key: Binomial kept count of its pc copies from the same draw
              const u0 = rotl<u32>(load<u32>(raw) * 5, 7) * 9;
              store<f32>(srow, <f32>(<f64>load<f32>(pRow) * paddingKeepFactor(<f64>u0 / 4294967296.0, pc, dropP)));
            }
            copyFloats(srow, dropped + rowOff, len);
          }
          v128.store(srow + (<usize>len << 2), f32x4.splat(0)); // keys len..kmax−1 (≤ 4) see 0
        }
        for (let r = rows; r < 5; r++) {
          const srow = sb + <usize>r * ldSB;
          for (let jj = 0; jj < kmax; jj += 4) v128.store(srow + (<usize>jj << 2), f32x4.splat(0));
        }
        packSliverT(sb, ldSB, kmax, ap);
        // out rows = A · V
        mk5xN(kmax, hp, ap, 20, vp, hpB, cs, hpB, false);
        storeRows(cs, hp, rows, hd, out + <usize>(r0 + i0) * ldOutB + col, ldOutB, false);
      }
    }
    base += <usize>heads * tri;
  }
  if (useDrop) rngSave(rng);
}

// ---------------------------------------------------------------------------------------------
// Backward

export function packedAttnBackward(
  numSeg: i32, heads: i32, hd: i32, seg: usize, padRow: i32,
  q: usize, k: usize, v: usize, ldIn: i32,
  probs: usize, dropped: usize, dOut: usize, ldOut: i32,
  dq: usize, dk: usize, dv: usize, ldGrad: i32, nmax: i32, scratch: usize,
): void {
  attnBackward(numSeg, heads, hd, seg, padRow, q, k, v, ldIn, probs, dropped, dOut, ldOut, dq, dk, dv, ldGrad, nmax, scratch, 0);
}

/**
 * packedAttnBackward for a worker thread's share of the segments: the padding key's dV / dK rows
 * are not added to row padRow (other threads add theirs there too, and float sums must keep the
 * one-thread order) but WRITTEN to padGrad: segment si (of this call) → padGrad row 2·si (dV) and
 * 2·si + 1 (dK), rows of heads·hd floats, only for segments with n > 0 and padding. The caller then
 * adds them to row padRow in segment order.
 */
export function packedAttnBackwardPad(
  numSeg: i32, heads: i32, hd: i32, seg: usize, padRow: i32,
  q: usize, k: usize, v: usize, ldIn: i32,
  probs: usize, dropped: usize, dOut: usize, ldOut: i32,
  dq: usize, dk: usize, dv: usize, ldGrad: i32, nmax: i32, scratch: usize, padGrad: usize,
): void {
  attnBackward(numSeg, heads, hd, seg, padRow, q, k, v, ldIn, probs, dropped, dOut, ldOut, dq, dk, dv, ldGrad, nmax, scratch, padGrad);
}

function attnBackward(
  numSeg: i32, heads: i32, hd: i32, seg: usize, padRow: i32,
  q: usize, k: usize, v: usize, ldIn: i32,
  probs: usize, dropped: usize, dOut: usize, ldOut: i32,
  dq: usize, dk: usize, dv: usize, ldGrad: i32, nmax: i32, scratch: usize, padGrad: usize,
): void {
  layout(nmax, hd, true);
  const hp = hp_;
  const dot = scratch + (<usize>oQT << 2);
  const vt = scratch + (<usize>oKT << 2);
  const kp = scratch + (<usize>oVP << 2);
  const sb = scratch + (<usize>oS << 2);
  const dsp = scratch + (<usize>oAP << 2);
  const cs = scratch + (<usize>oCS << 2);
  const dop = scratch + (<usize>oDOP << 2);
  const qp = scratch + (<usize>oQP << 2);
  const ma = scratch + (<usize>oMA << 2);
  const mds = scratch + (<usize>oMDS << 2);
  const scale: f32 = <f32>(1 / Math.sqrt(<f64>hd));
  const sv = f32x4.splat(scale);
  const ldInB = <usize>ldIn << 2;
  const ldOutB = <usize>ldOut << 2;
  const ldGB = <usize>ldGrad << 2;
  const hpB = <usize>hp << 2;
  let base: usize = 0;
  for (let si = 0; si < numSeg; si++) {
    const r0 = load<i32>(seg + <usize>si * 12);
    const n = load<i32>(seg + <usize>si * 12, 4);
    const pc = load<i32>(seg + <usize>si * 12, 8);
    const tri = <usize>((n * (n + 3)) >> 1);
    if (n == 0) continue;
    const hasPad = pc > 0;
    const nk = n + 1;
    const ldQ = ceilTo(n, 5), ldK = ceilTo(nk, 8), ldM = ceilTo(n + 6, 4);
    const ldKB = <usize>ldK << 2;
    const ldSB = ldKB + 32;
    const ldMB = <usize>ldM << 2;
    // padding key's gradient rows: row padRow (accumulated), or this segment's padGrad rows
    const padRowB = <usize>(heads * hd) << 2;
    for (let h = 0; h < heads; h++) {
      const col = <usize>(h * hd) << 2;
      const padDv: usize = padGrad == 0 ? 0 : padGrad + <usize>(2 * si) * padRowB + col;
      const padDk: usize = padGrad == 0 ? 0 : padDv + padRowB;
      packTransposed(dOut + col, ldOut, r0, n, hd, dot, ldQ, 1, false, false, 0);
      packTransposed(v + col, ldIn, r0, n, hd, vt, ldK, 1, true, hasPad, padRow);
      packRows(k + col, ldIn, r0, n, hd, hp, kp, true, hasPad, padRow, 0);
      packRows(dOut + col, ldOut, r0, n, hd, hp, dop, false, false, 0, 0);
      packRows(q + col, ldIn, r0, n, hd, hp, qp, false, false, 0, 0);
      const triH = base + <usize>h * tri;
      for (let i0 = 0; i0 < n; i0 += 5) {
        const kmax = imin32(i0 + 6, nk);
        const rows = imin32(5, n - i0);
        for (let k0 = 0; k0 < kmax; k0 += 8) {
          mk5x8(hd, dot + (<usize>i0 << 2), <usize>ldQ << 2, vt + (<usize>k0 << 2), ldKB, sb + (<usize>k0 << 2), ldSB, false);
        }
        for (let r = 0; r < rows; r++) {
          const i = i0 + r;
          const len = i + 2;
          const srow = sb + <usize>r * ldSB; // dA, then A∘dA, then dS
          const rowOff = (triH + <usize>((i * (i + 3)) >> 1)) << 2;
          const pRow = probs + rowOff;
          const aRow = dropped + rowOff;
          const maRow = ma + <usize>i * ldMB;
          const mdsRow = mds + <usize>i * ldMB;
          // A∘dA and its sum; A copied to the row-major matrix
          let acc = f32x4.splat(0);
          let j = 0;
          for (; j + 4 <= len; j += 4) {
            const o = <usize>j << 2;
            const a = v128.load(aRow + o);
            v128.store(maRow + o, a);
            const ad = f32x4.mul(a, v128.load(srow + o));
            v128.store(srow + o, ad);
            acc = f32x4.add(acc, ad);
          }
          let tail: f32 = 0;
          for (; j < len; j++) {
            const o = <usize>j << 2;
            const a = load<f32>(aRow + o);
            store<f32>(maRow + o, a);
            const ad = a * load<f32>(srow + o);
            store<f32>(srow + o, ad);
            tail += ad;
          }
          const rs = f32x4.splat(hsum(acc) + tail);
          const rss: f32 = f32x4.extract_lane(rs, 0);
          // dS = (A∘dA − P·rowsum)·scale, in place and to the row-major matrix
          j = 0;
          for (; j + 4 <= len; j += 4) {
            const o = <usize>j << 2;
            const d = f32x4.mul(f32x4.sub(v128.load(srow + o), f32x4.mul(v128.load(pRow + o), rs)), sv);
            v128.store(mdsRow + o, d);
            v128.store(srow + o, d);
          }
          for (; j < len; j++) {
            const o = <usize>j << 2;
            const d = (load<f32>(srow + o) - load<f32>(pRow + o) * rss) * scale;
            store<f32>(mdsRow + o, d);
            store<f32>(srow + o, d);
          }
          // zeros right of the row: 5 columns of the matrices (what the 5-key slivers of dK / dV
          // read) and 4 of the sliver (keys len..kmax−1)
          v128.store(maRow + (<usize>len << 2), f32x4.splat(0));
          store<f32>(maRow + (<usize>len << 2), 0, 16);
          v128.store(mdsRow + (<usize>len << 2), f32x4.splat(0));
          store<f32>(mdsRow + (<usize>len << 2), 0, 16);
          v128.store(srow + (<usize>len << 2), f32x4.splat(0));
        }
        for (let r = rows; r < 5; r++) {
          const srow = sb + <usize>r * ldSB;
          for (let jj = 0; jj < kmax; jj += 4) v128.store(srow + (<usize>jj << 2), f32x4.splat(0));
        }
        packSliverT(sb, ldSB, kmax, dsp);
        // dQ rows += dS · K
        mk5xN(kmax, hp, dsp, 20, kp, hpB, cs, hpB, false);
        storeRows(cs, hp, rows, hd, dq + <usize>(r0 + i0) * ldGB + col, ldGB, true);
      }
      // dV = Aᵀ·dO and dK = dSᵀ·Q, 5 keys at a time; key κ is seen by queries i ≥ κ − 1
      for (let k0 = 0; k0 < nk; k0 += 5) {
        const iStart = imax32(0, k0 - 1);
        const kc = n - iStart;
        const krows = imin32(5, nk - k0);
        // (key 0 is the padding key: its rows go to padRow, only when present)
        mk5xN(kc, hp, ma + <usize>iStart * ldMB + (<usize>k0 << 2), ldMB, dop + <usize>iStart * hpB, hpB, cs, hpB, false);
        storeKeyRows(cs, hp, k0, krows, hd, dv + col, ldGB, r0, hasPad, padRow, padDv);
        mk5xN(kc, hp, mds + <usize>iStart * ldMB + (<usize>k0 << 2), ldMB, qp + <usize>iStart * hpB, hpB, cs, hpB, false);
        storeKeyRows(cs, hp, k0, krows, hd, dk + col, ldGB, r0, hasPad, padRow, padDk);
      }
    }
    base += <usize>heads * tri;
  }
}

/**
 * Adds tile rows of keys k0..k0+krows−1 to their rows of dst (key 0 → padRow, key j+1 → r0 + j);
 * with padDst ≠ 0 key 0's row is written there instead.
 */
function storeKeyRows(tile: usize, hp: i32, k0: i32, krows: i32, hd: i32, dst: usize, ldB: usize,
                      r0: i32, hasPad: bool, padRow: i32, padDst: usize): void {
  let t = tile;
  let first = 0;
  if (k0 == 0) {
    if (hasPad) {
      if (padDst != 0) storeRows(t, hp, 1, hd, padDst, ldB, false);
      else storeRows(t, hp, 1, hd, dst + <usize>padRow * ldB, ldB, true);
    }
    t += <usize>hp << 2;
    first = 1;
  }
  if (krows > first) storeRows(t, hp, krows - first, hd, dst + <usize>(r0 + k0 + first - 1) * ldB, ldB, true);
}


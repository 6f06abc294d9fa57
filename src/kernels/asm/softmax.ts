// The full-catalogue softmax cross-entropy's element-wise part (engine/loss-ops.ts
// fullSoftmaxCrossEntropy): per column chunk of logits, the rows' running log-sum-exp, then the
// gradient in place; and the sampled softmax over each row's positive and K negatives
// (sampledSoftmaxLoss). Vectorised with expv; row statistics in f64 (arrays of doubles).

import { expv, hmax, hsum, loadTail, storeTail, tailMask } from './common';

/**
 * rows × cols logits at `logits` (row stride ld floats) hold columns c0 … c0 + cols − 1. Per row r:
 * (rowMax[r], rowSum[r]) absorb the chunk (sum of exp(logit − max)); the logit at column target[r],
 * when inside the chunk, goes to tlog[r]. rowMax, rowSum, tlog are f64 arrays; target is i32.
 */
export function smChunkStats(rows: i32, cols: i32, logits: usize, ld: i32, c0: i32, target: usize,
                             rowMax: usize, rowSum: usize, tlog: usize): void {
  const full = cols & ~3;
  const rem = cols - full;
  const neg = f32x4.splat(-Infinity);
  for (let r = 0; r < rows; r++) {
    const row = logits + (<usize>(r * ld) << 2);
    let mv = neg;
    for (let c = 0; c < full; c += 4) mv = f32x4.pmax(mv, v128.load(row + (<usize>c << 2)));
    if (rem > 0) mv = f32x4.pmax(mv, v128.bitselect(loadTail(row + (<usize>full << 2), rem), neg, tailMask(rem)));
    const chunkMax = <f64>hmax(mv);
    const ro = <usize>r << 3;
    const oldMax = load<f64>(rowMax + ro);
    const max = chunkMax > oldMax ? chunkMax : oldMax;
    const mx = f32x4.splat(<f32>max);
    let sv = f32x4.splat(0);
    for (let c = 0; c < full; c += 4) sv = f32x4.add(sv, expv(f32x4.sub(v128.load(row + (<usize>c << 2)), mx)));
    if (rem > 0) {
      const e = expv(f32x4.sub(loadTail(row + (<usize>full << 2), rem), mx));
      sv = f32x4.add(sv, v128.and(e, tailMask(rem)));
    }
    const old = load<f64>(rowSum + ro);
    const scaled = old > 0 ? old * Math.exp(oldMax - max) : 0;
    store<f64>(rowMax + ro, max);
    store<f64>(rowSum + ro, scaled + <f64>hsum(sv));
    const t = load<i32>(target + (<usize>r << 2)) - c0;
    if (t >= 0 && t < cols) store<f64>(tlog + ro, <f64>load<f32>(row + (<usize>t << 2)));
  }
}

/** In place: logits[r, c] ← scale·(exp(logits[r, c] − lse[r]) − [target[r] = c0 + c]); lse is f64. */
export function smChunkGrad(rows: i32, cols: i32, logits: usize, ld: i32, c0: i32, target: usize, lse: usize, scale: f32): void {
  const full = cols & ~3;
  const rem = cols - full;
  const sc = f32x4.splat(scale);
  for (let r = 0; r < rows; r++) {
    const row = logits + (<usize>(r * ld) << 2);
    const l = f32x4.splat(<f32>load<f64>(lse + (<usize>r << 3)));
    for (let c = 0; c < full; c += 4) {
      const p = row + (<usize>c << 2);
      v128.store(p, f32x4.mul(sc, expv(f32x4.sub(v128.load(p), l))));
    }
    if (rem > 0) {
      const p = row + (<usize>full << 2);
      storeTail(p, f32x4.mul(sc, expv(f32x4.sub(loadTail(p, rem), l))), rem);
    }
    const t = load<i32>(target + (<usize>r << 2)) - c0;
    if (t >= 0 && t < cols) {
      const p = row + (<usize>t << 2);
      store<f32>(p, load<f32>(p) - scale);
    }
  }
}

/** All-ones in the lanes whose skip byte (4 bytes at p) is 0: the negatives that take part. */
@inline function keptLanes(p: usize): v128 {
  const bytes = v128.load32_zero(p);
  return i32x4.eq(i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(bytes)), i32x4.splat(0));
}

/** The same for the last rem = 1..3 lanes (the others off). */
@inline function keptTail(p: usize, rem: i32): v128 {
  let bytes = v128.load8_lane(p, i32x4.splat(0), 0);
  if (rem > 1) bytes = v128.load8_lane(p, bytes, 1, 1);
  if (rem > 2) bytes = v128.load8_lane(p, bytes, 2, 2);
  const kept = i32x4.eq(i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(bytes)), i32x4.splat(0));
  return v128.and(kept, tailMask(rem));
}

/**
 * Per row m of pos [M] and neg [M × K]: lse[m] (f64) = log(exp(pos[m]) + Σ_k exp(neg[m, k])) over the k
 * whose skip byte is 0 (skip: M·K bytes, or 0 for none); returns Σ_m (lse[m] − pos[m]).
 */
export function ssForward(M: i32, K: i32, pos: usize, neg: usize, skip: usize, lse: usize): f64 {
  const full = K & ~3;
  const rem = K - full;
  const ninf = f32x4.splat(-Infinity);
  const all = i32x4.splat(-1);
  let total: f64 = 0;
  for (let m = 0; m < M; m++) {
    const row = neg + ((<usize>m * <usize>K) << 2);
    const sk = skip + <usize>m * <usize>K;
    const p = load<f32>(pos + (<usize>m << 2));
    let mv = f32x4.splat(p);
    for (let c = 0; c < full; c += 4) {
      const keep = skip != 0 ? keptLanes(sk + <usize>c) : all;
      mv = f32x4.pmax(mv, v128.bitselect(v128.load(row + (<usize>c << 2)), ninf, keep));
    }
    const tailKeep = rem > 0 ? (skip != 0 ? keptTail(sk + <usize>full, rem) : tailMask(rem)) : all;
    if (rem > 0) mv = f32x4.pmax(mv, v128.bitselect(loadTail(row + (<usize>full << 2), rem), ninf, tailKeep));
    const max = <f64>hmax(mv);
    const mx = f32x4.splat(<f32>max);
    let sv = f32x4.splat(0);
    for (let c = 0; c < full; c += 4) {
      const e = expv(f32x4.sub(v128.load(row + (<usize>c << 2)), mx));
      sv = f32x4.add(sv, skip != 0 ? v128.and(e, keptLanes(sk + <usize>c)) : e);
    }
    if (rem > 0) sv = f32x4.add(sv, v128.and(expv(f32x4.sub(loadTail(row + (<usize>full << 2), rem), mx)), tailKeep));
    const l = max + Math.log(Math.exp(<f64>p - max) + <f64>hsum(sv));
    store<f64>(lse + (<usize>m << 3), l);
    total += l - <f64>p;
  }
  return total;
}

/** ssForward's backward (accumulates): dPos[m] += scale·(exp(pos[m] − lse[m]) − 1), dNeg[m, k] += scale·exp(neg[m, k] − lse[m]) where kept. */
export function ssBackward(M: i32, K: i32, pos: usize, neg: usize, skip: usize, lse: usize, scale: f32, dPos: usize, dNeg: usize): void {
  const full = K & ~3;
  const rem = K - full;
  const sc = f32x4.splat(scale);
  for (let m = 0; m < M; m++) {
    const row = neg + ((<usize>m * <usize>K) << 2);
    const drow = dNeg + ((<usize>m * <usize>K) << 2);
    const sk = skip + <usize>m * <usize>K;
    const l = load<f64>(lse + (<usize>m << 3));
    const dp = dPos + (<usize>m << 2);
    store<f32>(dp, load<f32>(dp) + <f32>(<f64>scale * (Math.exp(<f64>load<f32>(pos + (<usize>m << 2)) - l) - 1)));
    const lv = f32x4.splat(<f32>l);
    for (let c = 0; c < full; c += 4) {
      let g = f32x4.mul(sc, expv(f32x4.sub(v128.load(row + (<usize>c << 2)), lv)));
      if (skip != 0) g = v128.and(g, keptLanes(sk + <usize>c));
      const d = drow + (<usize>c << 2);
      v128.store(d, f32x4.add(v128.load(d), g));
    }
    if (rem > 0) {
      let g = f32x4.mul(sc, expv(f32x4.sub(loadTail(row + (<usize>full << 2), rem), lv)));
      if (skip != 0) g = v128.and(g, keptTail(sk + <usize>full, rem));
      const d = drow + (<usize>full << 2);
      storeTail(d, f32x4.add(loadTail(d, rem), g), rem);
    }
  }
}

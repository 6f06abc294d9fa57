// The full-catalogue softmax cross-entropy's element-wise part (engine/loss-ops.ts
// fullSoftmaxCrossEntropy): per column chunk of logits, the rows' running log-sum-exp, then the
// gradient in place. Vectorised with expv; row statistics in f64 (arrays of doubles).

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

import type { Interactions, Split } from './types.js';

/** Python's round(): halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * TiSASRec.pytorch's time preprocessing (cleanAndsort/timeSlice): times become offsets from the
 * global minimum (rounded); then per user, t ↦ round((t − user's min) / s) + 1 where s is the user's
 * smallest non-zero gap between consecutive events (1 when there is none). Events must already be in
 * time order (readInteractions sorts them). Returns a copy whose `times` hold the scaled integers.
 */
export function scaleTimes(data: Interactions): Interactions {
  if (!data.times) throw new Error('scaleTimes: the data has no timestamps');
  let globalMin = Infinity;
  for (let u = 1; u <= data.userNum; u++) for (const t of data.times[u]) if (t < globalMin) globalMin = t;
  const times: Float64Array[] = [new Float64Array(0)];
  for (let u = 1; u <= data.userNum; u++) {
    const src = data.times[u];
    const t = new Float64Array(src.length);
    for (let k = 0; k < src.length; k++) t[k] = roundHalfEven(src[k] - globalMin);
    let scale = Infinity;
    let min = Infinity;
    for (let k = 0; k < t.length; k++) {
      if (t[k] < min) min = t[k];
      if (k > 0 && t[k] !== t[k - 1] && t[k] - t[k - 1] < scale) scale = t[k] - t[k - 1];
    }
    if (scale === Infinity) scale = 1;
    for (let k = 0; k < t.length; k++) t[k] = roundHalfEven((t[k] - min) / scale) + 1;
    times.push(t);
  }
  return { ...data, times };
}

/**
 * TiSASRec's relation matrix (computeRePos): out[i*L + j] = min(|t_i − t_j|, timeSpan) for a
 * left-padded time sequence of length L (padding time 0 takes part like any other value, as in the reference).
 */
export function relationMatrix(
  timeSeq: ArrayLike<number>,
  timeSpan: number,
  out: Int32Array = new Int32Array(timeSeq.length * timeSeq.length),
): Int32Array {
  const L = timeSeq.length;
  for (let i = 0; i < L; i++) {
    for (let j = 0; j < L; j++) {
      const span = Math.abs(timeSeq[i] - timeSeq[j]);
      out[i * L + j] = Math.min(span, timeSpan);
    }
  }
  return out;
}

/**
 * `--time_unit`: raw timestamps are divided by this many seconds before TiSASRec's preprocessing.
 * 'none' (the default, as the reference) and 'seconds' leave them unchanged. The singular names are
 * those of SASRec.pytorch's TiSASRec/mHC variant (`--time_unit hour`), accepted with seqrec's meaning.
 */
export const TIME_UNITS: Readonly<Record<string, number>> = {
  none: 1,
  seconds: 1,
  minutes: 60,
  hours: 3600,
  days: 86400,
  second: 1,
  minute: 60,
  hour: 3600,
  day: 86400,
};

/**
 * TiSASRec's time preprocessing as a reusable transform, fitted on a dataset: with u = raw / unit,
 *   scaled(t) = round((round(u − globalMin) − userMin) / userScale) + 1
 * where globalMin is the smallest u of the data, and userMin / userScale the user's smallest rounded
 * offset and smallest non-zero gap between consecutive events (1 when none): exactly scaleTimes() on
 * the data when unit = 1. Because the per-user division cancels any constant factor, the unit acts only
 * through the rounding: events in the same unit become simultaneous, and a user's scale (smallest gap)
 * is at least one unit.
 */
export interface TimeScaling {
  /** seconds per unit (1 = raw values) */
  readonly unit: number;
  readonly globalMin: number;
  /** [userNum + 1] per dense user id (index 0 unused) */
  readonly userMin: Float64Array;
  readonly userScale: Float64Array;
}

/** Fits TimeScaling on every event of the data (all of a user's events, held-out ones included, as the reference). */
export function fitTimeScaling(data: Interactions, unit = 1): TimeScaling {
  if (!data.times) throw new Error('fitTimeScaling: the data has no timestamps');
  if (!(unit > 0)) throw new Error(`fitTimeScaling: unit must be positive, got ${unit}`);
  let globalMin = Infinity;
  for (let u = 1; u <= data.userNum; u++) for (const t of data.times[u]) if (t / unit < globalMin) globalMin = t / unit;
  if (globalMin === Infinity) globalMin = 0;
  const userMin = new Float64Array(data.userNum + 1);
  const userScale = new Float64Array(data.userNum + 1).fill(1);
  const off: number[] = [];
  for (let u = 1; u <= data.userNum; u++) {
    const src = data.times[u];
    off.length = 0;
    for (let k = 0; k < src.length; k++) off.push(roundHalfEven(src[k] / unit - globalMin));
    const { min, scale } = minAndScale(off);
    userMin[u] = min;
    userScale[u] = scale;
  }
  return { unit, globalMin, userMin, userScale };
}

/** Smallest value and smallest non-zero gap between consecutive values (1 when none), as cleanAndsort. */
function minAndScale(t: ArrayLike<number>): { min: number; scale: number } {
  let scale = Infinity;
  let min = Infinity;
  for (let k = 0; k < t.length; k++) {
    if (t[k] < min) min = t[k];
    if (k > 0 && t[k] !== t[k - 1] && Math.abs(t[k] - t[k - 1]) < scale) scale = Math.abs(t[k] - t[k - 1]);
  }
  return { min: min === Infinity ? 0 : min, scale: scale === Infinity ? 1 : scale };
}

/**
 * Scales one user's raw times (in time order) into `out` (same length): with the fitted parameters of
 * `user` when 1 ≤ user < userMin.length, else (an ad-hoc history, user 0) with the min and smallest
 * non-zero gap of these times themselves. Returns out.
 */
export function scaleUserTimes(
  scaling: TimeScaling,
  user: number,
  raw: ArrayLike<number>,
  out: Float64Array = new Float64Array(raw.length),
): Float64Array {
  const n = raw.length;
  for (let k = 0; k < n; k++) out[k] = roundHalfEven(raw[k] / scaling.unit - scaling.globalMin);
  let min: number;
  let scale: number;
  if (user >= 1 && user < scaling.userMin.length) {
    min = scaling.userMin[user];
    scale = scaling.userScale[user];
  } else {
    ({ min, scale } = minAndScale(out.subarray(0, n)));
  }
  for (let k = 0; k < n; k++) out[k] = roundHalfEven((out[k] - min) / scale) + 1;
  return out;
}

/** A split whose train/valid/test times are the scaled ones (same items; the sampler then yields scaled times). */
export function scaleSplitTimes(split: Split, scaling: TimeScaling): Split {
  if (!split.trainTimes || !split.validTimes || !split.testTimes) throw new Error('scaleSplitTimes: the split has no timestamps');
  const n = split.data.userNum;
  const trainTimes: Float64Array[] = [new Float64Array(0)];
  const validTimes = new Float64Array(n + 1);
  const testTimes = new Float64Array(n + 1);
  const one = new Float64Array(1);
  for (let u = 1; u <= n; u++) {
    trainTimes.push(scaleUserTimes(scaling, u, split.trainTimes[u]));
    if (split.valid[u] !== 0) validTimes[u] = scaleUserTimes(scaling, u, [split.validTimes[u]], one)[0];
    if (split.test[u] !== 0) testTimes[u] = scaleUserTimes(scaling, u, [split.testTimes[u]], one)[0];
  }
  return { ...split, trainTimes, validTimes, testTimes };
}

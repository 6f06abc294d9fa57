import type { Interactions } from './types.js';

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
export function relationMatrix(timeSeq: ArrayLike<number>, timeSpan: number, out: Int32Array = new Int32Array(timeSeq.length * timeSeq.length)): Int32Array {
  const L = timeSeq.length;
  for (let i = 0; i < L; i++) {
    for (let j = 0; j < L; j++) {
      const span = Math.abs(timeSeq[i] - timeSeq[j]);
      out[i * L + j] = span > timeSpan ? timeSpan : span;
    }
  }
  return out;
}

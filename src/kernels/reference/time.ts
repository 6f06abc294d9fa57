/** TiSASRec's time-aware attention kernels of the reference backend (layouts: kernels/types.ts). */
import { StateRng } from './rng.js';

export function timeRelations(
  numSeq: number, len: number, qStart: Int32Array, qCount: Int32Array,
  times: Float64Array, timesOff: number, timeSpan: number, rel: Int32Array, relOff: number,
): void {
  for (let b = 0; b < numSeq; b++) {
    const n = qCount[b];
    const base = timesOff + b * len;
    for (let i = 0; i < n; i++) {
      const ti = times[base + len - n + i];
      const row = relOff + (qStart[b] + i) * len;
      for (let j = 0; j < len; j++) {
        const span = Math.abs(ti - times[base + j]);
        rel[row + j] = span > timeSpan ? timeSpan : span;
      }
    }
  }
}

export function timeAttentionSoftmaxForward(
  numSeq: number, len: number, numBuckets: number,
  qStart: Int32Array, qCount: Int32Array, qPadded: Int32Array,
  scores: Float32Array, scoresOff: number, tq: Float32Array, tqOff: number,
  rel: Int32Array, relOff: number, dropP: number, rngState: Uint32Array | null,
  probs: Float32Array, probsOff: number, dropped: Float32Array, droppedOff: number,
  bucket: Float32Array, bucketOff: number,
): void {
  const useDrop = dropP > 0 && rngState !== null;
  const rng = useDrop ? new StateRng(rngState) : null;
  const keep = 1 / (1 - dropP);
  const s = new Float64Array(len);
  for (let b = 0; b < numSeq; b++) {
    const n = qCount[b];
    for (let i = 0; i < n; i++) {
      const r = qStart[b] + i;
      const t = len - n + i;
      const sRow = scoresOff + r * len;
      const pRow = probsOff + r * len;
      const aRow = droppedOff + r * len;
      const rRow = relOff + r * len;
      const tRow = tqOff + r * numBuckets;
      const bRow = bucketOff + r * numBuckets;
      for (let k = 0; k < numBuckets; k++) bucket[bRow + k] = 0;
      const padded = qPadded[r] !== 0;
      const count = padded ? len : t + 1;
      let inv: number;
      if (padded) {
        for (let j = 0; j < len; j++) s[j] = 1;
        inv = 1 / len;
      } else {
        let max = -Infinity;
        for (let j = 0; j <= t; j++) {
          const v = scores[sRow + j] + tq[tRow + rel[rRow + j]];
          s[j] = v;
          if (v > max) max = v;
        }
        let sum = 0;
        for (let j = 0; j <= t; j++) {
          const e = Math.exp(s[j] - max);
          s[j] = e;
          sum += e;
        }
        inv = 1 / sum;
      }
      // probabilities, dropout, and the bucketed weights in one pass
      if (rng) {
        for (let j = 0; j < count; j++) {
          const pj = s[j] * inv;
          probs[pRow + j] = pj;
          const a = rng.nextFloat() < dropP ? 0 : Math.fround(pj) * keep;
          dropped[aRow + j] = a;
          bucket[bRow + rel[rRow + j]] += a;
        }
        for (let j = count; j < len; j++) {
          probs[pRow + j] = 0;
          dropped[aRow + j] = 0;
        }
      } else {
        for (let j = 0; j < count; j++) {
          const pj = Math.fround(s[j] * inv);
          probs[pRow + j] = pj;
          bucket[bRow + rel[rRow + j]] += pj;
        }
        for (let j = count; j < len; j++) probs[pRow + j] = 0;
      }
    }
  }
  if (rng) rng.save();
}

export function timeAttentionSoftmaxBackward(
  numSeq: number, len: number, numBuckets: number,
  qStart: Int32Array, qCount: Int32Array, qPadded: Int32Array,
  probs: Float32Array, probsOff: number, dropped: Float32Array, droppedOff: number,
  g: Float32Array, gOff: number, rel: Int32Array, relOff: number,
  dA: Float32Array, dAOff: number, dBucket: Float32Array, dBucketOff: number,
): void {
  const ad = new Float64Array(len);
  for (let b = 0; b < numSeq; b++) {
    const n = qCount[b];
    for (let i = 0; i < n; i++) {
      const r = qStart[b] + i;
      const t = len - n + i;
      const dRow = dAOff + r * len;
      const bRow = dBucketOff + r * numBuckets;
      dBucket.fill(0, bRow, bRow + numBuckets);
      if (qPadded[r] !== 0) {
        dA.fill(0, dRow, dRow + len);
        continue;
      }
      const pRow = probsOff + r * len;
      const aRow = droppedOff + r * len;
      const rRow = relOff + r * len;
      const gRow = gOff + r * numBuckets;
      let sum = 0;
      for (let j = 0; j <= t; j++) {
        const x = dropped[aRow + j] * (dA[dRow + j] + g[gRow + rel[rRow + j]]);
        ad[j] = x;
        sum += x;
      }
      for (let j = 0; j <= t; j++) {
        const ds = ad[j] - probs[pRow + j] * sum;
        dA[dRow + j] = ds;
        dBucket[bRow + rel[rRow + j]] += ds;
      }
      for (let j = t + 1; j < len; j++) dA[dRow + j] = 0;
    }
  }
}

export function compactRelations(
  numSeq: number, len: number, numBuckets: number, qStart: Int32Array, qCount: Int32Array,
  rel: Int32Array, relOff: number, local: Int32Array, localOff: number,
  bucketStart: Int32Array, bucketCount: Int32Array, bucketIndex: Int32Array, bucketIndexOff: number,
): number {
  // mark[v] = b + 1 when value v was seen in sequence b; slot[v] its local number there
  const mark = new Int32Array(numBuckets);
  const slot = new Int32Array(numBuckets);
  let total = 0;
  for (let b = 0; b < numSeq; b++) {
    bucketStart[b] = total;
    const stamp = b + 1;
    let u = 0;
    const end = (qStart[b] + qCount[b]) * len;
    for (let e = qStart[b] * len; e < end; e++) {
      const v = rel[relOff + e];
      if (mark[v] !== stamp) {
        mark[v] = stamp;
        slot[v] = u;
        bucketIndex[bucketIndexOff + total + u] = v;
        u++;
      }
      local[localOff + e] = slot[v];
    }
    bucketCount[b] = u;
    total += u;
  }
  return total;
}

export function unpackRows(
  numSeq: number, len: number, dim: number, qStart: Int32Array, qCount: Int32Array,
  x: Float32Array, xOff: number, fill: Float32Array | null, fillOff: number, out: Float32Array, outOff: number,
): void {
  for (let b = 0; b < numSeq; b++) {
    const n = qCount[b];
    const t0 = len - n;
    const o = outOff + b * len * dim;
    if (fill) {
      const f = fill.subarray(fillOff, fillOff + dim);
      for (let t = 0; t < t0; t++) out.set(f, o + t * dim);
    } else {
      out.fill(0, o, o + t0 * dim);
    }
    const xi = xOff + qStart[b] * dim;
    out.set(x.subarray(xi, xi + n * dim), o + t0 * dim);
  }
}

export function unpackRowsBackward(
  numSeq: number, len: number, dim: number, qStart: Int32Array, qCount: Int32Array,
  dOut: Float32Array, dOutOff: number, dx: Float32Array | null, dxOff: number, dFill: Float32Array | null, dFillOff: number,
): void {
  const acc = new Float64Array(dim);
  for (let b = 0; b < numSeq; b++) {
    const n = qCount[b];
    const t0 = len - n;
    const o = dOutOff + b * len * dim;
    if (dFill) {
      for (let t = 0; t < t0; t++) {
        const r = o + t * dim;
        for (let c = 0; c < dim; c++) acc[c] += dOut[r + c];
      }
    }
    if (dx) {
      const src = o + t0 * dim;
      const dst = dxOff + qStart[b] * dim;
      const m = n * dim;
      for (let e = 0; e < m; e++) dx[dst + e] += dOut[src + e];
    }
  }
  if (dFill) for (let c = 0; c < dim; c++) dFill[dFillOff + c] += acc[c];
}

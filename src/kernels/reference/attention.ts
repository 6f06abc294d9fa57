/**
 * Attention of the reference backend: causal, dense (every key) and packed (padding keys merged); and
 * the softmax of bidirectional attention (its GEMMs run on the backend's gemm).
 */
import { StateRng } from './rng.js';

export function causalAttentionForward(
  batch: number, len: number, heads: number, headDim: number,
  q: Float32Array, qOff: number, k: Float32Array, kOff: number, v: Float32Array, vOff: number, ldIn: number,
  dropP: number, rngState: Uint32Array | null,
  probs: Float32Array, probsOff: number, dropped: Float32Array, droppedOff: number,
  out: Float32Array, outOff: number, ldOut: number,
): void {
  const scale = 1 / Math.sqrt(headDim);
  const useDrop = dropP > 0 && rngState !== null;
  const rng = useDrop ? new StateRng(rngState) : null;
  const keep = 1 / (1 - dropP);
  const s = new Float64Array(len);
  const acc = new Float64Array(headDim);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const col = h * headDim;
      const pBase = probsOff + (b * heads + h) * len * len;
      const aBase = droppedOff + (b * heads + h) * len * len;
      for (let i = 0; i < len; i++) {
        const qi = qOff + (b * len + i) * ldIn + col;
        let max = -Infinity;
        for (let j = 0; j <= i; j++) {
          const kj = kOff + (b * len + j) * ldIn + col;
          let d = 0;
          for (let c = 0; c < headDim; c++) d += q[qi + c] * k[kj + c];
          d *= scale;
          s[j] = d;
          if (d > max) max = d;
        }
        let sum = 0;
        for (let j = 0; j <= i; j++) {
          const e = Math.exp(s[j] - max);
          s[j] = e;
          sum += e;
        }
        const pRow = pBase + i * len;
        const aRow = aBase + i * len;
        for (let j = 0; j <= i; j++) probs[pRow + j] = s[j] / sum;
        for (let j = i + 1; j < len; j++) probs[pRow + j] = 0;
        let weights = probs;
        let wRow = pRow;
        if (rng) {
          for (let j = 0; j <= i; j++) dropped[aRow + j] = rng.nextFloat() < dropP ? 0 : probs[pRow + j] * keep;
          for (let j = i + 1; j < len; j++) dropped[aRow + j] = 0;
          weights = dropped;
          wRow = aRow;
        }
        acc.fill(0);
        for (let j = 0; j <= i; j++) {
          const w = weights[wRow + j];
          if (w === 0) continue;
          const vj = vOff + (b * len + j) * ldIn + col;
          for (let c = 0; c < headDim; c++) acc[c] += w * v[vj + c];
        }
        const oi = outOff + (b * len + i) * ldOut + col;
        for (let c = 0; c < headDim; c++) out[oi + c] = acc[c];
      }
    }
  }
  if (rng) rng.save();
}

export function causalAttentionBackward(
  batch: number, len: number, heads: number, headDim: number,
  q: Float32Array, qOff: number, k: Float32Array, kOff: number, v: Float32Array, vOff: number, ldIn: number,
  probs: Float32Array, probsOff: number, dropped: Float32Array, droppedOff: number,
  dOut: Float32Array, dOutOff: number, ldOut: number,
  dq: Float32Array, dqOff: number, dk: Float32Array, dkOff: number, dv: Float32Array, dvOff: number, ldGrad: number,
): void {
  const scale = 1 / Math.sqrt(headDim);
  const dS = new Float64Array(len);
  const acc = new Float64Array(headDim);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const col = h * headDim;
      const pBase = probsOff + (b * heads + h) * len * len;
      const aBase = droppedOff + (b * heads + h) * len * len;
      for (let i = 0; i < len; i++) {
        const doi = dOutOff + (b * len + i) * ldOut + col;
        const pRow = pBase + i * len;
        const aRow = aBase + i * len;
        let rowsum = 0;
        for (let j = 0; j <= i; j++) {
          const vj = vOff + (b * len + j) * ldIn + col;
          const a = dropped[aRow + j];
          let dA = 0;
          for (let c = 0; c < headDim; c++) dA += dOut[doi + c] * v[vj + c];
          if (a !== 0) {
            const dvj = dvOff + (b * len + j) * ldGrad + col;
            for (let c = 0; c < headDim; c++) dv[dvj + c] += a * dOut[doi + c];
          }
          const ad = a * dA;
          dS[j] = ad;
          rowsum += ad;
        }
        for (let j = 0; j <= i; j++) dS[j] = (dS[j] - probs[pRow + j] * rowsum) * scale;
        const qi = qOff + (b * len + i) * ldIn + col;
        acc.fill(0);
        for (let j = 0; j <= i; j++) {
          const d = dS[j];
          if (d === 0) continue;
          const kj = kOff + (b * len + j) * ldIn + col;
          const dkj = dkOff + (b * len + j) * ldGrad + col;
          for (let c = 0; c < headDim; c++) {
            acc[c] += d * k[kj + c];
            dk[dkj + c] += d * q[qi + c];
          }
        }
        const dqi = dqOff + (b * len + i) * ldGrad + col;
        for (let c = 0; c < headDim; c++) dq[dqi + c] += acc[c];
      }
    }
  }
}

/**
 * Dropout of the merged padding key: the reference drops each of its p identical copies on its own,
 * so the kept share of the padding weight is k/p with k ~ Binomial(p, 1 − dropP). Returns
 * k / (p·(1 − dropP)), k drawn by inverse CDF from one uniform u ∈ [0, 1). The CDF is walked from
 * the end whose probability cannot underflow (P(k = 0) = dropP^p when dropP ≥ ½, else P(k = p) =
 * (1 − dropP)^p); past p = 1000 (either may underflow) the factor is 1, the expectation (the
 * relative spread there is below 10% even for dropP 0.9). The wasm kernel (asm/common.ts,
 * paddingKeepFactor) performs the same float64 operations in the same order, so both give the same bits.
 */
export function paddingKeepFactor(u: number, p: number, dropP: number): number {
  if (p > 1000) return 1;
  const q = 1 - dropP;
  let k: number;
  if (dropP >= q) {
    let pmf = 1;
    for (let t = 0; t < p; t++) pmf *= dropP;
    const ratio = q / dropP;
    let cdf = pmf;
    k = 0;
    while (u >= cdf && k < p) {
      pmf = ((pmf * (p - k)) / (k + 1)) * ratio;
      k++;
      cdf += pmf;
    }
  } else {
    let pmf = 1;
    for (let t = 0; t < p; t++) pmf *= q;
    const ratio = dropP / q;
    let tail = pmf; // P(K ≥ k)
    k = p;
    while (k > 0 && u < 1 - tail) {
      pmf = ((pmf * k) / (p - k + 1)) * ratio;
      k--;
      tail += pmf;
    }
  }
  return k / (p * q);
}

export function packedCausalAttentionForward(
  numSeg: number, heads: number, headDim: number,
  segStart: Int32Array, segLen: Int32Array, segPad: Int32Array, padRow: number,
  q: Float32Array, qOff: number, k: Float32Array, kOff: number, v: Float32Array, vOff: number, ldIn: number,
  dropP: number, rngState: Uint32Array | null,
  probs: Float32Array, probsOff: number, dropped: Float32Array, droppedOff: number,
  out: Float32Array, outOff: number, ldOut: number,
): void {
  const scale = 1 / Math.sqrt(headDim);
  const useDrop = dropP > 0 && rngState !== null;
  const rng = useDrop ? new StateRng(rngState) : null;
  const keep = 1 / (1 - dropP);
  let maxLen = 0;
  for (let s = 0; s < numSeg; s++) if (segLen[s] > maxLen) maxLen = segLen[s];
  const sc = new Float64Array(maxLen + 1); // [pad, keys 0..i]
  const acc = new Float64Array(headDim);
  let base = 0;
  for (let s = 0; s < numSeg; s++) {
    const n = segLen[s];
    const r0 = segStart[s];
    const p = segPad[s];
    const logP = p > 0 ? Math.log(p) : 0;
    const tri = (n * (n + 3)) / 2;
    for (let h = 0; h < heads; h++) {
      const col = h * headDim;
      const kp = kOff + padRow * ldIn + col;
      const vp = vOff + padRow * ldIn + col;
      for (let i = 0; i < n; i++) {
        const qi = qOff + (r0 + i) * ldIn + col;
        let max = -Infinity;
        if (p > 0) {
          let d = 0;
          for (let c = 0; c < headDim; c++) d += q[qi + c] * k[kp + c];
          d = d * scale + logP;
          sc[0] = d;
          max = d;
        }
        for (let j = 0; j <= i; j++) {
          const kj = kOff + (r0 + j) * ldIn + col;
          let d = 0;
          for (let c = 0; c < headDim; c++) d += q[qi + c] * k[kj + c];
          d *= scale;
          sc[j + 1] = d;
          if (d > max) max = d;
        }
        let sum = 0;
        const first = p > 0 ? 0 : 1;
        for (let j = first; j <= i + 1; j++) {
          const e = Math.exp(sc[j] - max);
          sc[j] = e;
          sum += e;
        }
        const row = base + h * tri + (i * (i + 3)) / 2;
        const pRow = probsOff + row;
        if (p === 0) probs[pRow] = 0;
        for (let j = first; j <= i + 1; j++) probs[pRow + j] = sc[j] / sum;
        let weights = probs;
        let wRow = pRow;
        if (rng) {
          const aRow = droppedOff + row;
          if (p > 0) {
            const u = rng.nextFloat();
            dropped[aRow] = p === 1 ? (u < dropP ? 0 : probs[pRow] * keep) : probs[pRow] * paddingKeepFactor(u, p, dropP);
          }
          else dropped[aRow] = 0;
          for (let j = 1; j <= i + 1; j++) dropped[aRow + j] = rng.nextFloat() < dropP ? 0 : probs[pRow + j] * keep;
          weights = dropped;
          wRow = aRow;
        }
        acc.fill(0);
        if (p > 0) {
          const w = weights[wRow];
          if (w !== 0) for (let c = 0; c < headDim; c++) acc[c] += w * v[vp + c];
        }
        for (let j = 0; j <= i; j++) {
          const w = weights[wRow + 1 + j];
          if (w === 0) continue;
          const vj = vOff + (r0 + j) * ldIn + col;
          for (let c = 0; c < headDim; c++) acc[c] += w * v[vj + c];
        }
        const oi = outOff + (r0 + i) * ldOut + col;
        for (let c = 0; c < headDim; c++) out[oi + c] = acc[c];
      }
    }
    base += heads * tri;
  }
  if (rng) rng.save();
}

export function packedCausalAttentionBackward(
  numSeg: number, heads: number, headDim: number,
  segStart: Int32Array, segLen: Int32Array, segPad: Int32Array, padRow: number,
  q: Float32Array, qOff: number, k: Float32Array, kOff: number, v: Float32Array, vOff: number, ldIn: number,
  probs: Float32Array, probsOff: number, dropped: Float32Array, droppedOff: number,
  dOut: Float32Array, dOutOff: number, ldOut: number,
  dq: Float32Array, dqOff: number, dk: Float32Array, dkOff: number, dv: Float32Array, dvOff: number, ldGrad: number,
): void {
  const scale = 1 / Math.sqrt(headDim);
  let maxLen = 0;
  for (let s = 0; s < numSeg; s++) if (segLen[s] > maxLen) maxLen = segLen[s];
  const dS = new Float64Array(maxLen + 1);
  const acc = new Float64Array(headDim);
  let base = 0;
  for (let s = 0; s < numSeg; s++) {
    const n = segLen[s];
    const r0 = segStart[s];
    const p = segPad[s];
    const tri = (n * (n + 3)) / 2;
    for (let h = 0; h < heads; h++) {
      const col = h * headDim;
      const kp = kOff + padRow * ldIn + col;
      const vp = vOff + padRow * ldIn + col;
      const dkp = dkOff + padRow * ldGrad + col;
      const dvp = dvOff + padRow * ldGrad + col;
      for (let i = 0; i < n; i++) {
        const doi = dOutOff + (r0 + i) * ldOut + col;
        const row = base + h * tri + (i * (i + 3)) / 2;
        const pRow = probsOff + row;
        const aRow = droppedOff + row;
        let rowsum = 0;
        if (p > 0) {
          const a = dropped[aRow];
          let dA = 0;
          for (let c = 0; c < headDim; c++) dA += dOut[doi + c] * v[vp + c];
          if (a !== 0) for (let c = 0; c < headDim; c++) dv[dvp + c] += a * dOut[doi + c];
          const ad = a * dA;
          dS[0] = ad;
          rowsum += ad;
        }
        for (let j = 0; j <= i; j++) {
          const vj = vOff + (r0 + j) * ldIn + col;
          const a = dropped[aRow + 1 + j];
          let dA = 0;
          for (let c = 0; c < headDim; c++) dA += dOut[doi + c] * v[vj + c];
          if (a !== 0) {
            const dvj = dvOff + (r0 + j) * ldGrad + col;
            for (let c = 0; c < headDim; c++) dv[dvj + c] += a * dOut[doi + c];
          }
          const ad = a * dA;
          dS[j + 1] = ad;
          rowsum += ad;
        }
        const qi = qOff + (r0 + i) * ldIn + col;
        acc.fill(0);
        if (p > 0) {
          const d = (dS[0] - probs[pRow] * rowsum) * scale;
          if (d !== 0) {
            for (let c = 0; c < headDim; c++) {
              acc[c] += d * k[kp + c];
              dk[dkp + c] += d * q[qi + c];
            }
          }
        }
        for (let j = 0; j <= i; j++) {
          const d = (dS[j + 1] - probs[pRow + 1 + j] * rowsum) * scale;
          if (d === 0) continue;
          const kj = kOff + (r0 + j) * ldIn + col;
          const dkj = dkOff + (r0 + j) * ldGrad + col;
          for (let c = 0; c < headDim; c++) {
            acc[c] += d * k[kj + c];
            dk[dkj + c] += d * q[qi + c];
          }
        }
        const dqi = dqOff + (r0 + i) * ldGrad + col;
        for (let c = 0; c < headDim; c++) dq[dqi + c] += acc[c];
      }
    }
    base += heads * tri;
  }
}

export function attentionSoftmaxForward(
  rows: number, cols: number, x: Float32Array, xOff: number, keyMask: Uint8Array | null, maskOff: number,
  dropP: number, rngState: Uint32Array | null, dropped: Float32Array, droppedOff: number,
): void {
  const rng = dropP > 0 && rngState !== null ? new StateRng(rngState) : null;
  const keep = 1 / (1 - dropP);
  const e = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const row = xOff + r * cols;
    let max = -Infinity;
    for (let c = 0; c < cols; c++) if ((keyMask === null || keyMask[maskOff + c] === 0) && x[row + c] > max) max = x[row + c];
    let sum = 0;
    for (let c = 0; c < cols; c++) {
      if (keyMask !== null && keyMask[maskOff + c] !== 0) {
        e[c] = 0;
        continue;
      }
      e[c] = Math.exp(x[row + c] - max);
      sum += e[c];
    }
    // every column masked: sum stays 0 and the row is all 0
    for (let c = 0; c < cols; c++) x[row + c] = sum > 0 ? e[c] / sum : 0;
    if (rng) {
      const a = droppedOff + r * cols;
      for (let c = 0; c < cols; c++) {
        if (keyMask !== null && keyMask[maskOff + c] !== 0) dropped[a + c] = 0;
        else dropped[a + c] = rng.nextFloat() < dropP ? 0 : x[row + c] * keep;
      }
    }
  }
  if (rng) rng.save();
}

export function attentionSoftmaxBackward(
  rows: number, cols: number, probs: Float32Array, probsOff: number, dropped: Float32Array, droppedOff: number,
  dA: Float32Array, dAOff: number,
): void {
  for (let r = 0; r < rows; r++) {
    const g = dAOff + r * cols;
    const p = probsOff + r * cols;
    const a = droppedOff + r * cols;
    let rowsum = 0;
    for (let c = 0; c < cols; c++) rowsum += dropped[a + c] * dA[g + c];
    for (let c = 0; c < cols; c++) dA[g + c] = dropped[a + c] * dA[g + c] - probs[p + c] * rowsum;
  }
}

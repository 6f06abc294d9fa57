/**
 * Plain-TypeScript kernels: the ground truth the fast backend is tested against. Inner sums run in
 * float64 (JS numbers) and are rounded once when stored, so these are at least as accurate as PyTorch's
 * float32 CPU kernels.
 */
import type { Kernels } from './types.js';
import { mhcReferenceKernels } from './reference-mhc.js';

function gemm(
  transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
  A: Float32Array, aOff: number, lda: number,
  B: Float32Array, bOff: number, ldb: number,
  beta: number, C: Float32Array, cOff: number, ldc: number,
): void {
  const acc = new Float64Array(N);
  // op(A)[i, k] lives at aOff + i*aRow + k*aCol
  const aRow = transA ? 1 : lda;
  const aCol = transA ? lda : 1;
  for (let i = 0; i < M; i++) {
    acc.fill(0);
    const ai = aOff + i * aRow;
    if (transB) {
      for (let j = 0; j < N; j++) {
        const bj = bOff + j * ldb;
        let s = 0;
        for (let k = 0; k < K; k++) s += A[ai + k * aCol] * B[bj + k];
        acc[j] = s;
      }
    } else {
      for (let k = 0; k < K; k++) {
        const a = A[ai + k * aCol];
        if (a === 0) continue;
        const bk = bOff + k * ldb;
        for (let j = 0; j < N; j++) acc[j] += a * B[bk + j];
      }
    }
    const ci = cOff + i * ldc;
    if (beta === 0) for (let j = 0; j < N; j++) C[ci + j] = alpha * acc[j];
    else for (let j = 0; j < N; j++) C[ci + j] = alpha * acc[j] + beta * C[ci + j];
  }
}

function fill(n: number, value: number, x: Float32Array, xOff: number): void {
  x.fill(value, xOff, xOff + n);
}

function add(n: number, a: Float32Array, aOff: number, b: Float32Array, bOff: number, out: Float32Array, outOff: number): void {
  for (let i = 0; i < n; i++) out[outOff + i] = a[aOff + i] + b[bOff + i];
}

function axpy(n: number, alpha: number, x: Float32Array, xOff: number, y: Float32Array, yOff: number): void {
  for (let i = 0; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
}

function scale(n: number, alpha: number, x: Float32Array, xOff: number, out: Float32Array, outOff: number): void {
  for (let i = 0; i < n; i++) out[outOff + i] = alpha * x[xOff + i];
}

function mul(n: number, a: Float32Array, aOff: number, b: Float32Array, bOff: number, out: Float32Array, outOff: number): void {
  for (let i = 0; i < n; i++) out[outOff + i] = a[aOff + i] * b[bOff + i];
}

function mulAcc(n: number, a: Float32Array, aOff: number, b: Float32Array, bOff: number, out: Float32Array, outOff: number): void {
  for (let i = 0; i < n; i++) out[outOff + i] += a[aOff + i] * b[bOff + i];
}

function relu(n: number, x: Float32Array, xOff: number, out: Float32Array, outOff: number): void {
  for (let i = 0; i < n; i++) {
    const v = x[xOff + i];
    out[outOff + i] = v > 0 ? v : 0;
  }
}

function reluBackward(n: number, y: Float32Array, yOff: number, dy: Float32Array, dyOff: number, dx: Float32Array, dxOff: number): void {
  for (let i = 0; i < n; i++) if (y[yOff + i] > 0) dx[dxOff + i] += dy[dyOff + i];
}

/** xoshiro128** over a Uint32Array state, bit-identical to Rng.nextU32(). */
class StateRng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  constructor(private readonly state: Uint32Array) {
    this.s0 = state[0] | 0;
    this.s1 = state[1] | 0;
    this.s2 = state[2] | 0;
    this.s3 = state[3] | 0;
  }
  nextFloat(): number {
    const x = Math.imul(this.s1, 5);
    const r = (x << 7) | (x >>> 25);
    const result = Math.imul(r, 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result / 4294967296;
  }
  save(): void {
    this.state[0] = this.s0;
    this.state[1] = this.s1;
    this.state[2] = this.s2;
    this.state[3] = this.s3;
  }
}

function dropout(
  n: number, p: number, rngState: Uint32Array,
  x: Float32Array, xOff: number, mask: Float32Array, maskOff: number, out: Float32Array, outOff: number,
): void {
  const rng = new StateRng(rngState);
  const keep = 1 / (1 - p);
  for (let i = 0; i < n; i++) {
    const m = rng.nextFloat() < p ? 0 : keep;
    mask[maskOff + i] = m;
    out[outOff + i] = x[xOff + i] * m;
  }
  rng.save();
}

function addBias(rows: number, cols: number, bias: Float32Array, biasOff: number, out: Float32Array, outOff: number): void {
  for (let r = 0; r < rows; r++) {
    const o = outOff + r * cols;
    for (let c = 0; c < cols; c++) out[o + c] += bias[biasOff + c];
  }
}

function colSumAcc(rows: number, cols: number, x: Float32Array, xOff: number, out: Float32Array, outOff: number): void {
  const acc = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const o = xOff + r * cols;
    for (let c = 0; c < cols; c++) acc[c] += x[o + c];
  }
  for (let c = 0; c < cols; c++) out[outOff + c] += acc[c];
}

function rowDot(n: number, dim: number, a: Float32Array, aOff: number, b: Float32Array, bOff: number, out: Float32Array, outOff: number): void {
  for (let i = 0; i < n; i++) {
    const ao = aOff + i * dim;
    const bo = bOff + i * dim;
    let s = 0;
    for (let k = 0; k < dim; k++) s += a[ao + k] * b[bo + k];
    out[outOff + i] = s;
  }
}

function rowScaleAcc(n: number, dim: number, s: Float32Array, sOff: number, x: Float32Array, xOff: number, y: Float32Array, yOff: number): void {
  for (let i = 0; i < n; i++) {
    const si = s[sOff + i];
    if (si === 0) continue;
    const xo = xOff + i * dim;
    const yo = yOff + i * dim;
    for (let k = 0; k < dim; k++) y[yo + k] += si * x[xo + k];
  }
}

function gatherRows(
  n: number, dim: number, table: Float32Array, tableOff: number, idx: Int32Array, idxOff: number,
  alpha: number, out: Float32Array, outOff: number,
): void {
  for (let i = 0; i < n; i++) {
    const t = tableOff + idx[idxOff + i] * dim;
    const o = outOff + i * dim;
    if (alpha === 1) for (let k = 0; k < dim; k++) out[o + k] = table[t + k];
    else for (let k = 0; k < dim; k++) out[o + k] = alpha * table[t + k];
  }
}

function scatterAddRows(
  n: number, dim: number, dOut: Float32Array, dOutOff: number, idx: Int32Array, idxOff: number,
  alpha: number, skipIndex: number, dTable: Float32Array, dTableOff: number,
): void {
  for (let i = 0; i < n; i++) {
    const id = idx[idxOff + i];
    if (id === skipIndex) continue;
    const t = dTableOff + id * dim;
    const o = dOutOff + i * dim;
    for (let k = 0; k < dim; k++) dTable[t + k] += alpha * dOut[o + k];
  }
}

function layerNormForward(
  rows: number, dim: number, x: Float32Array, xOff: number,
  gamma: Float32Array, gammaOff: number, beta: Float32Array, betaOff: number, eps: number,
  out: Float32Array, outOff: number, mean: Float32Array, rstd: Float32Array, statOff: number,
): void {
  for (let r = 0; r < rows; r++) {
    const o = xOff + r * dim;
    let s = 0;
    for (let k = 0; k < dim; k++) s += x[o + k];
    const mu = s / dim;
    let ss = 0;
    for (let k = 0; k < dim; k++) {
      const c = x[o + k] - mu;
      ss += c * c;
    }
    const rs = 1 / Math.sqrt(ss / dim + eps);
    mean[statOff + r] = mu;
    rstd[statOff + r] = rs;
    const y = outOff + r * dim;
    for (let k = 0; k < dim; k++) out[y + k] = (x[o + k] - mu) * rs * gamma[gammaOff + k] + beta[betaOff + k];
  }
}

function layerNormBackward(
  rows: number, dim: number, x: Float32Array, xOff: number, gamma: Float32Array, gammaOff: number,
  mean: Float32Array, rstd: Float32Array, statOff: number, dy: Float32Array, dyOff: number,
  dx: Float32Array | null, dxOff: number, dGamma: Float32Array | null, dGammaOff: number,
  dBeta: Float32Array | null, dBetaOff: number,
): void {
  const dg = new Float64Array(dim);
  const db = new Float64Array(dim);
  const xhat = new Float64Array(dim);
  const g = new Float64Array(dim);
  for (let r = 0; r < rows; r++) {
    const xo = xOff + r * dim;
    const yo = dyOff + r * dim;
    const mu = mean[statOff + r];
    const rs = rstd[statOff + r];
    let sg = 0;
    let sgx = 0;
    for (let k = 0; k < dim; k++) {
      const xh = (x[xo + k] - mu) * rs;
      const d = dy[yo + k];
      xhat[k] = xh;
      dg[k] += d * xh;
      db[k] += d;
      const gk = d * gamma[gammaOff + k];
      g[k] = gk;
      sg += gk;
      sgx += gk * xh;
    }
    if (dx) {
      const mg = sg / dim;
      const mgx = sgx / dim;
      const o = dxOff + r * dim;
      for (let k = 0; k < dim; k++) dx[o + k] += rs * (g[k] - mg - xhat[k] * mgx);
    }
  }
  if (dGamma) for (let k = 0; k < dim; k++) dGamma[dGammaOff + k] += dg[k];
  if (dBeta) for (let k = 0; k < dim; k++) dBeta[dBetaOff + k] += db[k];
}

function causalAttentionForward(
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

function causalAttentionBackward(
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

function packedCausalAttentionForward(
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

function packedCausalAttentionBackward(
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

function timeRelations(
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

function timeAttentionSoftmaxForward(
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

function timeAttentionSoftmaxBackward(
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

function compactRelations(
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

function unpackRows(
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

function unpackRowsBackward(
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

function sumSquares(n: number, x: Float32Array, xOff: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) {
    const v = x[xOff + i];
    s += v * v;
  }
  return s;
}

/** log(1 + exp(x)) without overflow. */
function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

function bceLogitsMaskedSum(
  n: number, pos: Float32Array, posOff: number, neg: Float32Array, negOff: number,
  target: Int32Array, targetOff: number,
): number {
  let s = 0;
  for (let i = 0; i < n; i++) {
    if (target[targetOff + i] === 0) continue;
    s += softplus(-pos[posOff + i]) + softplus(neg[negOff + i]);
  }
  return s;
}

function bceLogitsMaskedBackward(
  n: number, pos: Float32Array, posOff: number, neg: Float32Array, negOff: number,
  target: Int32Array, targetOff: number, scale: number,
  dPos: Float32Array, dPosOff: number, dNeg: Float32Array, dNegOff: number,
): void {
  for (let i = 0; i < n; i++) {
    if (target[targetOff + i] === 0) continue;
    dPos[dPosOff + i] += scale * (sigmoid(pos[posOff + i]) - 1);
    dNeg[dNegOff + i] += scale * sigmoid(neg[negOff + i]);
  }
}

function adamStep(
  n: number, p: Float32Array, pOff: number, g: Float32Array, gOff: number,
  m: Float32Array, mOff: number, v: Float32Array, vOff: number,
  lr: number, beta1: number, beta2: number, eps: number, bc1: number, bc2: number,
): void {
  const stepSize = lr / bc1;
  const bc2Sqrt = Math.sqrt(bc2);
  for (let i = 0; i < n; i++) {
    const gi = g[gOff + i];
    const mi = (m[mOff + i] = beta1 * m[mOff + i] + (1 - beta1) * gi);
    const vi = (v[vOff + i] = beta2 * v[vOff + i] + (1 - beta2) * gi * gi);
    p[pOff + i] -= (stepSize * mi) / (Math.sqrt(vi) / bc2Sqrt + eps);
  }
}

export const referenceKernels: Kernels = {
  name: 'reference',
  alloc: (length: number) => new Float32Array(length),
  gemm,
  fill,
  add,
  axpy,
  scale,
  mul,
  mulAcc,
  relu,
  reluBackward,
  dropout,
  addBias,
  colSumAcc,
  rowDot,
  rowScaleAcc,
  gatherRows,
  scatterAddRows,
  layerNormForward,
  layerNormBackward,
  causalAttentionForward,
  causalAttentionBackward,
  packedCausalAttentionForward,
  packedCausalAttentionBackward,
  timeRelations,
  timeAttentionSoftmaxForward,
  timeAttentionSoftmaxBackward,
  compactRelations,
  unpackRows,
  unpackRowsBackward,
  sumSquares,
  bceLogitsMaskedSum,
  bceLogitsMaskedBackward,
  adamStep,
  ...mhcReferenceKernels,
};

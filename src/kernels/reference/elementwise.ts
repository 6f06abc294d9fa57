/** Element-wise, dropout, row-wise and LayerNorm kernels of the reference backend. */
import { StateRng } from './rng.js';

export function fill(n: number, value: number, x: Float32Array, xOff: number): void {
  x.fill(value, xOff, xOff + n);
}

export function add(n: number, a: Float32Array, aOff: number, b: Float32Array, bOff: number, out: Float32Array, outOff: number): void {
  for (let i = 0; i < n; i++) out[outOff + i] = a[aOff + i] + b[bOff + i];
}

export function axpy(n: number, alpha: number, x: Float32Array, xOff: number, y: Float32Array, yOff: number): void {
  for (let i = 0; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
}

export function scale(n: number, alpha: number, x: Float32Array, xOff: number, out: Float32Array, outOff: number): void {
  for (let i = 0; i < n; i++) out[outOff + i] = alpha * x[xOff + i];
}

export function mul(n: number, a: Float32Array, aOff: number, b: Float32Array, bOff: number, out: Float32Array, outOff: number): void {
  for (let i = 0; i < n; i++) out[outOff + i] = a[aOff + i] * b[bOff + i];
}

export function mulAcc(n: number, a: Float32Array, aOff: number, b: Float32Array, bOff: number, out: Float32Array, outOff: number): void {
  for (let i = 0; i < n; i++) out[outOff + i] += a[aOff + i] * b[bOff + i];
}

export function relu(n: number, x: Float32Array, xOff: number, out: Float32Array, outOff: number): void {
  for (let i = 0; i < n; i++) {
    const v = x[xOff + i];
    out[outOff + i] = v > 0 ? v : 0;
  }
}

export function reluBackward(n: number, y: Float32Array, yOff: number, dy: Float32Array, dyOff: number, dx: Float32Array, dxOff: number): void {
  for (let i = 0; i < n; i++) if (y[yOff + i] > 0) dx[dxOff + i] += dy[dyOff + i];
}

/**
 * erfc(z) to a relative error below 1.2e-7 everywhere (the Chebyshev fit of Numerical Recipes'
 * erfcc): float32 accuracy, in both tails.
 */
function erfc(z: number): number {
  const a = Math.abs(z);
  const t = 1 / (1 + 0.5 * a);
  const poly =
    -1.26551223 +
    t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const r = t * Math.exp(-a * a + poly);
  return z >= 0 ? r : 2 - r;
}

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

export function geluForward(n: number, x: Float32Array, xOff: number, out: Float32Array, outOff: number): void {
  for (let i = 0; i < n; i++) {
    const v = x[xOff + i];
    out[outOff + i] = v * 0.5 * erfc(-v * SQRT1_2);
  }
}

export function geluBackward(n: number, x: Float32Array, xOff: number, dy: Float32Array, dyOff: number, dx: Float32Array, dxOff: number): void {
  for (let i = 0; i < n; i++) {
    const v = x[xOff + i];
    const cdf = 0.5 * erfc(-v * SQRT1_2);
    const pdf = INV_SQRT_2PI * Math.exp(-0.5 * v * v);
    dx[dxOff + i] += dy[dyOff + i] * (cdf + v * pdf);
  }
}

export function dropout(
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

export function addBias(rows: number, cols: number, bias: Float32Array, biasOff: number, out: Float32Array, outOff: number): void {
  for (let r = 0; r < rows; r++) {
    const o = outOff + r * cols;
    for (let c = 0; c < cols; c++) out[o + c] += bias[biasOff + c];
  }
}

export function colSumAcc(rows: number, cols: number, x: Float32Array, xOff: number, out: Float32Array, outOff: number): void {
  const acc = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const o = xOff + r * cols;
    for (let c = 0; c < cols; c++) acc[c] += x[o + c];
  }
  for (let c = 0; c < cols; c++) out[outOff + c] += acc[c];
}

export function rowDot(n: number, dim: number, a: Float32Array, aOff: number, b: Float32Array, bOff: number, out: Float32Array, outOff: number): void {
  for (let i = 0; i < n; i++) {
    const ao = aOff + i * dim;
    const bo = bOff + i * dim;
    let s = 0;
    for (let k = 0; k < dim; k++) s += a[ao + k] * b[bo + k];
    out[outOff + i] = s;
  }
}

export function rowScaleAcc(n: number, dim: number, s: Float32Array, sOff: number, x: Float32Array, xOff: number, y: Float32Array, yOff: number): void {
  for (let i = 0; i < n; i++) {
    const si = s[sOff + i];
    if (si === 0) continue;
    const xo = xOff + i * dim;
    const yo = yOff + i * dim;
    for (let k = 0; k < dim; k++) y[yo + k] += si * x[xo + k];
  }
}

export function rowNormClipForward(n: number, dim: number, maxNorm: number, x: Float32Array, xOff: number, out: Float32Array, outOff: number): void {
  for (let i = 0; i < n; i++) {
    const xo = xOff + i * dim;
    const oo = outOff + i * dim;
    let ss = 0;
    for (let k = 0; k < dim; k++) ss += x[xo + k] * x[xo + k];
    const norm = Math.sqrt(ss);
    const f = norm > maxNorm ? maxNorm / norm : 1;
    for (let k = 0; k < dim; k++) out[oo + k] = f * x[xo + k];
  }
}

export function rowNormClipBackward(
  n: number, dim: number, maxNorm: number, x: Float32Array, xOff: number, dy: Float32Array, dyOff: number, dx: Float32Array, dxOff: number,
): void {
  for (let i = 0; i < n; i++) {
    const xo = xOff + i * dim;
    const yo = dyOff + i * dim;
    const go = dxOff + i * dim;
    let ss = 0;
    let xdy = 0;
    for (let k = 0; k < dim; k++) {
      ss += x[xo + k] * x[xo + k];
      xdy += x[xo + k] * dy[yo + k];
    }
    const norm = Math.sqrt(ss);
    if (norm <= maxNorm) {
      for (let k = 0; k < dim; k++) dx[go + k] += dy[yo + k];
      continue;
    }
    // d(maxNorm·x/‖x‖) = (maxNorm/‖x‖)(I − x xᵀ/‖x‖²)
    const f = maxNorm / norm;
    const proj = xdy / ss;
    for (let k = 0; k < dim; k++) dx[go + k] += f * (dy[yo + k] - proj * x[xo + k]);
  }
}

export function gatherRows(
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

export function scatterAddRows(
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

export function gatherDot(
  M: number, K: number, dim: number, f: Float32Array, fOff: number, table: Float32Array, tableOff: number,
  idx: Int32Array, idxOff: number, out: Float32Array, outOff: number,
): void {
  for (let m = 0; m < M; m++) {
    const fo = fOff + m * dim;
    for (let k = 0; k < K; k++) {
      const t = tableOff + idx[idxOff + m * K + k] * dim;
      let s = 0;
      for (let c = 0; c < dim; c++) s += f[fo + c] * table[t + c];
      out[outOff + m * K + k] = s;
    }
  }
}

export function gatherDotBackward(
  M: number, K: number, dim: number, f: Float32Array, fOff: number, table: Float32Array, tableOff: number,
  idx: Int32Array, idxOff: number, dy: Float32Array, dyOff: number, skipIndex: number,
  df: Float32Array | null, dfOff: number, dTable: Float32Array | null, dTableOff: number,
): void {
  const acc = new Float64Array(dim);
  for (let m = 0; m < M; m++) {
    const fo = fOff + m * dim;
    acc.fill(0);
    for (let k = 0; k < K; k++) {
      const g = dy[dyOff + m * K + k];
      const id = idx[idxOff + m * K + k];
      if (df) {
        const t = tableOff + id * dim;
        for (let c = 0; c < dim; c++) acc[c] += g * table[t + c];
      }
      if (dTable && id !== skipIndex) {
        const t = dTableOff + id * dim;
        for (let c = 0; c < dim; c++) dTable[t + c] += g * f[fo + c];
      }
    }
    if (df) for (let c = 0; c < dim; c++) df[dfOff + m * dim + c] += acc[c];
  }
}

export function layerNormForward(
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

export function layerNormBackward(
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

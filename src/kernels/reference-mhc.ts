/**
 * Reference kernels of manifold-constrained hyper-connections (mHC, nn/mhc.ts): RMS normalisation,
 * scaled sigmoid, Sinkhorn-Knopp projection and the stream mixes. Plain TypeScript, inner sums in
 * float64; semantics documented in kernels/types.ts.
 */

function rmsNormForward(
  rows: number, dim: number, x: Float32Array, xOff: number, eps: number,
  out: Float32Array, outOff: number, rstd: Float32Array, rstdOff: number,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    let s = 0;
    for (let c = 0; c < dim; c++) {
      const v = x[xOff + o + c];
      s += v * v;
    }
    const rs = 1 / Math.sqrt(s / dim + eps);
    rstd[rstdOff + r] = rs;
    for (let c = 0; c < dim; c++) out[outOff + o + c] = x[xOff + o + c] * rs;
  }
}

function rmsNormBackward(
  rows: number, dim: number, x: Float32Array, xOff: number, rstd: Float32Array, rstdOff: number,
  dy: Float32Array, dyOff: number, dx: Float32Array, dxOff: number,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    const rs = rstd[rstdOff + r];
    let s = 0;
    for (let c = 0; c < dim; c++) s += dy[dyOff + o + c] * x[xOff + o + c] * rs;
    const m = s / dim;
    for (let c = 0; c < dim; c++) dx[dxOff + o + c] += rs * (dy[dyOff + o + c] - x[xOff + o + c] * rs * m);
  }
}

function sigmoidForward(n: number, scale: number, x: Float32Array, xOff: number, out: Float32Array, outOff: number): void {
  for (let i = 0; i < n; i++) out[outOff + i] = scale / (1 + Math.exp(-x[xOff + i]));
}

function sigmoidBackward(
  n: number, scale: number, y: Float32Array, yOff: number, dy: Float32Array, dyOff: number, dx: Float32Array, dxOff: number,
): void {
  for (let i = 0; i < n; i++) {
    const v = y[yOff + i];
    dx[dxOff + i] += dy[dyOff + i] * v * (1 - v / scale);
  }
}

/**
 * The Sinkhorn-Knopp iterates of one n×n matrix, into hist (float64, (2·iters + 1)·n² entries):
 * hist[0] = exp(L − max L), then for t < iters: hist[2t+1] = rows of hist[2t] normalised,
 * hist[2t+2] = columns of hist[2t+1] normalised.
 */
function sinkhornIterates(n: number, iters: number, L: Float32Array, lOff: number, hist: Float64Array): void {
  const nn = n * n;
  let mx = -Infinity;
  for (let k = 0; k < nn; k++) if (L[lOff + k] > mx) mx = L[lOff + k];
  for (let k = 0; k < nn; k++) hist[k] = Math.exp(L[lOff + k] - mx);
  for (let t = 0; t < iters; t++) {
    const a = 2 * t * nn;
    const b = a + nn;
    const c = b + nn;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += hist[a + i * n + j];
      const inv = 1 / s;
      for (let j = 0; j < n; j++) hist[b + i * n + j] = hist[a + i * n + j] * inv;
    }
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += hist[b + i * n + j];
      const inv = 1 / s;
      for (let i = 0; i < n; i++) hist[c + i * n + j] = hist[b + i * n + j] * inv;
    }
  }
}

function sinkhornForward(
  rows: number, n: number, iters: number, logits: Float32Array, lOff: number, out: Float32Array, outOff: number,
): void {
  const nn = n * n;
  const hist = new Float64Array((2 * iters + 1) * nn);
  const last = 2 * iters * nn;
  for (let r = 0; r < rows; r++) {
    sinkhornIterates(n, iters, logits, lOff + r * nn, hist);
    for (let k = 0; k < nn; k++) out[outOff + r * nn + k] = hist[last + k];
  }
}

function sinkhornBackward(
  rows: number, n: number, iters: number, logits: Float32Array, lOff: number,
  dOut: Float32Array, dOutOff: number, dLogits: Float32Array, dlOff: number,
): void {
  const nn = n * n;
  const hist = new Float64Array((2 * iters + 1) * nn);
  const g = new Float64Array(nn);
  const sums = new Float64Array(n);
  for (let r = 0; r < rows; r++) {
    sinkhornIterates(n, iters, logits, lOff + r * nn, hist);
    for (let k = 0; k < nn; k++) g[k] = dOut[dOutOff + r * nn + k];
    for (let t = iters - 1; t >= 0; t--) {
      const a = 2 * t * nn; // X before the row step
      const b = a + nn; // after the row step = X before the column step
      const c = b + nn; // after the column step
      // column step: Y_ij = X_ij / s_j  →  dX_ij = (g_ij − Σ_k g_kj Y_kj) / s_j
      for (let j = 0; j < n; j++) {
        let s = 0;
        let gy = 0;
        for (let i = 0; i < n; i++) {
          s += hist[b + i * n + j];
          gy += g[i * n + j] * hist[c + i * n + j];
        }
        sums[j] = s;
        for (let i = 0; i < n; i++) g[i * n + j] = (g[i * n + j] - gy) / s;
      }
      // row step: Y_ij = X_ij / s_i  →  dX_ij = (g_ij − Σ_k g_ik Y_ik) / s_i
      for (let i = 0; i < n; i++) {
        let s = 0;
        let gy = 0;
        for (let j = 0; j < n; j++) {
          s += hist[a + i * n + j];
          gy += g[i * n + j] * hist[b + i * n + j];
        }
        for (let j = 0; j < n; j++) g[i * n + j] = (g[i * n + j] - gy) / s;
      }
    }
    // exp (the max shift is exact: the projection is invariant to it)
    for (let k = 0; k < nn; k++) dLogits[dlOff + r * nn + k] += g[k] * hist[k];
  }
}

function streamWeightedSum(
  rows: number, n: number, d: number, w: Float32Array, wOff: number, x: Float32Array, xOff: number,
  out: Float32Array, outOff: number,
): void {
  const acc = new Float64Array(d);
  for (let r = 0; r < rows; r++) {
    acc.fill(0);
    for (let i = 0; i < n; i++) {
      const wi = w[wOff + r * n + i];
      const xo = xOff + (r * n + i) * d;
      for (let c = 0; c < d; c++) acc[c] += wi * x[xo + c];
    }
    for (let c = 0; c < d; c++) out[outOff + r * d + c] = acc[c];
  }
}

function streamWeightedSumBackward(
  rows: number, n: number, d: number, w: Float32Array, wOff: number, x: Float32Array, xOff: number,
  dOut: Float32Array, dOutOff: number, dW: Float32Array | null, dWOff: number, dX: Float32Array | null, dXOff: number,
): void {
  for (let r = 0; r < rows; r++) {
    const go = dOutOff + r * d;
    for (let i = 0; i < n; i++) {
      const xo = (r * n + i) * d;
      if (dW) {
        let s = 0;
        for (let c = 0; c < d; c++) s += dOut[go + c] * x[xOff + xo + c];
        dW[dWOff + r * n + i] += s;
      }
      if (dX) {
        const wi = w[wOff + r * n + i];
        for (let c = 0; c < d; c++) dX[dXOff + xo + c] += wi * dOut[go + c];
      }
    }
  }
}

function streamMixForward(
  rows: number, n: number, d: number, hRes: Float32Array, hResOff: number, x: Float32Array, xOff: number,
  hPost: Float32Array, hPostOff: number, y: Float32Array, yOff: number, out: Float32Array, outOff: number,
): void {
  const acc = new Float64Array(d);
  const nn = n * n;
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < n; i++) {
      const hp = hPost[hPostOff + r * n + i];
      for (let c = 0; c < d; c++) acc[c] = hp * y[yOff + r * d + c];
      for (let j = 0; j < n; j++) {
        const h = hRes[hResOff + r * nn + i * n + j];
        const xo = xOff + (r * n + j) * d;
        for (let c = 0; c < d; c++) acc[c] += h * x[xo + c];
      }
      const oo = outOff + (r * n + i) * d;
      for (let c = 0; c < d; c++) out[oo + c] = acc[c];
    }
  }
}

function streamMixBackward(
  rows: number, n: number, d: number, hRes: Float32Array, hResOff: number, x: Float32Array, xOff: number,
  hPost: Float32Array, hPostOff: number, y: Float32Array, yOff: number, dOut: Float32Array, dOutOff: number,
  dHRes: Float32Array | null, dHResOff: number, dX: Float32Array | null, dXOff: number,
  dHPost: Float32Array | null, dHPostOff: number, dY: Float32Array | null, dYOff: number,
): void {
  const nn = n * n;
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < n; i++) {
      const go = dOutOff + (r * n + i) * d;
      if (dHPost) {
        let s = 0;
        for (let c = 0; c < d; c++) s += dOut[go + c] * y[yOff + r * d + c];
        dHPost[dHPostOff + r * n + i] += s;
      }
      if (dY) {
        const hp = hPost[hPostOff + r * n + i];
        for (let c = 0; c < d; c++) dY[dYOff + r * d + c] += hp * dOut[go + c];
      }
      for (let j = 0; j < n; j++) {
        const xo = (r * n + j) * d;
        if (dHRes) {
          let s = 0;
          for (let c = 0; c < d; c++) s += dOut[go + c] * x[xOff + xo + c];
          dHRes[dHResOff + r * nn + i * n + j] += s;
        }
        if (dX) {
          const h = hRes[hResOff + r * nn + i * n + j];
          for (let c = 0; c < d; c++) dX[dXOff + xo + c] += h * dOut[go + c];
        }
      }
    }
  }
}

export const mhcReferenceKernels = {
  rmsNormForward,
  rmsNormBackward,
  sigmoidForward,
  sigmoidBackward,
  sinkhornForward,
  sinkhornBackward,
  streamWeightedSum,
  streamWeightedSumBackward,
  streamMixForward,
  streamMixBackward,
};

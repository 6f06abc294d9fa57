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
 * Sinkhorn-Knopp of one n×n matrix in scaling-vector form (the same iterates as normalising rows then
 * columns, with O(n) state per step): K = exp(L − rowmax L) into k (n² float64; the per-row shift is
 * exact, the projection is invariant to row scaling); v_0 = 1; for t = 1..iters:
 * u_t = 1/(K v_{t−1}), v_t = 1/(Kᵀ u_t); the result is P_ij = u_T,i · K_ij · v_T,j.
 * Writes u_t at us[(t−1)·n] and v_t at vs[t·n] (vs[0..n) = 1).
 */
function sinkhornScalings(
  n: number, iters: number, L: Float32Array, lOff: number, k: Float64Array, us: Float64Array, vs: Float64Array,
): void {
  for (let i = 0; i < n; i++) {
    let mx = -Infinity;
    for (let j = 0; j < n; j++) if (L[lOff + i * n + j] > mx) mx = L[lOff + i * n + j];
    for (let j = 0; j < n; j++) k[i * n + j] = Math.exp(L[lOff + i * n + j] - mx);
  }
  for (let j = 0; j < n; j++) vs[j] = 1;
  for (let t = 1; t <= iters; t++) {
    const vPrev = (t - 1) * n;
    const uo = (t - 1) * n;
    for (let i = 0; i < n; i++) {
      let a = 0;
      for (let j = 0; j < n; j++) a += k[i * n + j] * vs[vPrev + j];
      us[uo + i] = 1 / a;
    }
    const vo = t * n;
    for (let j = 0; j < n; j++) vs[vo + j] = 0;
    for (let i = 0; i < n; i++) {
      const ui = us[uo + i];
      for (let j = 0; j < n; j++) vs[vo + j] += k[i * n + j] * ui;
    }
    for (let j = 0; j < n; j++) vs[vo + j] = 1 / vs[vo + j];
  }
}

function sinkhornForward(
  rows: number, n: number, iters: number, logits: Float32Array, lOff: number, out: Float32Array, outOff: number,
): void {
  const nn = n * n;
  const k = new Float64Array(nn);
  const us = new Float64Array(iters * n);
  const vs = new Float64Array((iters + 1) * n);
  const uT = (iters - 1) * n;
  const vT = iters * n;
  for (let r = 0; r < rows; r++) {
    sinkhornScalings(n, iters, logits, lOff + r * nn, k, us, vs);
    const o = outOff + r * nn;
    for (let i = 0; i < n; i++) {
      const ui = us[uT + i];
      for (let j = 0; j < n; j++) out[o + i * n + j] = ui * k[i * n + j] * vs[vT + j];
    }
  }
}

/**
 * Reverse mode through sinkhornScalings (every iteration): from P = diag(u_T) K diag(v_T),
 * v_t = 1/(Kᵀu_t) and u_t = 1/(K v_{t−1}): with b = Kᵀu_t, gb = −gv_t ∘ v_t², gK += u_t gbᵀ,
 * gu_t += K gb; with a = K v_{t−1}, ga = −gu_t ∘ u_t², gK += ga v_{t−1}ᵀ, gv_{t−1} = Kᵀ ga; finally dL = gK ∘ K.
 */
function sinkhornBackward(
  rows: number, n: number, iters: number, logits: Float32Array, lOff: number,
  dOut: Float32Array, dOutOff: number, dLogits: Float32Array, dlOff: number,
): void {
  const nn = n * n;
  const k = new Float64Array(nn);
  const us = new Float64Array(iters * n);
  const vs = new Float64Array((iters + 1) * n);
  const gK = new Float64Array(nn);
  const gu = new Float64Array(n);
  const gv = new Float64Array(n);
  const gab = new Float64Array(n);
  for (let r = 0; r < rows; r++) {
    sinkhornScalings(n, iters, logits, lOff + r * nn, k, us, vs);
    const uT = (iters - 1) * n;
    const vT = iters * n;
    const go = dOutOff + r * nn;
    gu.fill(0);
    gv.fill(0);
    for (let i = 0; i < n; i++) {
      const ui = us[uT + i];
      for (let j = 0; j < n; j++) {
        const g = dOut[go + i * n + j];
        const kij = k[i * n + j];
        const vj = vs[vT + j];
        gK[i * n + j] = g * ui * vj;
        gu[i] += g * kij * vj;
        gv[j] += g * ui * kij;
      }
    }
    for (let t = iters; t >= 1; t--) {
      const uo = (t - 1) * n;
      const vo = t * n;
      const vPrev = (t - 1) * n;
      // v_t = 1/(Kᵀ u_t)
      for (let j = 0; j < n; j++) {
        const v = vs[vo + j];
        gab[j] = -gv[j] * v * v;
      }
      for (let i = 0; i < n; i++) {
        const ui = us[uo + i];
        let s = 0;
        for (let j = 0; j < n; j++) {
          gK[i * n + j] += ui * gab[j];
          s += k[i * n + j] * gab[j];
        }
        gu[i] += s;
      }
      // u_t = 1/(K v_{t−1})
      for (let i = 0; i < n; i++) {
        const u = us[uo + i];
        gab[i] = -gu[i] * u * u;
      }
      gv.fill(0);
      for (let i = 0; i < n; i++) {
        const ga = gab[i];
        for (let j = 0; j < n; j++) {
          gK[i * n + j] += ga * vs[vPrev + j];
          gv[j] += k[i * n + j] * ga;
        }
      }
      gu.fill(0);
    }
    const dl = dlOff + r * nn;
    for (let q = 0; q < nn; q++) dLogits[dl + q] += gK[q] * k[q];
  }
}

function copyBlock(rows: number, cols: number, src: Float32Array, srcOff: number, ldSrc: number, dst: Float32Array, dstOff: number, ldDst: number): void {
  for (let r = 0; r < rows; r++) {
    const a = srcOff + r * ldSrc;
    const b = dstOff + r * ldDst;
    for (let c = 0; c < cols; c++) dst[b + c] = src[a + c];
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
  copyBlock,
  streamWeightedSum,
  streamWeightedSumBackward,
  streamMixForward,
  streamMixBackward,
};

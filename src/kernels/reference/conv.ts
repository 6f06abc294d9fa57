/**
 * Reference kernels of the convolutional sequence embedding (Caser): max-pooling over the rows of a
 * block (max-pooling over time). Plain TypeScript; semantics documented in kernels/types.ts.
 */

function maxPoolRowsForward(
  groups: number, len: number, dim: number, x: Float32Array, xOff: number,
  out: Float32Array, outOff: number, argmax: Int32Array, argOff: number,
): void {
  if (len < 1) throw new RangeError(`maxPoolRowsForward: len must be ≥ 1, got ${len}`);
  for (let g = 0; g < groups; g++) {
    const base = xOff + g * len * dim;
    for (let c = 0; c < dim; c++) {
      let best = x[base + c];
      let at = 0;
      for (let l = 1; l < len; l++) {
        const v = x[base + l * dim + c];
        if (v > best) {
          best = v;
          at = l;
        }
      }
      out[outOff + g * dim + c] = best;
      argmax[argOff + g * dim + c] = at;
    }
  }
}

function maxPoolRowsBackward(
  groups: number, len: number, dim: number, dOut: Float32Array, dOutOff: number,
  argmax: Int32Array, argOff: number, dx: Float32Array, dxOff: number,
): void {
  for (let g = 0; g < groups; g++) {
    for (let c = 0; c < dim; c++) {
      const l = argmax[argOff + g * dim + c];
      dx[dxOff + (g * len + l) * dim + c] += dOut[dOutOff + g * dim + c];
    }
  }
}

export const convReferenceKernels = {
  maxPoolRowsForward,
  maxPoolRowsBackward,
};

/** The optimiser kernel of the reference backend (Adam, PyTorch order). */

export function adamStep(
  n: number, p: Float32Array, pOff: number, g: Float32Array, gOff: number,
  m: Float32Array, mOff: number, v: Float32Array, vOff: number,
  lr: number, beta1: number, beta2: number, eps: number, bc1: number, bc2: number,
): void {
  const stepSize = lr / bc1;
  const bc2Sqrt = Math.sqrt(bc2);
  for (let i = 0; i < n; i++) {
    const gi = g[gOff + i];
    const mi = beta1 * m[mOff + i] + (1 - beta1) * gi;
    const vi = beta2 * v[vOff + i] + (1 - beta2) * gi * gi;
    m[mOff + i] = mi;
    v[vOff + i] = vi;
    p[pOff + i] -= (stepSize * mi) / (Math.sqrt(vi) / bc2Sqrt + eps);
  }
}

/** Loss and reduction kernels of the reference backend. */

export function sumSquares(n: number, x: Float32Array, xOff: number): number {
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

export function bceLogitsMaskedSum(
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

export function bceLogitsMaskedBackward(
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

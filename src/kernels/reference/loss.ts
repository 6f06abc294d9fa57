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
export function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/** 1 / (1 + exp(−x)) without overflow. */
export function sigmoid(x: number): number {
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

export function softplusSum(n: number, sign: number, x: Float32Array, xOff: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += softplus(sign * x[xOff + i]);
  return s;
}

export function softplusBackward(n: number, sign: number, x: Float32Array, xOff: number, scale: number, dx: Float32Array, dxOff: number): void {
  for (let i = 0; i < n; i++) dx[dxOff + i] += scale * sign * sigmoid(sign * x[xOff + i]);
}

export function bprSum(M: number, K: number, pos: Float32Array, posOff: number, neg: Float32Array, negOff: number): number {
  let s = 0;
  for (let m = 0; m < M; m++) {
    const p = pos[posOff + m];
    for (let k = 0; k < K; k++) s += softplus(neg[negOff + m * K + k] - p);
  }
  return s;
}

export function bprBackward(
  M: number, K: number, pos: Float32Array, posOff: number, neg: Float32Array, negOff: number, scale: number,
  dPos: Float32Array, dPosOff: number, dNeg: Float32Array, dNegOff: number,
): void {
  for (let m = 0; m < M; m++) {
    const p = pos[posOff + m];
    let acc = 0;
    for (let k = 0; k < K; k++) {
      const g = scale * sigmoid(neg[negOff + m * K + k] - p);
      dNeg[dNegOff + m * K + k] += g;
      acc += g;
    }
    dPos[dPosOff + m] -= acc;
  }
}

export function sampledSoftmaxForward(
  M: number, K: number, pos: Float32Array, posOff: number, neg: Float32Array, negOff: number,
  skip: Uint8Array | null, lse: Float64Array,
): number {
  let s = 0;
  for (let m = 0; m < M; m++) {
    const p = pos[posOff + m];
    let max = p;
    for (let k = 0; k < K; k++) if (!skip?.[m * K + k] && neg[negOff + m * K + k] > max) max = neg[negOff + m * K + k];
    let sum = Math.exp(p - max);
    for (let k = 0; k < K; k++) if (!skip?.[m * K + k]) sum += Math.exp(neg[negOff + m * K + k] - max);
    lse[m] = max + Math.log(sum);
    s += lse[m] - p;
  }
  return s;
}

export function sampledSoftmaxBackward(
  M: number, K: number, pos: Float32Array, posOff: number, neg: Float32Array, negOff: number,
  skip: Uint8Array | null, lse: Float64Array, scale: number,
  dPos: Float32Array, dPosOff: number, dNeg: Float32Array, dNegOff: number,
): void {
  for (let m = 0; m < M; m++) {
    dPos[dPosOff + m] += scale * (Math.exp(pos[posOff + m] - lse[m]) - 1);
    for (let k = 0; k < K; k++) {
      if (skip?.[m * K + k]) continue;
      dNeg[dNegOff + m * K + k] += scale * Math.exp(neg[negOff + m * K + k] - lse[m]);
    }
  }
}

export function softmaxChunkStats(
  rows: number, cols: number, logits: Float32Array, lOff: number, ld: number, c0: number,
  target: Int32Array, targetOff: number, rowMax: Float64Array, rowSum: Float64Array, targetLogit: Float64Array,
): void {
  for (let r = 0; r < rows; r++) {
    const row = lOff + r * ld;
    let max = rowMax[r];
    for (let c = 0; c < cols; c++) if (logits[row + c] > max) max = logits[row + c];
    let sum = rowSum[r] * Math.exp(rowMax[r] - max);
    if (!(sum >= 0)) sum = 0; // the first chunk: exp(−∞ − max) · 0
    for (let c = 0; c < cols; c++) sum += Math.exp(logits[row + c] - max);
    rowMax[r] = max;
    rowSum[r] = sum;
    const t = target[targetOff + r] - c0;
    if (t >= 0 && t < cols) targetLogit[r] = logits[row + t];
  }
}

export function softmaxChunkGrad(
  rows: number, cols: number, logits: Float32Array, lOff: number, ld: number, c0: number,
  target: Int32Array, targetOff: number, lse: Float64Array, scale: number,
): void {
  for (let r = 0; r < rows; r++) {
    const row = lOff + r * ld;
    const l = lse[r];
    for (let c = 0; c < cols; c++) logits[row + c] = scale * Math.exp(logits[row + c] - l);
    const t = target[targetOff + r] - c0;
    if (t >= 0 && t < cols) logits[row + t] -= scale;
  }
}

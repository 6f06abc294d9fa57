/**
 * Kernels of the gated recurrent unit (engine/gru.ts), the score activations and the ranking losses
 * of GRU4Rec (engine/ranking-loss-ops.ts), reference backend. Layouts are those of kernels/types.ts.
 */
import type { RankingLossKind } from '../types.js';
import { sigmoid, softplus } from './loss.js';

export function gruGatesForward(
  B: number, d: number, x: Float32Array, xOff: number, bias: Float32Array, bOff: number, a: Float32Array, aOff: number,
  h: Float32Array, hOff: number, gates: Float32Array, gOff: number, hr: Float32Array, hrOff: number,
): void {
  const d3 = 3 * d;
  const d2 = 2 * d;
  for (let b = 0; b < B; b++) {
    const xb = xOff + b * d3;
    const ab = aOff + b * d2;
    const gb = gOff + b * d3;
    for (let j = 0; j < d2; j++) gates[gb + j] = sigmoid(x[xb + j] + bias[bOff + j] + a[ab + j]);
    for (let j = 0; j < d; j++) hr[hrOff + b * d + j] = h[hOff + b * d + j] * gates[gb + j];
  }
}

export function gruStateForward(
  B: number, d: number, x: Float32Array, xOff: number, bias: Float32Array, bOff: number, c: Float32Array, cOff: number,
  h: Float32Array, hOff: number, gates: Float32Array, gOff: number, out: Float32Array, outOff: number,
): void {
  const d3 = 3 * d;
  for (let b = 0; b < B; b++) {
    const gb = gOff + b * d3;
    for (let j = 0; j < d; j++) {
      const cand = Math.tanh(x[xOff + b * d3 + 2 * d + j] + bias[bOff + 2 * d + j] + c[cOff + b * d + j]);
      gates[gb + 2 * d + j] = cand;
      const prev = h[hOff + b * d + j];
      out[outOff + b * d + j] = prev + gates[gb + d + j] * (cand - prev);
    }
  }
}

export function gruStateBackward(
  B: number, d: number, h: Float32Array, hOff: number, gates: Float32Array, gOff: number, dOut: Float32Array, dOutOff: number,
  dPre: Float32Array, dPreOff: number, dh: Float32Array | null, dhOff: number,
): void {
  const d3 = 3 * d;
  for (let b = 0; b < B; b++) {
    const gb = gOff + b * d3;
    const pb = dPreOff + b * d3;
    for (let j = 0; j < d; j++) {
      const g = dOut[dOutOff + b * d + j];
      const z = gates[gb + d + j];
      const cand = gates[gb + 2 * d + j];
      const prev = h[hOff + b * d + j];
      dPre[pb + 2 * d + j] = g * z * (1 - cand * cand);
      dPre[pb + d + j] = g * (cand - prev) * z * (1 - z);
      if (dh) dh[dhOff + b * d + j] += g * (1 - z);
    }
  }
}

export function gruGatesBackward(
  B: number, d: number, h: Float32Array, hOff: number, gates: Float32Array, gOff: number, dhr: Float32Array, dhrOff: number,
  dPre: Float32Array, dPreOff: number, dh: Float32Array | null, dhOff: number,
): void {
  const d3 = 3 * d;
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < d; j++) {
      const g = dhr[dhrOff + b * d + j];
      const r = gates[gOff + b * d3 + j];
      dPre[dPreOff + b * d3 + j] = g * h[hOff + b * d + j] * r * (1 - r);
      if (dh) dh[dhOff + b * d + j] += g * r;
    }
  }
}

export function tanhForward(n: number, x: Float32Array, xOff: number, out: Float32Array, outOff: number): void {
  for (let i = 0; i < n; i++) out[outOff + i] = Math.tanh(x[xOff + i]);
}

export function tanhBackward(n: number, y: Float32Array, yOff: number, dy: Float32Array, dyOff: number, dx: Float32Array, dxOff: number): void {
  for (let i = 0; i < n; i++) {
    const v = y[yOff + i];
    dx[dxOff + i] += dy[dyOff + i] * (1 - v * v);
  }
}

export function eluForward(n: number, alpha: number, x: Float32Array, xOff: number, out: Float32Array, outOff: number): void {
  for (let i = 0; i < n; i++) {
    const v = x[xOff + i];
    out[outOff + i] = v >= 0 ? v : alpha * Math.expm1(v);
  }
}

export function eluBackward(
  n: number, alpha: number, y: Float32Array, yOff: number, dy: Float32Array, dyOff: number, dx: Float32Array, dxOff: number,
): void {
  for (let i = 0; i < n; i++) {
    const v = y[yOff + i];
    dx[dxOff + i] += dy[dyOff + i] * (v >= 0 ? 1 : v + alpha);
  }
}

/** Guards BPR-max's log against a sum of weighted sigmoids that underflows (the authors' code adds the same). */
const BPR_MAX_EPS = 1e-24;

/** Scratch of BPR-max's per-column exponentials and sigmoids (grown on demand). */
let scratchE = new Float64Array(0);
let scratchS = new Float64Array(0);

/**
 * BPR-max's sums over row m's negatives: e_j = exp(r_j − max) and σ_j = σ(r_m − r_j) into the scratch
 * (at the negatives' columns), Z = Σ e_j, S = Σ e_j σ_j / Z, R = Σ e_j r_j² / Z. Returns null when the row has none.
 */
function bprMaxRow(C: number, scores: Float32Array, row: number, rm: number, neg: Uint8Array, negRow: number): { Z: number; S: number; R: number } | null {
  if (scratchE.length < C) {
    scratchE = new Float64Array(C);
    scratchS = new Float64Array(C);
  }
  let max = -Infinity;
  for (let j = 0; j < C; j++) if (neg[negRow + j] !== 0 && scores[row + j] > max) max = scores[row + j];
  if (max === -Infinity) return null;
  let Z = 0;
  let S = 0;
  let R = 0;
  for (let j = 0; j < C; j++) {
    if (neg[negRow + j] === 0) continue;
    const r = scores[row + j];
    const e = Math.exp(r - max);
    const sg = sigmoid(rm - r);
    scratchE[j] = e;
    scratchS[j] = sg;
    Z += e;
    S += e * sg;
    R += e * r * r;
  }
  return { Z, S: S / Z, R: R / Z };
}

export function rankingLossSum(
  kind: RankingLossKind, M: number, C: number, scores: Float32Array, sOff: number, neg: Uint8Array, lambda: number,
): number {
  let total = 0;
  for (let m = 0; m < M; m++) {
    const row = sOff + m * C;
    const negRow = m * C;
    const rm = scores[row + m];
    if (kind === 'bpr_max') {
      const sums = bprMaxRow(C, scores, row, rm, neg, negRow);
      if (sums) total += -Math.log(sums.S + BPR_MAX_EPS) + lambda * sums.R;
      continue;
    }
    let n = 0;
    let s = 0;
    for (let j = 0; j < C; j++) {
      if (neg[negRow + j] === 0) continue;
      const r = scores[row + j];
      n++;
      s += kind === 'top1' ? sigmoid(r - rm) + sigmoid(r * r) : softplus(r - rm);
    }
    if (n > 0) total += s / n;
  }
  return total;
}

export function rankingLossBackward(
  kind: RankingLossKind, M: number, C: number, scores: Float32Array, sOff: number, neg: Uint8Array, lambda: number, scale: number,
  dScores: Float32Array, dOff: number,
): void {
  for (let m = 0; m < M; m++) {
    const row = sOff + m * C;
    const dRow = dOff + m * C;
    const negRow = m * C;
    const rm = scores[row + m];
    let dPos = 0;
    if (kind === 'bpr_max') {
      const sums = bprMaxRow(C, scores, row, rm, neg, negRow);
      if (!sums) continue;
      const { Z, S, R } = sums;
      // ∂S/∂r_k = s_k (σ_k − S) − s_k σ_k (1 − σ_k); ∂R/∂r_k = s_k (r_k² − R) + 2 s_k r_k; ∂S/∂r_m = Σ s_j σ_j (1 − σ_j)
      const gS = -scale / (S + BPR_MAX_EPS);
      const gR = scale * lambda;
      for (let j = 0; j < C; j++) {
        if (neg[negRow + j] === 0) continue;
        const r = scores[row + j];
        const sk = scratchE[j] / Z;
        const sg = scratchS[j];
        const dsg = sg * (1 - sg);
        dPos += gS * sk * dsg;
        dScores[dRow + j] += gS * sk * (sg - S - dsg) + gR * sk * (r * r - R + 2 * r);
      }
    } else {
      let n = 0;
      for (let j = 0; j < C; j++) n += neg[negRow + j] !== 0 ? 1 : 0;
      if (n === 0) continue;
      const g = scale / n;
      for (let j = 0; j < C; j++) {
        if (neg[negRow + j] === 0) continue;
        const r = scores[row + j];
        const sd = sigmoid(r - rm);
        if (kind === 'top1') {
          const sq = sigmoid(r * r);
          dScores[dRow + j] += g * (sd * (1 - sd) + sq * (1 - sq) * 2 * r);
          dPos -= g * sd * (1 - sd);
        } else {
          dScores[dRow + j] += g * sd;
          dPos -= g * sd;
        }
      }
    }
    dScores[dRow + m] += dPos;
  }
}

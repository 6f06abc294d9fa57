/**
 * Differentiable ops of the training losses beyond BCE with one negative (ops.ts has that one):
 * scores of K negatives per row, softplus sums (BCE of many logits), BPR, sampled softmax, and the
 * full-catalogue softmax cross-entropy computed over item chunks (never [rows × items] at once).
 */
import { getKernels } from '../kernels/index.js';
import { gemmBatched } from '../kernels/wasm/batched.js';
import { getTape } from './tape.js';
import { type Tensor, shapeStr } from './tensor.js';

/**
 * out[m, k] = f[m] · g[m·K + k]: each of the M rows of f [M, d] against its own K rows of g [M·K, d]
 * (the scores of K sampled items per position) → [M, K].
 */
export function groupedRowDot(f: Tensor, g: Tensor, K: number): Tensor {
  const M = f.rows;
  const d = f.lastDim;
  if (g.rows !== M * K || g.lastDim !== d) throw new Error(`groupedRowDot: ${shapeStr(g.shape)} is not [${M}·${K}, ${d}]`);
  const kern = getKernels();
  const tape = getTape();
  const out = tape.output([M, K], f, g);
  // per row m: out[m, :] (K×1) = g_m (K×d) · f_mᵀ (d×1)
  gemmBatched(kern, false, true, K, 1, d, 1, g.data, 0, d, f.data, 0, d, 0, out.data, 0, 1, M, K * d, d, K);
  if (out.requiresGrad) {
    tape.record(() => {
      const dy = out.grad;
      if (!dy) return;
      // df_m (1×d) += dy_m (1×K) · g_m (K×d);  dg_m (K×d) += dy_mᵀ (K×1) · f_m (1×d)
      if (f.requiresGrad) gemmBatched(kern, false, false, 1, d, K, 1, dy, 0, K, g.data, 0, d, 1, tape.gradOf(f), 0, d, M, K, K * d, d);
      if (g.requiresGrad) gemmBatched(kern, false, false, K, d, 1, 1, dy, 0, 1, f.data, 0, d, 1, tape.gradOf(g), 0, d, M, K, d, K * d);
    });
  }
  return out;
}

/**
 * out[m, k] = f_m · table[ids[m·K + k]] → [M, K]: groupedRowDot(f, embedding(table, ids), K) without the
 * [M·K, d] block of gathered rows and its gradient: one fused pass reads each sampled row where it
 * lies in the table (kernels' gatherDot), and the backward adds each row's gradient straight into the
 * table's (rows at `paddingIdx` get none). For K sampled negatives per position.
 */
export function gatheredRowDot(f: Tensor, table: Tensor, ids: Int32Array, K: number, paddingIdx = -1): Tensor {
  const M = f.rows;
  const d = f.lastDim;
  if (ids.length !== M * K) throw new Error(`gatheredRowDot: ${ids.length} ids for ${M}·${K}`);
  if (table.lastDim !== d) throw new Error(`gatheredRowDot: table ${shapeStr(table.shape)} has not ${d} columns`);
  const N = table.rows;
  for (const id of ids) if (id < 0 || id >= N) throw new Error(`gatheredRowDot: index ${id} out of range [0, ${N})`);
  const kern = getKernels();
  const tape = getTape();
  const out = tape.output([M, K], f, table);
  kern.gatherDot(M, K, d, f.data, 0, table.data, 0, ids, 0, out.data, 0);
  if (out.requiresGrad) {
    tape.record(() => {
      const dy = out.grad;
      if (!dy) return;
      const df = f.requiresGrad ? tape.gradOf(f) : null;
      const dt = table.requiresGrad ? tape.gradOf(table) : null;
      kern.gatherDotBackward(M, K, d, f.data, 0, table.data, 0, ids, 0, dy, 0, paddingIdx, df, 0, dt, 0);
    });
  }
  return out;
}

/** weight · Σ softplus(sign · x) → a scalar: the BCE-with-logits of every x with label 1 (sign −1) or 0 (sign +1). */
export function softplusSum(x: Tensor, sign: 1 | -1, weight: number): Tensor {
  const kern = getKernels();
  const tape = getTape();
  const out = tape.output([], x);
  out.data[0] = weight * kern.softplusSum(x.size, sign, x.data, 0);
  if (out.requiresGrad) {
    tape.record(() => {
      if (out.grad) kern.softplusBackward(x.size, sign, x.data, 0, weight * out.grad[0], tape.gradOf(x), 0);
    });
  }
  return out;
}

/** weight · Σ_{m,k} −log σ(pos[m] − neg[m, k]) → a scalar (BPR over K negatives per row). */
export function bprLoss(pos: Tensor, neg: Tensor, weight: number): Tensor {
  const M = pos.size;
  if (neg.size % M !== 0) throw new Error(`bprLoss: ${neg.size} negative scores for ${M} rows`);
  const K = neg.size / M;
  const kern = getKernels();
  const tape = getTape();
  const out = tape.output([], pos, neg);
  out.data[0] = weight * kern.bprSum(M, K, pos.data, 0, neg.data, 0);
  if (out.requiresGrad) {
    tape.record(() => {
      if (!out.grad) return;
      kern.bprBackward(M, K, pos.data, 0, neg.data, 0, weight * out.grad[0], tape.gradOf(pos), 0, tape.gradOf(neg), 0);
    });
  }
  return out;
}

/**
 * weight · Σ_m −log softmax([pos[m], neg[m, :]])₀ → a scalar: the softmax cross-entropy of each row's
 * positive against its K sampled items, leaving out a sampled item where skip[m·K + k] ≠ 0.
 */
export function sampledSoftmaxLoss(pos: Tensor, neg: Tensor, skip: Uint8Array | null, weight: number): Tensor {
  const M = pos.size;
  if (neg.size % M !== 0) throw new Error(`sampledSoftmaxLoss: ${neg.size} negative scores for ${M} rows`);
  const K = neg.size / M;
  const kern = getKernels();
  const tape = getTape();
  const out = tape.output([], pos, neg);
  const lse = new Float64Array(M);
  out.data[0] = weight * kern.sampledSoftmaxForward(M, K, pos.data, 0, neg.data, 0, skip, lse);
  if (out.requiresGrad) {
    tape.record(() => {
      if (!out.grad) return;
      kern.sampledSoftmaxBackward(M, K, pos.data, 0, neg.data, 0, skip, lse, weight * out.grad[0], tape.gradOf(pos), 0, tape.gradOf(neg), 0);
    });
  }
  return out;
}

/** Items per chunk of the full-catalogue softmax: [rows × chunk] logits at a time. */
export const SOFTMAX_CHUNK = 2048;

/**
 * The mean over rows of −log softmax(f[r] · wᵀ + bias)[target[r]] over the items 1..items (row 0 of w, the
 * padding item, takes no part; nor do rows past `items`, e.g. BERT4Rec's mask token; default: every
 * row but 0) → a scalar: the full-catalogue cross-entropy (SASRec+, BERT4Rec).
 * The [rows × items] logits are never held at once: the forward pass computes them chunk by chunk
 * (GEMM → running log-sum-exp); the backward pass computes each chunk again (GEMM → softmax gradient
 * in place → one GEMM into df, one into dw). `bias` [N + 1] is optional.
 */
export function fullSoftmaxCrossEntropy(
  f: Tensor,
  w: Tensor,
  target: Int32Array,
  bias: Tensor | null = null,
  chunk = SOFTMAX_CHUNK,
  items = w.shape[0] - 1,
): Tensor {
  const M = f.rows;
  const d = f.lastDim;
  if (w.shape.length !== 2 || w.shape[1] !== d) throw new Error(`fullSoftmaxCrossEntropy: weight ${shapeStr(w.shape)} is not [items, ${d}]`);
  if (target.length !== M) throw new Error(`fullSoftmaxCrossEntropy: ${target.length} targets for ${M} rows`);
  if (!(Number.isInteger(items) && items >= 1 && items < w.shape[0])) throw new Error(`fullSoftmaxCrossEntropy: ${items} items of a ${w.shape[0]}-row weight`);
  const n1 = items + 1;
  if (bias && bias.size < n1) throw new Error(`fullSoftmaxCrossEntropy: bias of ${bias.size} for ${n1} items`);
  for (let r = 0; r < M; r++) {
    if (!(target[r] >= 1 && target[r] < n1)) throw new Error(`fullSoftmaxCrossEntropy: target ${target[r]} of row ${r} is not in 1..${n1 - 1}`);
  }
  const kern = getKernels();
  const tape = getTape();
  const out = tape.output([], ...(bias ? [f, w, bias] : [f, w]));
  const C = Math.max(1, Math.min(chunk, n1 - 1));
  const logits = tape.alloc(M * C);
  /** logits of items c0 … c0 + cols − 1 into the chunk buffer */
  const chunkLogits = (c0: number, cols: number) => {
    kern.gemm(false, true, M, cols, d, 1, f.data, 0, d, w.data, c0 * d, d, 0, logits, 0, cols);
    if (bias) kern.addBias(M, cols, bias.data, c0, logits, 0);
  };
  const rowMax = new Float64Array(M).fill(-Infinity);
  const rowSum = new Float64Array(M);
  const targetLogit = new Float64Array(M);
  for (let c0 = 1; c0 < n1; c0 += C) {
    const cols = Math.min(C, n1 - c0);
    chunkLogits(c0, cols);
    kern.softmaxChunkStats(M, cols, logits, 0, cols, c0, target, 0, rowMax, rowSum, targetLogit);
  }
  const lse = new Float64Array(M);
  let total = 0;
  for (let r = 0; r < M; r++) {
    lse[r] = rowMax[r] + Math.log(rowSum[r]);
    total += lse[r] - targetLogit[r];
  }
  out.data[0] = M > 0 ? total / M : 0;
  if (out.requiresGrad) {
    tape.record(() => {
      const dy = out.grad;
      if (!dy || M === 0) return;
      const scale = dy[0] / M;
      const df = f.requiresGrad ? tape.gradOf(f) : null;
      const dw = w.requiresGrad ? tape.gradOf(w) : null;
      const db = bias?.requiresGrad ? tape.gradOf(bias) : null;
      for (let c0 = 1; c0 < n1; c0 += C) {
        const cols = Math.min(C, n1 - c0);
        chunkLogits(c0, cols);
        kern.softmaxChunkGrad(M, cols, logits, 0, cols, c0, target, 0, lse, scale);
        if (df) kern.gemm(false, false, M, d, cols, 1, logits, 0, cols, w.data, c0 * d, d, 1, df, 0, d);
        if (dw) kern.gemm(true, false, cols, d, M, 1, logits, 0, cols, f.data, 0, d, 1, dw, c0 * d, d);
        if (db) kern.colSumAcc(M, cols, logits, 0, db, c0);
      }
    });
  }
  return out;
}

/**
 * Bidirectional multi-head self-attention with a key-padding mask (BERT's attention, BERT4Rec): every
 * query of a sequence attends to every key of that sequence that is not padding, before and after it.
 *
 * The rows of one [rows, 3d] in-projection (q | k | v column blocks, torch.nn.MultiheadAttention's
 * layout) are grouped into sequences of consecutive rows (`SequenceRows`): a dense [B, L] batch is B
 * sequences of L rows (`denseRows`) with its padding keys masked; a packed batch (padding rows left
 * out, engine/packing.ts) is B sequences of varying length and needs no mask. Both give the same
 * outputs at the real rows: a padding key takes no part, so it does not matter whether it is there.
 *
 * Per sequence s (n rows) and head h, with hd = d / heads:
 *   S = Q_sh K_shᵀ / √hd  (n × n),  P = softmax over the unmasked keys of each row,
 *   A = P ∘ dropout mask,  O_sh = A V_sh.
 * The two products of each block run on the backend's GEMM; the softmax (with its dropout) is one
 * kernel (Kernels.attentionSoftmaxForward). The backward recomputes nothing: P and A are kept.
 */
import { getKernels } from '../kernels/index.js';
import { attentionDropout, type PackedAttentionOptions, qkvHeads } from './ops.js';
import { withRngState } from './rng.js';
import { getTape } from './tape.js';
import type { Tensor } from './tensor.js';

/** Sequences of consecutive rows: sequence s is rows seqStart[s] … seqStart[s] + seqLen[s] − 1. */
export interface SequenceRows {
  readonly seqCount: number;
  readonly seqStart: Int32Array;
  readonly seqLen: Int32Array;
}

/** `batch` sequences of `len` rows each: the rows of a dense [batch, len] batch. */
export function denseRows(batch: number, len: number): SequenceRows {
  const seqStart = new Int32Array(batch);
  for (let b = 0; b < batch; b++) seqStart[b] = b * len;
  return { seqCount: batch, seqStart, seqLen: new Int32Array(batch).fill(len) };
}

export interface BidirectionalAttentionOptions extends PackedAttentionOptions {
  /** keyMask[row] ≠ 0: that row is padding, a key no query attends to (null or absent: none is) */
  keyMask?: Uint8Array | null;
}

/**
 * Bidirectional multi-head attention core on a packed [rows, 3d] projection → [rows, d]. Rows outside
 * every sequence get 0; so does a query whose every key is masked. Dropout draws: for s, for h, for
 * each query row, for each unmasked key in order, one uniform (see Kernels.attentionSoftmaxForward).
 */
export function bidirectionalAttention(qkv: Tensor, seqs: SequenceRows, opts: BidirectionalAttentionOptions): Tensor {
  const op = 'bidirectionalAttention';
  const { heads } = opts;
  const { d, headDim: hd } = qkvHeads(op, qkv, heads);
  const d3 = 3 * d;
  const rows = qkv.rows;
  const keyMask = opts.keyMask ?? null;
  if (keyMask && keyMask.length < rows) throw new Error(`${op}: keyMask has ${keyMask.length} entries for ${rows} rows`);
  const { seqCount, seqStart, seqLen } = seqs;
  if (seqStart.length < seqCount || seqLen.length < seqCount) throw new Error(`${op}: sequence arrays shorter than ${seqCount}`);
  // probability blocks: sequence s, head h at blockOff[s] + h·n²
  const blockOff = new Float64Array(seqCount);
  let total = 0;
  let maxBlock = 0;
  for (let s = 0; s < seqCount; s++) {
    const n = seqLen[s];
    const r0 = seqStart[s];
    if (!(Number.isInteger(n) && n >= 0 && r0 >= 0 && r0 + n <= rows)) throw new Error(`${op}: sequence ${s} (rows ${r0}..${r0 + n}) is out of range [0, ${rows})`);
    blockOff[s] = total;
    total += heads * n * n;
    maxBlock = Math.max(maxBlock, n * n);
  }
  const p = attentionDropout(op, opts);
  const scale = 1 / Math.sqrt(hd);
  const K = getKernels();
  const tape = getTape();
  const out = tape.output([rows, d], qkv);
  K.fill(rows * d, 0, out.data, 0);
  const probs = tape.alloc(Math.max(1, total));
  const dropped = p > 0 ? tape.alloc(Math.max(1, total)) : probs;
  const x = qkv.data;
  const forward = (state: Uint32Array | null) => {
    for (let s = 0; s < seqCount; s++) {
      const n = seqLen[s];
      const r0 = seqStart[s];
      for (let h = 0; h < heads; h++) {
        const base = blockOff[s] + h * n * n;
        const q = r0 * d3 + h * hd;
        K.gemm(false, true, n, n, hd, scale, x, q, d3, x, q + d, d3, 0, probs, base, n);
        K.attentionSoftmaxForward(n, n, probs, base, keyMask, r0, p, state, dropped, base);
        K.gemm(false, false, n, hd, n, 1, dropped, base, n, x, q + 2 * d, d3, 0, out.data, r0 * d + h * hd, d);
      }
    }
  };
  if (p > 0) withRngState(opts.rng!, forward);
  else forward(null);
  if (out.requiresGrad) {
    tape.record(() => {
      const dy = out.grad;
      if (!dy) return;
      const g = tape.gradOf(qkv);
      const dS = tape.alloc(Math.max(1, maxBlock));
      for (let s = 0; s < seqCount; s++) {
        const n = seqLen[s];
        const r0 = seqStart[s];
        for (let h = 0; h < heads; h++) {
          const base = blockOff[s] + h * n * n;
          const q = r0 * d3 + h * hd;
          const o = r0 * d + h * hd;
          K.gemm(false, true, n, n, hd, 1, dy, o, d, x, q + 2 * d, d3, 0, dS, 0, n); // dA = dO·Vᵀ
          K.gemm(true, false, n, hd, n, 1, dropped, base, n, dy, o, d, 1, g, q + 2 * d, d3); // dV += Aᵀ·dO
          K.attentionSoftmaxBackward(n, n, probs, base, dropped, base, dS, 0); // dS (unscaled)
          K.gemm(false, false, n, hd, n, scale, dS, 0, n, x, q + d, d3, 1, g, q, d3); // dQ += dS·K/√hd
          K.gemm(true, false, n, hd, n, scale, dS, 0, n, x, q, d3, 1, g, q + d, d3); // dK += dSᵀ·Q/√hd
        }
      }
    });
  }
  return out;
}

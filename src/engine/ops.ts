/**
 * Differentiable ops. Each is coarse (one kernel call or a few) and records one backward closure.
 * Shapes: a tensor is treated as rows × lastDim where that is what the op needs; outputs are fresh
 * tape buffers. All numeric loops live in the kernels (src/kernels), never here.
 */
import { getKernels } from '../kernels/index.js';
import { type Rng, withRngState } from './rng.js';
import { getTape } from './tape.js';
import { Tensor, sameShape, shapeStr } from './tensor.js';

function assertSameShape(op: string, a: Tensor, b: Tensor): void {
  if (!sameShape(a.shape, b.shape)) throw new Error(`${op}: shapes ${shapeStr(a.shape)} and ${shapeStr(b.shape)} differ`);
}

/** a + b (same shapes). */
export function add(a: Tensor, b: Tensor): Tensor {
  assertSameShape('add', a, b);
  const K = getKernels();
  const tape = getTape();
  const out = tape.output(a.shape, a, b);
  K.add(a.size, a.data, 0, b.data, 0, out.data, 0);
  if (out.requiresGrad) {
    tape.record(() => {
      const dy = out.grad;
      if (!dy) return;
      if (a.requiresGrad) K.axpy(a.size, 1, dy, 0, tape.gradOf(a), 0);
      if (b.requiresGrad) K.axpy(b.size, 1, dy, 0, tape.gradOf(b), 0);
    });
  }
  return out;
}

/** s · x for a constant s. */
export function scale(x: Tensor, s: number): Tensor {
  const K = getKernels();
  const tape = getTape();
  const out = tape.output(x.shape, x);
  K.scale(x.size, s, x.data, 0, out.data, 0);
  if (out.requiresGrad) {
    tape.record(() => {
      if (out.grad) K.axpy(x.size, s, out.grad, 0, tape.gradOf(x), 0);
    });
  }
  return out;
}

/** x + b with b added to every row of x (b has x's last dimension), e.g. a bias computed per input. */
export function addRow(x: Tensor, b: Tensor): Tensor {
  const cols = x.lastDim;
  if (b.size !== cols) throw new Error(`addRow: ${shapeStr(b.shape)} is not a row of ${shapeStr(x.shape)}`);
  const rows = x.rows;
  const K = getKernels();
  const tape = getTape();
  const out = tape.output(x.shape, x, b);
  out.data.set(x.data.subarray(0, x.size));
  K.addBias(rows, cols, b.data, 0, out.data, 0);
  if (out.requiresGrad) {
    tape.record(() => {
      const dy = out.grad;
      if (!dy) return;
      if (x.requiresGrad) K.axpy(x.size, 1, dy, 0, tape.gradOf(x), 0);
      if (b.requiresGrad) K.colSumAcc(rows, cols, dy, 0, tape.gradOf(b), 0);
    });
  }
  return out;
}

/** a ∘ b, element-wise (same shapes). */
export function mul(a: Tensor, b: Tensor): Tensor {
  assertSameShape('mul', a, b);
  const K = getKernels();
  const tape = getTape();
  const out = tape.output(a.shape, a, b);
  K.mul(a.size, a.data, 0, b.data, 0, out.data, 0);
  if (out.requiresGrad) {
    tape.record(() => {
      const dy = out.grad;
      if (!dy) return;
      if (a.requiresGrad) K.mulAcc(a.size, dy, 0, b.data, 0, tape.gradOf(a), 0);
      if (b.requiresGrad) K.mulAcc(b.size, dy, 0, a.data, 0, tape.gradOf(b), 0);
    });
  }
  return out;
}

/** The same values under another shape of equal size (a copy-free view; its grad flows back). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const K = getKernels();
  const tape = getTape();
  const out = new Tensor(x.data, shape, tape.enabled && x.requiresGrad);
  if (out.size !== x.size) throw new Error(`reshape: ${shapeStr(x.shape)} → ${shapeStr(shape)} changes the size`);
  if (out.requiresGrad) {
    tape.record(() => {
      if (out.grad) K.axpy(x.size, 1, out.grad, 0, tape.gradOf(x), 0);
    });
  }
  return out;
}

/** max(x, 0). */
export function relu(x: Tensor): Tensor {
  const K = getKernels();
  const tape = getTape();
  const out = tape.output(x.shape, x);
  K.relu(x.size, x.data, 0, out.data, 0);
  if (out.requiresGrad) {
    tape.record(() => {
      if (out.grad) K.reluBackward(x.size, out.data, 0, out.grad, 0, tape.gradOf(x), 0);
    });
  }
  return out;
}

/** Exact GELU, x·Φ(x) with the erf-based normal CDF (torch.nn.functional.gelu's default, not the tanh approximation). */
export function gelu(x: Tensor): Tensor {
  const K = getKernels();
  const tape = getTape();
  const out = tape.output(x.shape, x);
  K.geluForward(x.size, x.data, 0, out.data, 0);
  if (out.requiresGrad) {
    tape.record(() => {
      if (out.grad) K.geluBackward(x.size, x.data, 0, out.grad, 0, tape.gradOf(x), 0);
    });
  }
  return out;
}

/**
 * Inverted dropout with drop probability p, masks drawn from rng. Identity (returns x itself) when
 * not training or p = 0, as torch.nn.Dropout in eval mode.
 */
export function dropout(x: Tensor, p: number, rng: Rng, training = true): Tensor {
  if (!training || p === 0) return x;
  if (!(p > 0 && p < 1)) throw new Error(`dropout: p must be in [0, 1), got ${p}`);
  const K = getKernels();
  const tape = getTape();
  const out = tape.output(x.shape, x);
  const mask = tape.alloc(x.size);
  withRngState(rng, (state) => K.dropout(x.size, p, state, x.data, 0, mask, 0, out.data, 0));
  if (out.requiresGrad) {
    tape.record(() => {
      if (out.grad) K.mulAcc(x.size, out.grad, 0, mask, 0, tape.gradOf(x), 0);
    });
  }
  return out;
}

/**
 * Embedding lookup: out[..., :] = alpha · weight[idx[...], :], shape idxShape + [dim].
 * Rows looked up at `paddingIdx` get no gradient, as torch.nn.Embedding(padding_idx=…).
 * Also serves as a row gather from any 2-D tensor (e.g. the last position of each sequence).
 */
export function embedding(
  weight: Tensor, idx: Int32Array, opts: { shape?: readonly number[]; scale?: number; paddingIdx?: number } = {},
): Tensor {
  if (weight.shape.length !== 2) throw new Error(`embedding: weight must be 2-D, got ${shapeStr(weight.shape)}`);
  const [num, dim] = weight.shape;
  const n = idx.length;
  const idxShape = opts.shape ?? [n];
  const alpha = opts.scale ?? 1;
  const skip = opts.paddingIdx ?? -1;
  for (let i = 0; i < n; i++) {
    const id = idx[i];
    if (id < 0 || id >= num) throw new Error(`embedding: index ${id} out of range [0, ${num})`);
  }
  const K = getKernels();
  const tape = getTape();
  const out = tape.output([...idxShape, dim], weight);
  if (out.size !== n * dim) throw new Error(`embedding: shape ${shapeStr(idxShape)} does not match ${n} indices`);
  K.gatherRows(n, dim, weight.data, 0, idx, 0, alpha, out.data, 0);
  if (out.requiresGrad) {
    tape.record(() => {
      if (out.grad) K.scatterAddRows(n, dim, out.grad, 0, idx, 0, alpha, skip, tape.gradOf(weight), 0);
    });
  }
  return out;
}

/**
 * y = x · Wᵀ + b with W in PyTorch layout [out, in] (a Conv1d weight [out, in, 1] works unchanged:
 * a kernel-size-1 convolution over positions is this linear map). x is [..., in] → y [..., out].
 */
export function linear(x: Tensor, w: Tensor, b: Tensor | null): Tensor {
  const outF = w.shape[0];
  const inF = x.lastDim;
  if (w.size !== outF * inF) throw new Error(`linear: weight ${shapeStr(w.shape)} does not map ${inF} inputs`);
  if (b && b.size !== outF) throw new Error(`linear: bias ${shapeStr(b.shape)} does not match ${outF} outputs`);
  const rows = x.rows;
  const K = getKernels();
  const tape = getTape();
  const out = tape.output([...x.shape.slice(0, -1), outF], x, w, b);
  K.gemm(false, true, rows, outF, inF, 1, x.data, 0, inF, w.data, 0, inF, 0, out.data, 0, outF);
  if (b) K.addBias(rows, outF, b.data, 0, out.data, 0);
  if (out.requiresGrad) {
    tape.record(() => {
      const dy = out.grad;
      if (!dy) return;
      if (x.requiresGrad) K.gemm(false, false, rows, inF, outF, 1, dy, 0, outF, w.data, 0, inF, 1, tape.gradOf(x), 0, inF);
      if (w.requiresGrad) K.gemm(true, false, outF, inF, rows, 1, dy, 0, outF, x.data, 0, inF, 1, tape.gradOf(w), 0, inF);
      if (b?.requiresGrad) K.colSumAcc(rows, outF, dy, 0, tape.gradOf(b), 0);
    });
  }
  return out;
}

/** LayerNorm over the last dimension (biased variance, as torch.nn.LayerNorm). */
export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-8): Tensor {
  const dim = x.lastDim;
  if (gamma.size !== dim || beta.size !== dim) throw new Error(`layerNorm: gamma/beta must have ${dim} elements`);
  const rows = x.rows;
  const K = getKernels();
  const tape = getTape();
  const out = tape.output(x.shape, x, gamma, beta);
  const mean = tape.alloc(rows);
  const rstd = tape.alloc(rows);
  K.layerNormForward(rows, dim, x.data, 0, gamma.data, 0, beta.data, 0, eps, out.data, 0, mean, rstd, 0);
  if (out.requiresGrad) {
    tape.record(() => {
      const dy = out.grad;
      if (!dy) return;
      K.layerNormBackward(
        rows, dim, x.data, 0, gamma.data, 0, mean, rstd, 0, dy, 0,
        x.requiresGrad ? tape.gradOf(x) : null, 0,
        gamma.requiresGrad ? tape.gradOf(gamma) : null, 0,
        beta.requiresGrad ? tape.gradOf(beta) : null, 0,
      );
    });
  }
  return out;
}

export interface AttentionOptions {
  batch: number;
  len: number;
  heads: number;
  /** attention-probability dropout (applied only when training and rng is given) */
  dropout?: number;
  rng?: Rng;
  training?: boolean;
}

/**
 * Causal multi-head attention core on a packed [batch·len, 3d] projection (q | k | v column blocks,
 * the layout of torch.nn.MultiheadAttention's in_proj output) → [batch·len, d]. One fused op: scaled
 * scores, causal mask, softmax, dropout, weighted sum; only the causal half is computed.
 */
export function causalAttentionPacked(qkv: Tensor, opts: AttentionOptions): Tensor {
  const d3 = qkv.lastDim;
  if (d3 % 3 !== 0) throw new Error(`causalAttentionPacked: last dim ${d3} is not 3·d`);
  const d = d3 / 3;
  return attentionImpl(qkv, qkv, qkv, 0, d, 2 * d, d3, d, opts, 'causalAttentionPacked');
}

/** Causal multi-head attention core on separate q, k, v [batch·len, d] → [batch·len, d]. */
export function causalAttention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions): Tensor {
  assertSameShape('causalAttention', q, k);
  assertSameShape('causalAttention', q, v);
  const d = q.lastDim;
  return attentionImpl(q, k, v, 0, 0, 0, d, d, opts, 'causalAttention');
}

function attentionImpl(
  q: Tensor, k: Tensor, v: Tensor, qOff: number, kOff: number, vOff: number, ldIn: number, d: number,
  opts: AttentionOptions, op: string,
): Tensor {
  const { batch, len, heads } = opts;
  if (q.rows !== batch * len) throw new Error(`${op}: ${q.rows} rows, expected batch·len = ${batch * len}`);
  if (d % heads !== 0) throw new Error(`${op}: ${heads} heads do not divide d = ${d}`);
  const headDim = d / heads;
  const p = opts.training === false || !opts.rng ? 0 : (opts.dropout ?? 0);
  const K = getKernels();
  const tape = getTape();
  const out = tape.output([batch * len, d], q, k, v);
  const pSize = batch * heads * len * len;
  const probs = tape.alloc(pSize);
  const dropped = p > 0 ? tape.alloc(pSize) : probs;
  const forward = (state: Uint32Array | null) =>
    K.causalAttentionForward(
      batch, len, heads, headDim, q.data, qOff, k.data, kOff, v.data, vOff, ldIn,
      p, state, probs, 0, dropped, 0, out.data, 0, d,
    );
  if (p > 0) withRngState(opts.rng!, forward);
  else forward(null);
  if (out.requiresGrad) {
    tape.record(() => {
      const dy = out.grad;
      if (!dy) return;
      // q, k, v may be one packed tensor (same buffer, different column offsets); inputs that need
      // no grad get a throw-away buffer
      const gq = q.requiresGrad ? tape.gradOf(q) : tape.zeros(q.size);
      const gk = k.requiresGrad ? tape.gradOf(k) : tape.zeros(k.size);
      const gv = v.requiresGrad ? tape.gradOf(v) : tape.zeros(v.size);
      K.causalAttentionBackward(
        batch, len, heads, headDim, q.data, qOff, k.data, kOff, v.data, vOff, ldIn,
        probs, 0, dropped, 0, dy, 0, d, gq, qOff, gk, kOff, gv, vOff, ldIn,
      );
    });
  }
  return out;
}

/**
 * The segment layout of packed rows for `packedCausalAttention` (built once per batch, e.g. by
 * `PackedBatch`): segment s is segLen[s] consecutive rows from row segStart[s], preceded by segPad[s]
 * virtual padding positions that all carry row padRow (−1 when no segment has padding).
 */
export interface PackedSegments {
  readonly segCount: number;
  readonly segStart: Int32Array;
  readonly segLen: Int32Array;
  readonly segPad: Int32Array;
  readonly padRow: number;
}

export interface PackedAttentionOptions {
  heads: number;
  /** attention-probability dropout (applied only when training and rng is given) */
  dropout?: number;
  rng?: Rng;
  training?: boolean;
}

/** The model width d and head size of a [rows, 3d] q | k | v projection split into `heads` heads; `op` names the errors. */
export function qkvHeads(op: string, qkv: Tensor, heads: number): { d: number; headDim: number } {
  const d3 = qkv.lastDim;
  if (d3 % 3 !== 0) throw new Error(`${op}: last dim ${d3} is not 3·d`);
  const d = d3 / 3;
  if (!Number.isInteger(heads) || heads < 1 || d % heads !== 0) throw new Error(`${op}: ${heads} heads do not divide d = ${d}`);
  return { d, headDim: d / heads };
}

/** The attention dropout rate in effect: 0 outside training or without an rng; checked to be in [0, 1). */
export function attentionDropout(op: string, opts: PackedAttentionOptions): number {
  const p = opts.training === false || !opts.rng ? 0 : (opts.dropout ?? 0);
  if (!(p >= 0 && p < 1)) throw new Error(`${op}: dropout must be in [0, 1), got ${p}`);
  return p;
}

/**
 * Causal multi-head attention on packed rows (q | k | v column blocks of one [rows, 3d] projection)
 * → [rows, d], skipping padding: each segment's query i attends to its keys 0..i plus, when the
 * segment has p > 0 padding positions, ONE padding key (row padRow) with score q·k_P/√hd + ln p, which
 * is exactly p identical padding keys (forward and gradient). Rows that belong to no segment get a
 * zero output. See Kernels.packedCausalAttentionForward for the exact semantics; with dropout the
 * padding key keeps a Binomial(p, 1 − dropout) share of its weight, as dropping each of the p copies would.
 */
export function packedCausalAttention(qkv: Tensor, seg: PackedSegments, opts: PackedAttentionOptions): Tensor {
  const op = 'packedCausalAttention';
  const { heads } = opts;
  const { d, headDim } = qkvHeads(op, qkv, heads);
  const d3 = 3 * d;
  const rows = qkv.rows;
  const { segCount, segStart, segLen, segPad, padRow } = seg;
  if (segStart.length < segCount || segLen.length < segCount || segPad.length < segCount) throw new Error(`${op}: segment arrays shorter than ${segCount}`);
  if (padRow !== -1 && !(Number.isInteger(padRow) && padRow >= 0 && padRow < rows)) throw new Error(`${op}: padRow ${padRow} out of range [0, ${rows})`);
  let tri = 0;
  for (let s = 0; s < segCount; s++) {
    const n = segLen[s];
    const r0 = segStart[s];
    if (n < 0 || r0 < 0 || r0 + n > rows) throw new Error(`${op}: segment ${s} (rows ${r0}..${r0 + n}) is out of range [0, ${rows})`);
    if (segPad[s] < 0 || (segPad[s] > 0 && padRow < 0)) throw new Error(`${op}: segment ${s} has ${segPad[s]} padding positions but padRow is ${padRow}`);
    tri += (n * (n + 3)) / 2;
  }
  const p = attentionDropout(op, opts);
  const K = getKernels();
  const tape = getTape();
  const out = tape.output([rows, d], qkv);
  // rows outside every segment (none in SASRec's layout) must not keep stale pool contents
  K.fill(rows * d, 0, out.data, 0);
  const pSize = heads * tri;
  const probs = tape.alloc(Math.max(1, pSize));
  const dropped = p > 0 ? tape.alloc(Math.max(1, pSize)) : probs;
  const forward = (state: Uint32Array | null) =>
    K.packedCausalAttentionForward(
      segCount, heads, headDim, segStart, segLen, segPad, padRow,
      qkv.data, 0, qkv.data, d, qkv.data, 2 * d, d3, p, state, probs, 0, dropped, 0, out.data, 0, d,
    );
  if (p > 0) withRngState(opts.rng!, forward);
  else forward(null);
  if (out.requiresGrad) {
    tape.record(() => {
      const dy = out.grad;
      if (!dy) return;
      const g = tape.gradOf(qkv);
      K.packedCausalAttentionBackward(
        segCount, heads, headDim, segStart, segLen, segPad, padRow,
        qkv.data, 0, qkv.data, d, qkv.data, 2 * d, d3, probs, 0, dropped, 0, dy, 0, d,
        g, 0, g, d, g, 2 * d, d3,
      );
    });
  }
  return out;
}

/** Σ_k a[..., k] · b[..., k] → shape a.shape[:-1] (e.g. logits = features · item embeddings). */
export function rowDot(a: Tensor, b: Tensor): Tensor {
  assertSameShape('rowDot', a, b);
  const dim = a.lastDim;
  const n = a.rows;
  const K = getKernels();
  const tape = getTape();
  const out = tape.output(a.shape.slice(0, -1), a, b);
  K.rowDot(n, dim, a.data, 0, b.data, 0, out.data, 0);
  if (out.requiresGrad) {
    tape.record(() => {
      const dy = out.grad;
      if (!dy) return;
      if (a.requiresGrad) K.rowScaleAcc(n, dim, dy, 0, b.data, 0, tape.gradOf(a), 0);
      if (b.requiresGrad) K.rowScaleAcc(n, dim, dy, 0, a.data, 0, tape.gradOf(b), 0);
    });
  }
  return out;
}

/**
 * y_r = scale · x_r / ‖x_r‖ for every row r (a zero row stays zero): the rows on a sphere of radius
 * `scale`, for cosine similarity with a temperature (scale = 1/τ on one side). Backward:
 * dx_r = (scale / ‖x_r‖) · (dy_r − x̂_r (x̂_r · dy_r)), x̂_r = x_r / ‖x_r‖.
 */
export function normalizeRows(x: Tensor, scale = 1): Tensor {
  const dim = x.lastDim;
  const n = x.rows;
  const tape = getTape();
  const out = tape.output(x.shape, x);
  const norms = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let ss = 0;
    for (let k = 0; k < dim; k++) ss += x.data[r * dim + k] ** 2;
    norms[r] = Math.sqrt(ss);
    const f = norms[r] > 0 ? scale / norms[r] : 0;
    for (let k = 0; k < dim; k++) out.data[r * dim + k] = f * x.data[r * dim + k];
  }
  if (out.requiresGrad) {
    tape.record(() => {
      const dy = out.grad;
      if (!dy) return;
      const dx = tape.gradOf(x);
      for (let r = 0; r < n; r++) {
        if (norms[r] === 0) continue;
        let dot = 0;
        for (let k = 0; k < dim; k++) dot += (x.data[r * dim + k] / norms[r]) * dy[r * dim + k];
        const f = scale / norms[r];
        for (let k = 0; k < dim; k++) dx[r * dim + k] += f * (dy[r * dim + k] - (x.data[r * dim + k] / norms[r]) * dot);
      }
    });
  }
  return out;
}

/**
 * Each row of x [..., d] projected into the L2 ball of radius maxNorm: x·min(1, maxNorm/‖x‖₂) (a row
 * inside the ball is unchanged; TransRec keeps its item points in the unit ball this way).
 */
export function clipRowNorms(x: Tensor, maxNorm = 1): Tensor {
  if (!(maxNorm > 0)) throw new Error(`clipRowNorms: maxNorm must be > 0, got ${maxNorm}`);
  const dim = x.lastDim;
  const n = x.rows;
  const K = getKernels();
  const tape = getTape();
  const out = tape.output(x.shape, x);
  K.rowNormClipForward(n, dim, maxNorm, x.data, 0, out.data, 0);
  if (out.requiresGrad) {
    tape.record(() => {
      if (out.grad) K.rowNormClipBackward(n, dim, maxNorm, x.data, 0, out.grad, 0, tape.gradOf(x), 0);
    });
  }
  return out;
}

/**
 * The SASRec training loss (bench.py): BCE-with-logits of positives (label 1) averaged over the
 * positions whose target id ≠ 0, plus the same for negatives at those positions → a scalar.
 * With no such position the loss is 0 (PyTorch would give NaN).
 */
export function bceWithLogitsMasked(pos: Tensor, neg: Tensor, target: Int32Array): Tensor {
  assertSameShape('bceWithLogitsMasked', pos, neg);
  const n = pos.size;
  if (target.length !== n) throw new Error(`bceWithLogitsMasked: ${target.length} targets for ${n} logits`);
  let count = 0;
  for (let i = 0; i < n; i++) if (target[i] !== 0) count++;
  const K = getKernels();
  const tape = getTape();
  const out = tape.output([], pos, neg);
  const inv = count > 0 ? 1 / count : 0;
  out.data[0] = K.bceLogitsMaskedSum(n, pos.data, 0, neg.data, 0, target, 0) * inv;
  if (out.requiresGrad) {
    tape.record(() => {
      const dy = out.grad;
      if (!dy || count === 0) return;
      // a gradient is needed for the op to run, so pos and neg both get buffers
      K.bceLogitsMaskedBackward(n, pos.data, 0, neg.data, 0, target, 0, dy[0] * inv, tape.gradOf(pos), 0, tape.gradOf(neg), 0);
    });
  }
  return out;
}

/** Σ w² → a scalar (the l2_emb regulariser). */
export function sumSquares(w: Tensor): Tensor {
  const K = getKernels();
  const tape = getTape();
  const out = tape.output([], w);
  out.data[0] = K.sumSquares(w.size, w.data, 0);
  if (out.requiresGrad) {
    tape.record(() => {
      if (out.grad) K.axpy(w.size, 2 * out.grad[0], w.data, 0, tape.gradOf(w), 0);
    });
  }
  return out;
}

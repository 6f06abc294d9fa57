/**
 * Differentiable ops of manifold-constrained hyper-connections (nn/mhc.ts). Same conventions as
 * ops.ts: coarse, one backward closure each, every numeric loop in a kernel.
 */
import { getKernels } from '../kernels/index.js';
import * as ops from './ops.js';
import { getTape } from './tape.js';
import { Parameter, Tensor, shapeStr } from './tensor.js';

/**
 * RMS normalisation of every `dim` consecutive values (default: the last dimension), no gain:
 * x / sqrt(mean(x²) + eps) → [size / dim, dim]. (A dim spanning several trailing dimensions spares a
 * reshape, whose backward would copy the whole gradient once more.)
 */
export function rmsNorm(x: Tensor, eps: number, dim = x.lastDim): Tensor {
  const rows = x.size / dim;
  if (!Number.isInteger(rows)) throw new Error(`rmsNorm: ${dim} does not divide ${shapeStr(x.shape)}`);
  const K = getKernels();
  const tape = getTape();
  const out = tape.output(dim === x.lastDim ? x.shape : [rows, dim], x);
  const rstd = tape.alloc(rows);
  K.rmsNormForward(rows, dim, x.data, 0, eps, out.data, 0, rstd, 0);
  if (out.requiresGrad) {
    tape.record(() => {
      if (out.grad) K.rmsNormBackward(rows, dim, x.data, 0, rstd, 0, out.grad, 0, tape.gradOf(x), 0);
    });
  }
  return out;
}

/**
 * x · W_kᵀ for several weights at once, the same as ops.linear(x, W_k, null) for each k, run as ONE GEMM
 * over the stacked weights (forward and both backward products): mHC's projections have few outputs
 * each (n, n, n²), and one wide GEMM runs about twice as fast as three narrow ones. The stacked
 * outputs are split into one tensor per weight (a copy of rows × Σ outputs floats).
 */
export function linearStacked(x: Tensor, weights: readonly Tensor[]): Tensor[] {
  const inF = x.lastDim;
  const rows = x.rows;
  const widths = weights.map((w) => w.shape[0]);
  weights.forEach((w, k) => {
    if (w.size !== widths[k] * inF) throw new Error(`linearStacked: weight ${shapeStr(w.shape)} does not map ${inF} inputs`);
  });
  const total = widths.reduce((a, b) => a + b, 0);
  const K = getKernels();
  const tape = getTape();
  const wAll = tape.alloc(total * inF);
  let o = 0;
  for (const w of weights) {
    wAll.set(w.data.subarray(0, w.size), o * inF);
    o += w.shape[0];
  }
  const yAll = tape.alloc(rows * total);
  K.gemm(false, true, rows, total, inF, 1, x.data, 0, inF, wAll, 0, inF, 0, yAll, 0, total);
  const outs = weights.map((w) => tape.output([...x.shape.slice(0, -1), w.shape[0]], x, w));
  let c0 = 0;
  outs.forEach((t, k) => {
    K.copyBlock(rows, widths[k], yAll, c0, total, t.data, 0, widths[k]);
    c0 += widths[k];
  });
  if (outs.some((t) => t.requiresGrad)) {
    tape.record(() => {
      if (!outs.some((t) => t.grad)) return;
      const dAll = tape.alloc(rows * total);
      let c = 0;
      outs.forEach((t, k) => {
        // a missing gradient (that output unused) gathers as zeros
        K.copyBlock(rows, widths[k], t.grad ?? tape.zeros(rows * widths[k]), 0, widths[k], dAll, c, total);
        c += widths[k];
      });
      if (x.requiresGrad) {
        // the first gradient of x (mHC's x̃ has no other consumer) is written, not added to zeros
        const first = x.grad === null && !(x instanceof Parameter);
        const dx = first ? tape.alloc(x.size) : tape.gradOf(x);
        if (first) x.grad = dx;
        K.gemm(false, false, rows, inF, total, 1, dAll, 0, total, wAll, 0, inF, first ? 0 : 1, dx, 0, inF);
      }
      if (!weights.some((w) => w.requiresGrad)) return;
      const dW = tape.alloc(total * inF);
      K.gemm(true, false, total, inF, rows, 1, dAll, 0, total, x.data, 0, inF, 0, dW, 0, inF);
      let off = 0;
      weights.forEach((w, k) => {
        if (w.requiresGrad) K.axpy(w.size, 1, dW, off * inF, tape.gradOf(w), 0);
        off += widths[k];
      });
    });
  }
  return outs;
}

/** alpha · p + b: alpha a one-element tensor (a gate), b [cols] broadcast over the rows of p. */
export function gateBias(p: Tensor, alpha: Tensor, b: Tensor): Tensor {
  const cols = p.lastDim;
  if (alpha.size !== 1) throw new Error(`gateBias: alpha must have one element, got ${shapeStr(alpha.shape)}`);
  if (b.size !== cols) throw new Error(`gateBias: bias ${shapeStr(b.shape)} does not match ${cols} columns`);
  const rows = p.rows;
  const K = getKernels();
  const tape = getTape();
  const out = tape.output(p.shape, p, alpha, b);
  const a = alpha.data[0];
  K.scale(p.size, a, p.data, 0, out.data, 0);
  K.addBias(rows, cols, b.data, 0, out.data, 0);
  if (out.requiresGrad) {
    tape.record(() => {
      const dy = out.grad;
      if (!dy) return;
      if (p.requiresGrad) K.axpy(p.size, a, dy, 0, tape.gradOf(p), 0);
      if (b.requiresGrad) K.colSumAcc(rows, cols, dy, 0, tape.gradOf(b), 0);
      if (alpha.requiresGrad) {
        const dot = tape.alloc(1);
        K.rowDot(1, p.size, dy, 0, p.data, 0, dot, 0);
        tape.gradOf(alpha)[0] += dot[0];
      }
    });
  }
  return out;
}

/** scale · sigmoid(x), element-wise. */
export function scaledSigmoid(x: Tensor, scale = 1): Tensor {
  const K = getKernels();
  const tape = getTape();
  const out = tape.output(x.shape, x);
  K.sigmoidForward(x.size, scale, x.data, 0, out.data, 0);
  if (out.requiresGrad) {
    tape.record(() => {
      if (out.grad) K.sigmoidBackward(x.size, scale, out.data, 0, out.grad, 0, tape.gradOf(x), 0);
    });
  }
  return out;
}

/**
 * Sinkhorn-Knopp projection of exp(logits) onto (approximately) doubly stochastic matrices:
 * logits [..., n, n] → same shape. The backward differentiates through every iteration (a fused
 * kernel that recomputes the iterates; nothing but the logits is kept).
 */
export function sinkhorn(logits: Tensor, iters: number): Tensor {
  const n = logits.lastDim;
  if (logits.shape.length < 2 || logits.shape[logits.shape.length - 2] !== n) throw new Error(`sinkhorn: expected [..., n, n], got ${shapeStr(logits.shape)}`);
  if (!(Number.isInteger(iters) && iters >= 1)) throw new Error(`sinkhorn: iterations must be a positive integer, got ${iters}`);
  const rows = logits.size / (n * n);
  const K = getKernels();
  const tape = getTape();
  const out = tape.output(logits.shape, logits);
  K.sinkhornForward(rows, n, iters, logits.data, 0, out.data, 0);
  if (out.requiresGrad) {
    tape.record(() => {
      if (out.grad) K.sinkhornBackward(rows, n, iters, logits.data, 0, out.grad, 0, tape.gradOf(logits), 0);
    });
  }
  return out;
}

/** Σ_i w[r, i] · x[r, i, :]: streams x [rows, n, d], weights w [rows, n] → [rows, d]. */
export function streamWeightedSum(x: Tensor, w: Tensor): Tensor {
  if (x.shape.length !== 3) throw new Error(`streamWeightedSum: streams must be [rows, n, d], got ${shapeStr(x.shape)}`);
  const [rows, n, d] = x.shape;
  if (w.size !== rows * n) throw new Error(`streamWeightedSum: weights ${shapeStr(w.shape)} for streams ${shapeStr(x.shape)}`);
  const K = getKernels();
  const tape = getTape();
  const out = tape.output([rows, d], x, w);
  K.streamWeightedSum(rows, n, d, w.data, 0, x.data, 0, out.data, 0);
  if (out.requiresGrad) {
    tape.record(() => {
      const dy = out.grad;
      if (!dy) return;
      K.streamWeightedSumBackward(
        rows, n, d, w.data, 0, x.data, 0, dy, 0,
        w.requiresGrad ? tape.gradOf(w) : null, 0, x.requiresGrad ? tape.gradOf(x) : null, 0,
      );
    });
  }
  return out;
}

/** hRes · x + hPostᵀ · y per row: x [rows, n, d], hRes [rows, n, n], hPost [rows, n], y [rows, d] → [rows, n, d]. */
export function streamMix(x: Tensor, hRes: Tensor, hPost: Tensor, y: Tensor): Tensor {
  if (x.shape.length !== 3) throw new Error(`streamMix: streams must be [rows, n, d], got ${shapeStr(x.shape)}`);
  const [rows, n, d] = x.shape;
  if (hRes.size !== rows * n * n || hPost.size !== rows * n || y.size !== rows * d) {
    throw new Error(`streamMix: hRes ${shapeStr(hRes.shape)}, hPost ${shapeStr(hPost.shape)}, y ${shapeStr(y.shape)} do not fit ${shapeStr(x.shape)}`);
  }
  const K = getKernels();
  const tape = getTape();
  const out = tape.output(x.shape, x, hRes, hPost, y);
  K.streamMixForward(rows, n, d, hRes.data, 0, x.data, 0, hPost.data, 0, y.data, 0, out.data, 0);
  if (out.requiresGrad) {
    tape.record(() => {
      const dy = out.grad;
      if (!dy) return;
      K.streamMixBackward(
        rows, n, d, hRes.data, 0, x.data, 0, hPost.data, 0, y.data, 0, dy, 0,
        hRes.requiresGrad ? tape.gradOf(hRes) : null, 0, x.requiresGrad ? tape.gradOf(x) : null, 0,
        hPost.requiresGrad ? tape.gradOf(hPost) : null, 0, y.requiresGrad ? tape.gradOf(y) : null, 0,
      );
    });
  }
  return out;
}

/** n copies of every row: x [rows, d] → [rows, n, d] (the backward sums the copies). */
export function expandStreams(x: Tensor, n: number): Tensor {
  const rows = x.rows;
  const d = x.lastDim;
  const idx = new Int32Array(rows * n);
  for (let r = 0; r < rows; r++) idx.fill(r, r * n, r * n + n);
  return ops.embedding(ops.reshape(x, [rows, d]), idx, { shape: [rows, n] });
}

/** The mean of the streams: x [rows, n, d] → [rows, d]. */
export function meanStreams(x: Tensor): Tensor {
  const [rows, n] = x.shape;
  const w = getTape().alloc(rows * n);
  getKernels().fill(rows * n, 1 / n, w, 0);
  return streamWeightedSum(x, new Tensor(w, [rows, n]));
}

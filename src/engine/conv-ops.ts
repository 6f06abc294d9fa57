/**
 * Differentiable ops of the convolutional sequence embedding (Caser, models/caser/): the vertical
 * convolution of an L × d "image", max-pooling over time, and joining feature blocks side by side.
 * (Caser's horizontal convolutions need no op of their own: a filter of height h over the image is
 * ops.linear over the h·d-wide rows of the gathered h-item patches.) Same conventions as ops.ts:
 * coarse, one backward closure each, every numeric loop in a kernel.
 */
import { getKernels } from '../kernels/index.js';
import { gemmBatched } from '../kernels/wasm/batched.js';
import { getTape } from './tape.js';
import { type Tensor, shapeStr } from './tensor.js';

/**
 * Vertical convolution: x holds `batch` images of `len` rows × d columns ([batch·len, d], row-major);
 * each filter k of w (n × len values, e.g. a Conv2d weight [n, 1, len, 1]) is a weighted sum of an
 * image's rows, + bias[k]: out[b, k, :] = Σ_l w[k, l] · x[b, l, :] + bias[k] → [batch, n·d] (row b
 * holds filter 0's d values, then filter 1's, …: PyTorch's Conv2d output [batch, n, 1, d] flattened).
 * Per image one GEMM, w [n × len] · x_b [len × d], all in one batched call (so as fast as the backend's
 * GEMM); the bias is a rank-1 product bias ⊗ 1 written first.
 */
export function verticalConv(x: Tensor, w: Tensor, bias: Tensor | null, len: number): Tensor {
  const d = x.lastDim;
  const n = w.shape[0];
  const batch = x.size / (len * d);
  if (!Number.isInteger(batch)) throw new Error(`verticalConv: ${shapeStr(x.shape)} is not a whole number of ${len} × ${d} images`);
  if (w.size !== n * len) throw new Error(`verticalConv: weight ${shapeStr(w.shape)} is not ${n} filters of ${len}`);
  if (bias && bias.size !== n) throw new Error(`verticalConv: bias ${shapeStr(bias.shape)} does not match ${n} filters`);
  const K = getKernels();
  const tape = getTape();
  const out = tape.output([batch, n * d], x, w, bias);
  const ones = tape.alloc(d);
  K.fill(d, 1, ones, 0);
  // out_b (n × d) = bias (n × 1) · 1 (1 × d), then += w (n × len) · x_b (len × d)
  if (bias) gemmBatched(K, false, false, n, d, 1, 1, bias.data, 0, 1, ones, 0, d, 0, out.data, 0, d, batch, 0, 0, n * d);
  gemmBatched(K, false, false, n, d, len, 1, w.data, 0, len, x.data, 0, d, bias ? 1 : 0, out.data, 0, d, batch, 0, len * d, n * d);
  if (out.requiresGrad) {
    tape.record(() => {
      const dy = out.grad;
      if (!dy) return;
      // dx_b (len × d) += wᵀ (len × n) · dy_b (n × d)
      if (x.requiresGrad) gemmBatched(K, true, false, len, d, n, 1, w.data, 0, len, dy, 0, d, 1, tape.gradOf(x), 0, d, batch, 0, n * d, len * d);
      if (w.requiresGrad) {
        // dw += Σ_b dy_b (n × d) · x_bᵀ (d × len): the per-image products, then their sum
        const per = tape.alloc(batch * n * len);
        gemmBatched(K, false, true, n, len, d, 1, dy, 0, d, x.data, 0, d, 0, per, 0, len, batch, n * d, len * d, n * len);
        K.colSumAcc(batch, n * len, per, 0, tape.gradOf(w), 0);
      }
      if (bias?.requiresGrad) {
        // dbias[k] += Σ_b Σ_c dy[b, k, c]
        const sums = tape.alloc(batch * n);
        K.gemm(false, false, batch * n, 1, d, 1, dy, 0, d, ones, 0, 1, 0, sums, 0, 1);
        K.colSumAcc(batch, n, sums, 0, tape.gradOf(bias), 0);
      }
    });
  }
  return out;
}

/**
 * Max-pooling over time: x [groups·len, n] holds `groups` blocks of `len` rows; out[g, c] = the
 * maximum of column c over block g's rows → [groups, n]. The gradient goes to the row that attains the
 * maximum (the first one on a tie), as PyTorch's max_pool1d.
 */
export function maxOverTime(x: Tensor, groups: number): Tensor {
  const n = x.lastDim;
  const len = x.rows / groups;
  if (!Number.isInteger(len) || len < 1) throw new Error(`maxOverTime: ${x.rows} rows are not ${groups} groups of ≥ 1 rows`);
  const K = getKernels();
  const tape = getTape();
  const out = tape.output([groups, n], x);
  const argmax = new Int32Array(groups * n);
  K.maxPoolRowsForward(groups, len, n, x.data, 0, out.data, 0, argmax, 0);
  if (out.requiresGrad) {
    tape.record(() => {
      if (out.grad) K.maxPoolRowsBackward(groups, len, n, out.grad, 0, argmax, 0, tape.gradOf(x), 0);
    });
  }
  return out;
}

/** The parts' columns side by side: each part [rows, w_i] → [rows, Σ w_i] (torch.cat along dim 1). */
export function concatColumns(parts: readonly Tensor[]): Tensor {
  if (parts.length === 0) throw new Error('concatColumns: no parts');
  const rows = parts[0].rows;
  for (const p of parts) if (p.rows !== rows) throw new Error(`concatColumns: ${shapeStr(p.shape)} has ${p.rows} rows, not ${rows}`);
  const widths = parts.map((p) => p.lastDim);
  const total = widths.reduce((a, b) => a + b, 0);
  const K = getKernels();
  const tape = getTape();
  const out = tape.output([rows, total], ...parts);
  let c0 = 0;
  parts.forEach((p, i) => {
    K.copyBlock(rows, widths[i], p.data, 0, widths[i], out.data, c0, total);
    c0 += widths[i];
  });
  if (out.requiresGrad) {
    tape.record(() => {
      const dy = out.grad;
      if (!dy) return;
      let c = 0;
      parts.forEach((p, i) => {
        const w = widths[i];
        if (p.requiresGrad) {
          const block = tape.alloc(rows * w);
          K.copyBlock(rows, w, dy, c, total, block, 0, w);
          K.axpy(rows * w, 1, block, 0, tape.gradOf(p), 0);
        }
        c += w;
      });
    });
  }
  return out;
}

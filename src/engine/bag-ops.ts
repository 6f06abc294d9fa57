/**
 * Weighted bags of rows: out[m] = Σ_{x ∈ bag m} val[x] · table[idx[x]], the sum of a sparse row's
 * features' vectors (a factorisation machine's Σ_f x_f v_f, an EmbeddingBag with per-sample weights).
 * Same conventions as ops.ts: one backward closure, which scatters out's gradient back into the rows.
 */
import { getTape } from './tape.js';
import { type Tensor, shapeStr } from './tensor.js';

/** Sparse rows in CSR: bag m is entries ptr[m] .. ptr[m + 1] − 1 of idx (rows of the table) and val (weights). */
export interface Bags {
  readonly ptr: Int32Array;
  readonly idx: Int32Array;
  readonly val: Float32Array;
}

/** [bags, k] from a table [n, k] (or [n] as [n, 1]). */
export function bagSum(table: Tensor, bags: Bags): Tensor {
  const n = table.shape[0];
  const k = table.shape.length === 2 ? table.shape[1] : table.shape.length === 1 ? 1 : -1;
  if (k < 1) throw new Error(`bagSum: table must be 1-D or 2-D, got ${shapeStr(table.shape)}`);
  const M = bags.ptr.length - 1;
  if (M < 0 || bags.ptr[M] > bags.idx.length || bags.idx.length !== bags.val.length) throw new Error('bagSum: inconsistent bags');
  for (let x = 0; x < bags.ptr[M]; x++) {
    if (bags.idx[x] < 0 || bags.idx[x] >= n) throw new Error(`bagSum: row ${bags.idx[x]} out of range [0, ${n})`);
  }
  const tape = getTape();
  const out = tape.output([M, k], table);
  const w = table.data;
  const o = out.data;
  o.fill(0);
  for (let m = 0; m < M; m++) {
    for (let x = bags.ptr[m]; x < bags.ptr[m + 1]; x++) {
      const a = bags.val[x];
      const r = bags.idx[x] * k;
      for (let j = 0; j < k; j++) o[m * k + j] += a * w[r + j];
    }
  }
  if (out.requiresGrad) {
    tape.record(() => {
      if (!out.grad) return;
      const gw = tape.gradOf(table);
      const g = out.grad;
      for (let m = 0; m < M; m++) {
        for (let x = bags.ptr[m]; x < bags.ptr[m + 1]; x++) {
          const a = bags.val[x];
          const r = bags.idx[x] * k;
          for (let j = 0; j < k; j++) gw[r + j] += a * g[m * k + j];
        }
      }
    });
  }
  return out;
}

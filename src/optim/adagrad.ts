/**
 * Adagrad with momentum, as GRU4Rec's authors train it (github.com/hidasib/GRU4Rec, `adapt='adagrad'`):
 *
 *   G ← G + g²,   v ← μ·v − lr · g / √(G + ε),   θ ← θ + v        (ε 1e-6)
 *
 * Their item tables take sparse updates: only the rows of the items in the mini-batch move, and only
 * those rows' G and v change. Here every parameter is read as rows of its last dimension and a row
 * whose gradient is all zero is left as it is (weights, G and v), which is exactly that for the item
 * tables and plain dense Adagrad for the other weights (no row of theirs has an all-zero gradient in
 * practice). With μ = 0 the row rule changes nothing: a zero gradient leaves G and θ as they are.
 */
import type { Parameter } from '../engine/tensor.js';
import { BufferedOptimizer } from './optimizer.js';

export interface AdagradOptions {
  lr?: number;
  /** μ (0: none) */
  momentum?: number;
  eps?: number;
}

export class Adagrad extends BufferedOptimizer {
  readonly momentum: number;
  readonly eps: number;

  constructor(params: ReadonlyArray<Parameter> | ReadonlyArray<readonly [string, Parameter]>, opts: AdagradOptions = {}) {
    super('Adagrad', params, opts.lr ?? 0.01, ['sum', 'momentum_buffer']);
    this.momentum = opts.momentum ?? 0;
    this.eps = opts.eps ?? 1e-6;
  }

  step(): void {
    this.stepCount++;
    const { lr, momentum: mu, eps } = this;
    this.params.forEach((p, i) => {
      const g = p.grad;
      if (!g) return;
      const w = p.data;
      const G = this.buffers.sum[i];
      const v = this.buffers.momentum_buffer[i];
      const cols = p.shape.length > 0 ? p.shape[p.shape.length - 1] : 1;
      for (let r = 0; r < p.size; r += cols) {
        const end = r + cols;
        let touched = false;
        for (let j = r; j < end; j++) {
          if (g[j] !== 0) {
            touched = true;
            break;
          }
        }
        if (!touched) continue;
        for (let j = r; j < end; j++) {
          const gj = g[j];
          G[j] += gj * gj;
          v[j] = mu * v[j] - (lr * gj) / Math.sqrt(G[j] + eps);
          w[j] += v[j];
        }
      }
    });
  }
}

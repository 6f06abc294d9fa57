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
import { getKernels, releaseBuffer } from '../kernels/index.js';
import type { Parameter } from '../engine/tensor.js';
import { namedParams, type Optimizer, type OptimizerState, restoreBuffers } from './optimizer.js';

export interface AdagradOptions {
  lr?: number;
  /** μ (0: none) */
  momentum?: number;
  eps?: number;
}

export class Adagrad implements Optimizer {
  lr: number;
  readonly momentum: number;
  readonly eps: number;
  stepCount = 0;
  readonly params: Parameter[];
  readonly names: string[];
  readonly bufferNames = ['sum', 'momentum_buffer'] as const;
  private readonly sum: Float32Array[];
  private readonly velocity: Float32Array[];

  constructor(params: ReadonlyArray<Parameter> | ReadonlyArray<readonly [string, Parameter]>, opts: AdagradOptions = {}) {
    this.lr = opts.lr ?? 0.01;
    this.momentum = opts.momentum ?? 0;
    this.eps = opts.eps ?? 1e-6;
    const named = namedParams(params);
    this.params = named.map(([, p]) => p);
    this.names = named.map(([n]) => n);
    const k = getKernels();
    const zeros = (n: number): Float32Array => {
      const a = k.alloc(n);
      k.fill(n, 0, a, 0);
      return a;
    };
    this.sum = this.params.map((p) => zeros(p.size));
    this.velocity = this.params.map((p) => zeros(p.size));
  }

  step(): void {
    this.stepCount++;
    const { lr, momentum: mu, eps } = this;
    this.params.forEach((p, i) => {
      const g = p.grad;
      if (!g) return;
      const w = p.data;
      const G = this.sum[i];
      const v = this.velocity[i];
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

  zeroGrad(): void {
    const k = getKernels();
    for (const p of this.params) if (p.grad) k.fill(p.size, 0, p.grad, 0);
  }

  getState(): OptimizerState {
    return { step: this.stepCount, names: [...this.names], buffers: { sum: this.sum, momentum_buffer: this.velocity } };
  }

  setState(state: OptimizerState): void {
    restoreBuffers('Adagrad', this.names, { sum: this.sum, momentum_buffer: this.velocity }, state);
    this.stepCount = state.step;
  }

  dispose(): void {
    for (const a of [...this.sum, ...this.velocity]) releaseBuffer(a);
    this.sum.length = 0;
    this.velocity.length = 0;
  }
}

/**
 * Adam with torch.optim.Adam semantics (weight_decay 0, amsgrad off): per-parameter first and second
 * moments, bias corrections, eps added after sqrt(v̂). Defaults are the SASRec reference trainer's
 * (lr 0.001, betas (0.9, 0.98), eps 1e-8).
 */
import { getKernels, releaseBuffer } from '../kernels/index.js';
import type { Parameter } from '../engine/tensor.js';
import { namedParams, type Optimizer, type OptimizerState, restoreBuffers } from './optimizer.js';

export interface AdamOptions {
  lr?: number;
  betas?: readonly [number, number];
  eps?: number;
}

export class Adam implements Optimizer {
  /** learning rate; a schedule may change it between steps */
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  /** number of step() calls so far (PyTorch's state['step']) */
  stepCount = 0;
  readonly params: Parameter[];
  readonly names: string[];
  readonly bufferNames = ['exp_avg', 'exp_avg_sq'] as const;
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];

  /** params: a list, or [name, parameter] pairs (e.g. model.namedParameters()) to name the state. */
  constructor(params: ReadonlyArray<Parameter> | ReadonlyArray<readonly [string, Parameter]>, opts: AdamOptions = {}) {
    this.lr = opts.lr ?? 0.001;
    [this.beta1, this.beta2] = opts.betas ?? [0.9, 0.98];
    this.eps = opts.eps ?? 1e-8;
    const named = namedParams(params);
    this.params = named.map(([, p]) => p);
    this.names = named.map(([n]) => n);
    const k = getKernels();
    const zeros = (n: number): Float32Array => {
      const a = k.alloc(n);
      k.fill(n, 0, a, 0);
      return a;
    };
    this.m = this.params.map((p) => zeros(p.size));
    this.v = this.params.map((p) => zeros(p.size));
  }

  /** Hands the moment buffers back to the kernel backend; the optimizer must not step afterwards. */
  dispose(): void {
    for (const a of [...this.m, ...this.v]) releaseBuffer(a);
    this.m.length = 0;
    this.v.length = 0;
  }

  /** One update of every parameter that has a gradient. */
  step(): void {
    const k = getKernels();
    this.stepCount++;
    const bc1 = 1 - this.beta1 ** this.stepCount;
    const bc2 = 1 - this.beta2 ** this.stepCount;
    this.params.forEach((p, i) => {
      if (!p.grad) return;
      k.adamStep(p.size, p.data, 0, p.grad, 0, this.m[i], 0, this.v[i], 0, this.lr, this.beta1, this.beta2, this.eps, bc1, bc2);
    });
  }

  zeroGrad(): void {
    const k = getKernels();
    for (const p of this.params) if (p.grad) k.fill(p.size, 0, p.grad, 0);
  }

  /** The state (live buffers, not copies: copy before mutating). */
  getState(): OptimizerState {
    return { step: this.stepCount, names: [...this.names], buffers: { exp_avg: this.m, exp_avg_sq: this.v } };
  }

  /** Restores a state saved by getState() (matched by name, sizes checked). */
  setState(state: OptimizerState): void {
    restoreBuffers('Adam', this.names, { exp_avg: this.m, exp_avg_sq: this.v }, state);
    this.stepCount = state.step;
  }
}

/**
 * Adam with torch.optim.Adam semantics (weight_decay 0, amsgrad off): per-parameter first and second
 * moments, bias corrections, eps added after sqrt(v̂). Defaults are the SASRec reference trainer's
 * (lr 0.001, betas (0.9, 0.98), eps 1e-8).
 */
import { getKernels } from '../kernels/index.js';
import type { Parameter } from '../engine/tensor.js';
import { BufferedOptimizer } from './optimizer.js';

export interface AdamOptions {
  lr?: number;
  betas?: readonly [number, number];
  eps?: number;
}

export class Adam extends BufferedOptimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;

  /** params: a list, or [name, parameter] pairs (e.g. model.namedParameters()) to name the state. */
  constructor(params: ReadonlyArray<Parameter> | ReadonlyArray<readonly [string, Parameter]>, opts: AdamOptions = {}) {
    super('Adam', params, opts.lr ?? 0.001, ['exp_avg', 'exp_avg_sq']);
    [this.beta1, this.beta2] = opts.betas ?? [0.9, 0.98];
    this.eps = opts.eps ?? 1e-8;
  }

  /** One update of every parameter that has a gradient (stepCount is PyTorch's state['step']). */
  step(): void {
    const k = getKernels();
    this.stepCount++;
    const bc1 = 1 - this.beta1 ** this.stepCount;
    const bc2 = 1 - this.beta2 ** this.stepCount;
    const m = this.buffers.exp_avg;
    const v = this.buffers.exp_avg_sq;
    this.params.forEach((p, i) => {
      if (!p.grad) return;
      k.adamStep(p.size, p.data, 0, p.grad, 0, m[i], 0, v[i], 0, this.lr, this.beta1, this.beta2, this.eps, bc1, bc2);
    });
  }
}

/** The optimiser a run's options name, over a network's parameters. */
import type { Parameter } from '../engine/tensor.js';
import { Adagrad } from '../optim/adagrad.js';
import { Adam } from '../optim/adam.js';
import type { Optimizer } from '../optim/optimizer.js';

/** The reference's Adam settings (SASRec.pytorch main.py); the learning rate is an option. */
export const ADAM_BETAS: readonly [number, number] = [0.9, 0.98];
export const ADAM_EPS = 1e-8;

export function makeOptimizer(
  params: ReadonlyArray<readonly [string, Parameter]>,
  o: { readonly optimizer: 'adam' | 'adagrad'; readonly lr: number; readonly momentum: number },
): Optimizer {
  return o.optimizer === 'adagrad'
    ? new Adagrad(params, { lr: o.lr, momentum: o.momentum })
    : new Adam(params, { lr: o.lr, betas: [...ADAM_BETAS], eps: ADAM_EPS });
}

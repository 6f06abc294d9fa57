import type { Tensor } from '../engine/tensor.js';
import type { Embedding } from '../nn/layers.js';

/**
 * What a next-item model hands its loss: its output features at the positions that are trained on,
 * and the targets there. Rows whose positive is 0 (padding) carry no target.
 */
export interface NextItemTargets {
  /** [M, d]: the model's features, one row per position */
  readonly features: Tensor;
  /** [M]: the next item at each row (0: no target) */
  readonly pos: Int32Array;
  /** [M]: the sampled negative item at each row (0 where pos is 0) */
  readonly neg: Int32Array;
}

/**
 * A training objective for next-item prediction: scores the targets with the output item embedding
 * (logit = feature · item_emb(item)) and reduces them to one scalar loss on the tape.
 */
export interface NextItemLoss {
  /** the --loss name */
  readonly name: string;
  compute(targets: NextItemTargets, itemEmb: Embedding): Tensor;
}

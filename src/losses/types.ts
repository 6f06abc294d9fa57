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
  /** the sampled negatives: [M·K], K per row (0 where pos is 0), or [K] for every row when shared */
  readonly neg: Int32Array;
}

/** How a loss wants its negatives drawn (the sampler's options). */
export interface NegativeSampling {
  /** K per position (0: none) */
  readonly negatives: number;
  /** one list of K for the whole batch instead */
  readonly sharedNegatives: boolean;
}

/**
 * A training objective for next-item prediction: scores the targets with the output item embedding
 * (logit = feature · item_emb(item), + a per-item bias where the model has one) and reduces them to
 * one scalar loss on the tape.
 */
export interface NextItemLoss extends NegativeSampling {
  /** the --loss name */
  readonly name: string;
  /**
   * The loss of the targets. The candidate items are 1..items: every row of itemEmb but the padding
   * row 0 unless `items` says fewer (a model whose embedding has more rows, e.g. BERT4Rec's mask token).
   */
  compute(targets: NextItemTargets, itemEmb: Embedding, bias?: Tensor, items?: number): Tensor;
}

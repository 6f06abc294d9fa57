import * as ops from '../engine/ops.js';
import { softplusSum } from '../engine/loss-ops.js';
import { negativeScores, positiveScores, realTargets } from './targets.js';
import type { NextItemLoss } from './types.js';

/**
 * Binary cross-entropy with one sampled negative per position (the SASRec paper's loss, as the
 * reference computes it): mean over the positions with a target of
 * −log σ(F·e_pos) − log(1 − σ(F·e_neg)).
 */
export const bceLoss: NextItemLoss = {
  name: 'bce',
  negatives: 1,
  sharedNegatives: false,
  compute({ features, pos, neg }, itemEmb, bias) {
    if (bias) return bceK(1).compute({ features, pos, neg }, itemEmb, bias);
    const posLogits = ops.rowDot(features, itemEmb.forward(pos));
    const negLogits = ops.rowDot(features, itemEmb.forward(neg));
    return ops.bceWithLogitsMasked(posLogits, negLogits, pos);
  },
};

/**
 * Binary cross-entropy with K sampled negatives per position: the mean over the positions of
 * −log σ(s⁺), plus the mean over all M·K negatives of −log(1 − σ(s⁻)) (for K = 1, the paper's).
 */
export function bceK(K: number): NextItemLoss {
  return {
    name: 'bce_k',
    negatives: K,
    sharedNegatives: false,
    compute(targets, itemEmb, bias) {
      const t = realTargets(targets, K, false);
      const M = t.pos.length;
      if (M === 0) return ops.scale(ops.sumSquares(t.features), 0);
      const positives = softplusSum(positiveScores(t, itemEmb, bias), -1, 1 / M);
      const negatives = softplusSum(negativeScores(t, itemEmb, K, false, bias), 1, 1 / (M * K));
      return ops.add(positives, negatives);
    },
  };
}

import * as ops from '../engine/ops.js';
import { softplusSum } from '../engine/loss-ops.js';
import { negativeScores, positiveScores, realTargets } from './targets.js';
import type { NextItemLoss } from './types.js';

/**
 * gBCE (Petrov & Macdonald, gSASRec, RecSys 2023): BCE with K negatives whose positive probability is
 * raised to the power β, which undoes the overconfidence that sampling negatives causes:
 *   α = K / (N − 1) (the sampling rate over the N − 1 other items), β = α·(t·(1 − 1/α) + 1/α),
 *   loss = mean over positions of [−β·log σ(s⁺) − Σ_k log(1 − σ(s⁻_k))] / (K + 1)
 * (the gSASRec code's mean over the K + 1 logits of each position). t = 0 gives plain BCE with K
 * negatives (β = 1), t = 1 gives β = α.
 */
export function gbce(K: number, t: number, itemNum: number): NextItemLoss {
  const alpha = K / Math.max(1, itemNum - 1);
  const beta = alpha * (t * (1 - 1 / alpha) + 1 / alpha);
  return {
    name: 'gbce',
    negatives: K,
    sharedNegatives: false,
    compute(targets, itemEmb, bias) {
      const tg = realTargets(targets, K, false);
      const M = tg.pos.length;
      if (M === 0) return ops.scale(ops.sumSquares(tg.features), 0);
      const w = 1 / (M * (K + 1));
      const positives = softplusSum(positiveScores(tg, itemEmb, bias), -1, beta * w);
      const negatives = softplusSum(negativeScores(tg, itemEmb, K, false, bias), 1, w);
      return ops.add(positives, negatives);
    },
  };
}

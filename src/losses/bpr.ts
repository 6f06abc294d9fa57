import * as ops from '../engine/ops.js';
import { bprLoss } from '../engine/loss-ops.js';
import { negativeScores, positiveScores, realTargets } from './targets.js';
import type { NextItemLoss } from './types.js';

/** BPR (Rendle et al., 2009): −log σ(s⁺ − s⁻), mean over every (position, sampled negative) pair. */
export function bpr(K: number): NextItemLoss {
  return {
    name: 'bpr',
    negatives: K,
    sharedNegatives: false,
    compute(targets, itemEmb, bias) {
      const t = realTargets(targets, K, false);
      const M = t.pos.length;
      if (M === 0) return ops.scale(ops.sumSquares(t.features), 0);
      return bprLoss(positiveScores(t, itemEmb, bias), negativeScores(t, itemEmb, K, false, bias), 1 / (M * K));
    },
  };
}

import * as ops from '../engine/ops.js';
import { sampledSoftmaxLoss } from '../engine/loss-ops.js';
import { negativeScores, positiveScores, realTargets } from './targets.js';
import type { NextItemLoss } from './types.js';

/**
 * Sampled softmax: the cross-entropy of each position's positive against K sampled items, mean over
 * the positions. Negatives are drawn uniformly (outside the user's train items per position, or once
 * for the whole batch when shared, a shared item equal to a row's positive then left out of that
 * row). The log-Q correction subtracts log(K·Q(i)) from every logit, positive included; with uniform
 * Q = 1/N it is the same constant for every logit and cancels in the softmax, so none is applied.
 */
export function sampledSoftmax(K: number, shared: boolean): NextItemLoss {
  return {
    name: 'sampled_softmax',
    negatives: K,
    sharedNegatives: shared,
    compute(targets, itemEmb, bias) {
      const t = realTargets(targets, K, shared);
      const M = t.pos.length;
      if (M === 0) return ops.scale(ops.sumSquares(t.features), 0);
      let skip: Uint8Array | null = null;
      if (shared) {
        for (let m = 0; m < M; m++) {
          for (let k = 0; k < K; k++) {
            if (t.neg[k] !== t.pos[m]) continue;
            skip ??= new Uint8Array(M * K);
            skip[m * K + k] = 1;
          }
        }
      }
      return sampledSoftmaxLoss(positiveScores(t, itemEmb, bias), negativeScores(t, itemEmb, K, shared, bias), skip, 1 / M);
    },
  };
}

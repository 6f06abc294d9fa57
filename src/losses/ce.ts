import * as ops from '../engine/ops.js';
import { fullSoftmaxCrossEntropy } from '../engine/loss-ops.js';
import { realTargets } from './targets.js';
import type { NextItemLoss } from './types.js';

/**
 * Full softmax cross-entropy over the whole catalogue (SASRec+, Klenitskiy & Vasilev, RecSys 2023;
 * BERT4Rec's loss): −log softmax(F·Eᵀ + b)[pos], mean over the positions with a target. The padding
 * item 0 takes no part in the softmax (published SASRec+ code keeps its all-zero row, one constant
 * term). Computed over item chunks (engine/loss-ops.ts), never [positions × items] at once.
 */
export const ceLoss: NextItemLoss = {
  name: 'ce',
  negatives: 0,
  sharedNegatives: false,
  compute(targets, itemEmb, bias, items) {
    const t = realTargets(targets, 0, false);
    if (t.pos.length === 0) return ops.scale(ops.sumSquares(t.features), 0);
    return fullSoftmaxCrossEntropy(t.features, itemEmb.weight, t.pos, bias ?? null, undefined, items);
  },
};

import * as ops from '../engine/ops.js';
import type { NextItemLoss } from './types.js';

/**
 * Binary cross-entropy with one sampled negative per position (the SASRec paper's loss, as the
 * reference computes it): mean over the positions with a target of
 * −log σ(F·e_pos) − log(1 − σ(F·e_neg)).
 */
export const bceLoss: NextItemLoss = {
  name: 'bce',
  compute({ features, pos, neg }, itemEmb) {
    const posLogits = ops.rowDot(features, itemEmb.forward(pos));
    const negLogits = ops.rowDot(features, itemEmb.forward(neg));
    return ops.bceWithLogitsMasked(posLogits, negLogits, pos);
  },
};

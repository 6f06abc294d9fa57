/** What the losses share: the rows that have a target, and the scores of their items. */
import * as ops from '../engine/ops.js';
import { gatheredRowDot } from '../engine/loss-ops.js';
import type { Tensor } from '../engine/tensor.js';
import type { Embedding } from '../nn/layers.js';
import type { NextItemTargets } from './types.js';

/**
 * The targets with the rows whose positive is 0 left out (the dense path scores every position; the
 * packed path hands only rows with a target, which pass through untouched).
 */
export function realTargets(t: NextItemTargets, K: number, shared: boolean): NextItemTargets {
  const M = t.pos.length;
  let real = 0;
  for (let m = 0; m < M; m++) if (t.pos[m] !== 0) real++;
  if (real === M) return t;
  const rows = new Int32Array(real);
  const pos = new Int32Array(real);
  const neg = shared ? t.neg : new Int32Array(real * K);
  let r = 0;
  for (let m = 0; m < M; m++) {
    if (t.pos[m] === 0) continue;
    rows[r] = m;
    pos[r] = t.pos[m];
    if (!shared) neg.set(t.neg.subarray(m * K, (m + 1) * K), r * K);
    r++;
  }
  return { features: ops.embedding(t.features, rows), pos, neg };
}

/** bias[ids] as a tensor of `shape` (bias is [items]). */
function gatherBias(bias: Tensor, ids: Int32Array, shape: readonly number[]): Tensor {
  return ops.reshape(ops.embedding(ops.reshape(bias, [bias.size, 1]), ids), shape);
}

/** [M]: the logit of each row's positive, features · item_emb(pos) (+ bias[pos]). */
export function positiveScores(t: NextItemTargets, itemEmb: Embedding, bias?: Tensor): Tensor {
  const s = ops.rowDot(t.features, itemEmb.forward(t.pos));
  return bias ? ops.add(s, gatherBias(bias, t.pos, [t.pos.length])) : s;
}

/** [M, K]: the logits of each row's K negatives, its own or the batch's shared ones (+ their bias). */
export function negativeScores(t: NextItemTargets, itemEmb: Embedding, K: number, shared: boolean, bias?: Tensor): Tensor {
  const M = t.pos.length;
  if (shared) return ops.linear(t.features, itemEmb.forward(t.neg), bias ? gatherBias(bias, t.neg, [K]) : null);
  const s = gatheredRowDot(t.features, itemEmb.weight, t.neg, K, itemEmb.paddingIdx ?? -1);
  return bias ? ops.add(s, gatherBias(bias, t.neg, [M, K])) : s;
}

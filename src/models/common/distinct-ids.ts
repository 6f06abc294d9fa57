/**
 * The distinct ids of a batch and the way back to its positions: a model computes what depends on an
 * id alone (a user's or an item's feature sum) once per distinct id, then gathers it for every
 * example (a batch of users' histories holds many examples per user and per item).
 */
import * as ops from '../../engine/ops.js';
import type { Tensor } from '../../engine/tensor.js';

export interface DistinctIds {
  /** the distinct ids, in the order of their first appearance */
  readonly ids: Int32Array;
  /** index[m]: the position in `ids` of the batch's m-th id */
  readonly index: Int32Array;
}

export function distinctIds(batch: Int32Array): DistinctIds {
  const slot = new Map<number, number>();
  const index = new Int32Array(batch.length);
  const order: number[] = [];
  for (let m = 0; m < batch.length; m++) {
    const id = batch[m];
    let k = slot.get(id);
    if (k === undefined) {
      k = order.length;
      slot.set(id, k);
      order.push(id);
    }
    index[m] = k;
  }
  return { ids: Int32Array.from(order), index };
}

/** The rows of `perId` ([distinct, d], or [distinct] for scalars) at each position of the batch. */
export function gatherBack(perId: Tensor, { index }: DistinctIds): Tensor {
  if (perId.shape.length === 1) return ops.reshape(ops.embedding(ops.reshape(perId, [perId.size, 1]), index), [index.length]);
  return ops.embedding(perId, index);
}

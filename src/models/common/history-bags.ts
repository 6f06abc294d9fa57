/**
 * History bags: a user's items as one weighted sparse row (each 1/count), for the models whose user
 * side reads the mean of the history's item vectors (two_tower and fm with --history_bag). In
 * training, a position's bag is the row's items up to it (the inputs before its target: no leakage);
 * in scoring, the history given.
 */
import type { Bags } from '../../engine/bag-ops.js';
import type { HistoryBatch } from '../../eval/types.js';

/**
 * Each position's history bag: the row's items up to and including it (padding and ids outside
 * 1..itemNum skipped), each weighted 1/count.
 */
export function prefixBags(seqs: Int32Array, maxlen: number, positions: readonly number[], itemNum: number): Bags {
  const ptr = new Int32Array(positions.length + 1);
  const idx: number[] = [];
  const val: number[] = [];
  const known = (i: number) => i >= 1 && i <= itemNum;
  positions.forEach((p, m) => {
    const start = p - (p % maxlen);
    let count = 0;
    for (let x = start; x <= p; x++) if (known(seqs[x])) count++;
    for (let x = start; x <= p; x++) {
      if (!known(seqs[x])) continue;
      idx.push(seqs[x]);
      val.push(1 / count);
    }
    ptr[m + 1] = idx.length;
  });
  return { ptr, idx: Int32Array.from(idx), val: Float32Array.from(val) };
}

/** Each history's bag: all its items, each weighted 1/count (an empty history: an empty bag). */
export function historyBags(batch: HistoryBatch, itemNum: number): Bags {
  const L = batch.maxlen;
  return prefixBags(
    batch.seqs,
    L,
    Array.from({ length: batch.batchSize }, (_, b) => b * L + L - 1),
    itemNum,
  );
}

/** Each real position's (pos ≠ 0) prefix bag, in position order: the examples of a factor model's loss. */
export function trainingBags(
  batch: { readonly batchSize: number; readonly maxlen: number; readonly seqs: Int32Array; readonly pos: Int32Array },
  itemNum: number,
): Bags {
  const positions: number[] = [];
  for (let p = 0; p < batch.batchSize * batch.maxlen; p++) if (batch.pos[p] !== 0) positions.push(p);
  return prefixBags(batch.seqs, batch.maxlen, positions, itemNum);
}

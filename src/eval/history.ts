import type { Split } from '../data/types.js';
import type { HistoryBatch } from './types.js';

/**
 * Evaluation histories, built exactly like the reference's evaluate()/evaluate_valid(): the user's
 * train items, most recent last, right-aligned in a row of `maxlen` (left-padded with 0, oldest items
 * cut); for the test split the valid item is appended after the train items.
 */

export type HeldOut = 'valid' | 'test';

/**
 * Writes one left-padded history row into `seqs` (and `times`, when given) at `row*maxlen`.
 * `items` (and `itemTimes`) are in chronological order; `last`, when not 0, is appended after them.
 */
export function fillHistoryRow(
  seqs: Int32Array,
  row: number,
  maxlen: number,
  items: ArrayLike<number>,
  last = 0,
  times?: Float64Array,
  itemTimes?: ArrayLike<number>,
  lastTime = 0,
): void {
  const base = row * maxlen;
  seqs.fill(0, base, base + maxlen);
  if (times) times.fill(0, base, base + maxlen);
  let idx = maxlen - 1;
  if (idx < 0) return;
  if (last !== 0) {
    seqs[base + idx] = last;
    if (times) times[base + idx] = lastTime;
    idx--;
  }
  for (let j = items.length - 1; j >= 0 && idx >= 0; j--, idx--) {
    seqs[base + idx] = items[j];
    if (times && itemTimes) times[base + idx] = itemTimes[j];
  }
}

/** The items user u is evaluated after, before the valid item is appended: train[u], or a cold-start split's input history. */
export function evalHistory(split: Split, u: number): Int32Array {
  return split.cold ? split.cold.inputs[u] : split.train[u];
}

/**
 * The history batch for `users` as the reference evaluates them on `which`: train items, plus the
 * valid item when evaluating test (a cold-start split: its input history alone, data/cold.ts). Times
 * are filled when the split carries timestamps.
 */
export function buildEvalBatch(split: Split, users: ArrayLike<number>, maxlen: number, which: HeldOut): HistoryBatch {
  const B = users.length;
  const seqs = new Int32Array(B * maxlen);
  const withTimes = split.trainTimes !== undefined;
  const times = withTimes ? new Float64Array(B * maxlen) : undefined;
  const userIds = new Int32Array(B);
  const appendValid = which === 'test' && !split.cold;
  const historyTimes = split.cold ? split.cold.inputTimes : split.trainTimes;
  for (let b = 0; b < B; b++) {
    const u = users[b];
    userIds[b] = u;
    const last = appendValid ? split.valid[u] : 0;
    const lastTime = appendValid && split.validTimes ? split.validTimes[u] : 0;
    fillHistoryRow(seqs, b, maxlen, evalHistory(split, u), last, times, historyTimes?.[u], lastTime);
  }
  return times ? { batchSize: B, maxlen, users: userIds, seqs, times } : { batchSize: B, maxlen, users: userIds, seqs };
}

/**
 * A one-row batch for one history, e.g. for `recommend`: `user` is the dense user id, or 0 for an
 * ad-hoc history of no known user.
 */
export function buildSingleBatch(items: ArrayLike<number>, maxlen: number, user = 0, itemTimes?: ArrayLike<number>): HistoryBatch {
  const seqs = new Int32Array(maxlen);
  const times = itemTimes ? new Float64Array(maxlen) : undefined;
  fillHistoryRow(seqs, 0, maxlen, items, 0, times, itemTimes);
  const users = Int32Array.of(user);
  return times ? { batchSize: 1, maxlen, users, seqs, times } : { batchSize: 1, maxlen, users, seqs };
}

/** Top-K recommendation for one query, the same for every model: all items scored, the history excluded. */
import { buildSingleBatch } from './history.js';
import { assertFiniteScores, topK } from './protocols.js';
import type { Scorer } from './types.js';

/** One user's query: what any model may read about whom it recommends for. */
export interface Query {
  /** the dense user id, or 0 for a history of no known user (cold start, an ad-hoc history) */
  readonly user?: number;
  /** the history, dense item ids in time order (may be empty) */
  readonly items: ArrayLike<number>;
  /** the raw timestamps of `items`, for models that use time */
  readonly times?: ArrayLike<number>;
}

/** The `k` best items (dense ids, best first) after the query's history, its items excluded. */
export function recommendTopK(scorer: Scorer, query: Query, k: number): Array<{ item: number; score: number }> {
  const batch = buildSingleBatch(query.items, scorer.maxlen, query.user ?? 0, query.times);
  const scores = scorer.scoreAll(batch);
  // as evaluation: a NaN or +Infinity score means a diverged model, whose ranking means nothing
  assertFiniteScores(scores, 1, scorer.itemNum + 1, 1, 'recommend');
  return topK(scores, 0, scorer.itemNum, k, query.items);
}

/**
 * Why a recommendation list is shorter than asked (undefined when it is not): recommendations
 * exclude the history, and the history may hold (nearly) the whole catalogue.
 */
export function shortfallNote(scorer: Pick<Scorer, 'itemNum'>, query: Query, k: number, got: number): string | undefined {
  if (got >= k) return undefined;
  const held = new Set(Array.from(query.items).filter((i) => i >= 1 && i <= scorer.itemNum)).size;
  const what = got === 0 ? 'no items to recommend' : `only ${got} of the ${k} items asked for`;
  return `${what}: the history holds ${held} of the model's ${scorer.itemNum} items, and recommendations exclude the history`;
}

import { UserError } from '../core/errors.js';
import { recommendTopK, type Query } from '../eval/recommend.js';
import type { Model } from '../models/contract.js';
import { mapItems, queryForUser } from '../train/query.js';

/** Whom to recommend for: a user of the model's data, or a history of item ids (original ids). */
export type RecommendQuery =
  | {
      /** a user id of the model's data: recommends after the user's whole history */
      readonly user: string | number;
      /** (give a user or a history) */
      readonly history?: undefined;
    }
  | {
      /** item ids in time order */
      readonly history: ReadonlyArray<string | number>;
      /** the history's timestamps, for time-aware models (tisasrec); without them it is taken as equally spaced */
      readonly times?: readonly number[];
      /** (give a user or a history) */
      readonly user?: undefined;
    };

/** One recommended item. */
export interface Recommendation {
  /** the item's original id */
  readonly item: string;
  /** the model's score (higher is better; comparable within one query) */
  readonly score: number;
}

/**
 * The `k` best next items (original ids, best first) for a known user (after the user's whole
 * history in the model) or for a history; items of the history are never recommended.
 */
export function recommend(model: Model, query: RecommendQuery, k = 10): Recommendation[] {
  if (!(Number.isInteger(k) && k >= 1)) throw new UserError(`k: expected an integer ≥ 1, got ${k}`);
  let q: Query;
  if (query.user !== undefined) {
    q = queryForUser(model, String(query.user), undefined, 'the model');
  } else if (query.history !== undefined) {
    if (query.times !== undefined && query.times.length !== query.history.length) {
      throw new UserError(`times: ${query.times.length} times for ${query.history.length} items`);
    }
    q = { user: 0, items: mapItems(model, query.history.map(String), 'history'), ...(query.times ? { times: query.times } : {}) };
  } else {
    throw new UserError('recommend: give a user or a history');
  }
  return recommendTopK(model.scorer, q, k).map((r) => ({ item: model.items.toRaw[r.item], score: r.score }));
}

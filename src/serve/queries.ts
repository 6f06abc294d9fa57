/**
 * A recommendation request's body → a query in the model's dense ids: a known user (the history the
 * model file keeps) or a history of original item ids with optional times; ids the model does not
 * have are dropped or refused (`--unknown_items`); `exclude` adds items not to recommend.
 */
import { quote, UserError } from '../core/errors.js';
import type { Query } from '../eval/recommend.js';
import type { Catalog } from '../models/contract.js';
import { queryForUser } from '../train/query.js';

/** A single request's fields, as the JSON schema admits them. */
export interface RecommendBody {
  readonly user?: string | number;
  readonly history?: ReadonlyArray<string | number>;
  readonly times?: readonly number[];
  readonly k?: number;
  readonly exclude?: ReadonlyArray<string | number>;
  readonly model?: string;
}

export type UnknownItems = 'drop' | 'error';

export interface ServedQuery {
  readonly query: Query;
  /** items not to recommend: the history and `exclude` (dense ids) */
  readonly exclude: Int32Array;
  readonly k: number;
  /** original ids of the history that the model does not know and that were dropped */
  readonly dropped: string[];
}

function denseItems(catalog: Catalog, raw: ReadonlyArray<string | number>, field: string, unknown: UnknownItems, dropped: string[]): number[] {
  const out: number[] = [];
  for (const r of raw) {
    const id = catalog.items.toIndex.get(String(r));
    if (id !== undefined) out.push(id);
    else if (unknown === 'error') throw new UserError(`${field}: unknown item id ${quote(String(r))}`);
    else dropped.push(String(r));
  }
  return out;
}

export function toQuery(catalog: Catalog, body: RecommendBody, unknown: UnknownItems, defaultK: number): ServedQuery {
  const k = body.k ?? defaultK;
  const dropped: string[] = [];
  let query: Query;
  if (body.user !== undefined) {
    if (body.history !== undefined) throw new UserError('give "user" or "history", not both');
    try {
      query = queryForUser(catalog, String(body.user), undefined, 'the model');
    } catch (e) {
      // the CLI's wording names its flag; here the field is "user"
      if (e instanceof UserError) throw new UserError(e.message.replace(/^--user: /, 'user: '));
      throw e;
    }
  } else if (body.history !== undefined) {
    if (body.history.length === 0) throw new UserError('history: empty (give at least one item id, or a "user")');
    if (body.times !== undefined && body.times.length !== body.history.length)
      throw new UserError(`times: ${body.times.length} times for ${body.history.length} items`);
    if (body.times)
      for (let j = 1; j < body.times.length; j++) if (body.times[j] < body.times[j - 1]) throw new UserError('times: must not decrease');
    const kept: number[] = [];
    const keptTimes: number[] = [];
    body.history.forEach((r, j) => {
      const id = catalog.items.toIndex.get(String(r));
      if (id !== undefined) {
        kept.push(id);
        if (body.times) keptTimes.push(body.times[j]);
      } else if (unknown === 'error') throw new UserError(`history: unknown item id ${quote(String(r))}`);
      else dropped.push(String(r));
    });
    if (kept.length === 0) throw new UserError('history: none of its items is known to the model');
    query = { user: 0, items: Int32Array.from(kept), ...(body.times ? { times: keptTimes } : {}) };
  } else {
    throw new UserError('give a "user" or a "history"');
  }
  const extra = body.exclude ? denseItems(catalog, body.exclude, 'exclude', unknown, []) : [];
  const exclude = Int32Array.from([...Array.from(query.items), ...extra]);
  return { query, exclude, k, dropped };
}

/** A recommend request body (original ids) as a query on one model (dense ids); bad input is a UserError. */
import { UserError, quote } from '../core/errors.js';
import type { Model } from '../models/contract.js';
import type { ScoreRequest } from './batcher.js';

/** The JSON body of one recommendation request. */
export interface RecommendBody {
  readonly user?: string | number;
  readonly history?: ReadonlyArray<string | number>;
  readonly times?: readonly number[];
  readonly k?: number;
  readonly exclude?: ReadonlyArray<string | number>;
  readonly model?: string;
}

export type UnknownItems = 'drop' | 'error';

const EMPTY = new Int32Array(0);

export function toScoreRequest(model: Model, body: RecommendBody, unknownItems: UnknownItems, defaultK: number): ScoreRequest {
  const k = body.k ?? defaultK;
  const exclude = body.exclude ? knownItems(model, body.exclude) : EMPTY;
  if ((body.user === undefined) === (body.history === undefined)) throw new UserError('give exactly one of "user" or "history"');
  if (body.user !== undefined) {
    if (body.times !== undefined) throw new UserError('"times" goes with a "history", not a "user"');
    if (!model.users || !model.histories) throw new UserError('user: this model holds no user histories; send a "history"');
    const u = model.users.toIndex.get(String(body.user));
    if (u === undefined) throw new UserError(`user: unknown user id ${quote(String(body.user))}`);
    const times = model.historyTimes?.[u];
    return { query: { user: u, items: model.histories[u], ...(times ? { times } : {}) }, exclude, k };
  }
  const history = body.history!;
  if (body.times !== undefined && body.times.length !== history.length) {
    throw new UserError(`times: ${body.times.length} times for ${history.length} history items`);
  }
  const items: number[] = [];
  const times: number[] = [];
  for (let j = 0; j < history.length; j++) {
    const idx = model.items.toIndex.get(String(history[j]));
    if (idx === undefined) {
      if (unknownItems === 'error') throw new UserError(`history: unknown item id ${quote(String(history[j]))}`);
      continue;
    }
    items.push(idx);
    if (body.times) times.push(body.times[j]);
  }
  if (items.length === 0) throw new UserError(history.length === 0 ? 'history: empty' : 'history: empty once unknown items are dropped');
  return { query: { user: 0, items: Int32Array.from(items), ...(body.times ? { times: Float64Array.from(times) } : {}) }, exclude, k };
}

/** The dense ids of the items a model knows; items it does not know cannot be recommended anyway. */
function knownItems(model: Model, raw: ReadonlyArray<string | number>): Int32Array {
  const out: number[] = [];
  for (const r of raw) {
    const idx = model.items.toIndex.get(String(r));
    if (idx !== undefined) out.push(idx);
  }
  return Int32Array.from(out);
}

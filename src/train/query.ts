/**
 * A recommendation query in original ids → the model's dense ids: a known user's history (from the
 * model file, or from a dataset), or an ad-hoc history "i1 i2 …" / "i1@t1 i2@t2 …". Unknown ids are
 * one-line errors.
 */
import { quote, UserError } from '../core/errors.js';
import type { Interactions } from '../data/types.js';
import type { Query } from '../eval/recommend.js';
import type { Catalog } from '../models/contract.js';

/** Original item ids → the model's dense ids; an unknown id is a one-line error naming `where`. */
export function mapItems(catalog: Catalog, raw: readonly string[], where: string): Int32Array {
  const out = new Int32Array(raw.length);
  for (let j = 0; j < raw.length; j++) {
    const idx = catalog.items.toIndex.get(raw[j]);
    if (idx === undefined) throw new UserError(`${where}: unknown item id ${quote(raw[j])} (not in the model's items)`);
    out[j] = idx;
  }
  return out;
}

/** History tokens from text: item ids separated by spaces or commas. */
export function parseHistory(text: string): string[] {
  return text.split(/[\s,]+/).filter((t) => t !== '');
}

/**
 * History tokens "item" or "item@time" (raw timestamps, in the dataset's unit, non-decreasing): all
 * with a time or none. Time-aware models (TiSASRec) use the times; without them such a model takes
 * the items as equally spaced. Other models ignore times.
 */
export function splitHistoryTimes(tokens: readonly string[]): { items: string[]; times?: number[] } {
  const timed = tokens.filter((t) => t.includes('@')).length;
  if (timed === 0) return { items: [...tokens] };
  if (timed !== tokens.length) throw new UserError('--history: give a time for every item ("item@time …") or for none');
  const items: string[] = [];
  const times: number[] = [];
  for (const tok of tokens) {
    const at = tok.lastIndexOf('@');
    const item = tok.slice(0, at);
    const time = tok.slice(at + 1);
    const t = Number(time);
    if (item === '' || time.trim() === '' || !Number.isFinite(t))
      throw new UserError(`--history: ${quote(tok)} is not item@time with a numeric time`);
    if (times.length > 0 && t < times[times.length - 1])
      throw new UserError(`--history: times must not decrease (${quote(tok)} comes after time ${times[times.length - 1]})`);
    items.push(item);
    times.push(t);
  }
  return { items, times };
}

/** The query of an ad-hoc history of original item ids ("item" or "item@time" tokens). */
export function queryForHistory(catalog: Catalog, tokens: readonly string[]): Query {
  const { items, times } = splitHistoryTimes(tokens);
  return { user: 0, items: mapItems(catalog, items, '--history'), ...(times ? { times } : {}) };
}

/**
 * The query of a known user: the user's whole history, from `data` (a dataset file, read with the
 * dataset's ids) when given, else from the model file (`modelPath` names it in errors).
 */
export function queryForUser(catalog: Catalog, user: string, data: (Interactions & { path: string }) | undefined, modelPath: string): Query {
  if (data) {
    const du = data.users.toIndex.get(user);
    if (du === undefined) throw new UserError(`--user: unknown user id ${quote(user)} (not in ${data.path})`);
    const items = mapItems(
      catalog,
      Array.from(data.seqs[du], (i) => data.items.toRaw[i]),
      `--dataset ${data.path}`,
    );
    const times = data.times?.[du];
    return { user: catalog.users?.toIndex.get(user) ?? 0, items, ...(times ? { times } : {}) };
  }
  if (!catalog.users || !catalog.histories) throw new UserError(`--user: ${modelPath} holds no user histories; pass --dataset FILE or --history`);
  const u = catalog.users.toIndex.get(user);
  if (u === undefined) throw new UserError(`--user: unknown user id ${quote(user)} (not in the model's users)`);
  const times = catalog.historyTimes?.[u];
  return { user: u, items: catalog.histories[u], ...(times ? { times } : {}) };
}

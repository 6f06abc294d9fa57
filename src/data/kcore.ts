import { idMapFromSorted } from './ids.js';
import type { IdMap, Interactions } from './types.js';

export type KcoreMode = 'one-pass' | 'iterative';

export interface KcoreOptions {
  minUserCount?: number;
  minItemCount?: number;
  /**
   * 'one-pass' (default): keep an event when its user has ≥ minUserCount events and its item has
   * ≥ minItemCount events in the input — the SASRec/TiSASRec preprocessing; survivors may end below
   * the thresholds. 'iterative': repeat until every user and item meets the thresholds (a true k-core).
   */
  mode?: KcoreMode;
}

/** Filters by interaction counts and re-densifies ids (keeping ascending raw order and event order). */
export function kcore(data: Interactions, options: KcoreOptions): Interactions {
  const minU = options.minUserCount ?? 0;
  const minI = options.minItemCount ?? 0;
  const mode = options.mode ?? 'one-pass';
  if (mode !== 'one-pass' && mode !== 'iterative') throw new RangeError(`kcore: unknown mode ${String(mode)}`);
  let cur = data;
  for (;;) {
    const next = filterOnce(cur, minU, minI);
    if (next === cur || mode === 'one-pass') return next;
    cur = next;
  }
}

/** One filtering pass; returns `data` itself when nothing is removed. */
function filterOnce(data: Interactions, minU: number, minI: number): Interactions {
  const itemCount = new Int32Array(data.itemNum + 1);
  let total = 0;
  for (let u = 1; u <= data.userNum; u++) {
    const s = data.seqs[u];
    total += s.length;
    for (let k = 0; k < s.length; k++) itemCount[s[k]]++;
  }
  const keepItem = new Uint8Array(data.itemNum + 1);
  for (let i = 1; i <= data.itemNum; i++) keepItem[i] = itemCount[i] >= minI && itemCount[i] > 0 ? 1 : 0;

  // count kept events per user to size the output
  let kept = 0;
  const userKept = new Int32Array(data.userNum + 1);
  for (let u = 1; u <= data.userNum; u++) {
    const s = data.seqs[u];
    if (s.length < minU) continue;
    let c = 0;
    for (let k = 0; k < s.length; k++) c += keepItem[s[k]];
    userKept[u] = c;
    kept += c;
  }
  if (kept === total) return data;

  const itemRemap = new Int32Array(data.itemNum + 1);
  const itemUsed = new Uint8Array(data.itemNum + 1);
  for (let u = 1; u <= data.userNum; u++) {
    if (userKept[u] === 0) continue;
    const s = data.seqs[u];
    for (let k = 0; k < s.length; k++) if (keepItem[s[k]]) itemUsed[s[k]] = 1;
  }
  const items = remapIds(data.items, itemUsed, itemRemap);

  const allItems = new Int32Array(kept);
  const allTimes = data.times ? new Float64Array(kept) : null;
  const seqs: Int32Array[] = [new Int32Array(0)];
  const times: Float64Array[] | undefined = data.times ? [new Float64Array(0)] : undefined;
  const userUsed = new Uint8Array(data.userNum + 1);
  let p = 0;
  for (let u = 1; u <= data.userNum; u++) {
    if (userKept[u] === 0) continue;
    userUsed[u] = 1;
    const s = data.seqs[u];
    const t = data.times?.[u];
    const start = p;
    for (let k = 0; k < s.length; k++) {
      if (!keepItem[s[k]]) continue;
      allItems[p] = itemRemap[s[k]];
      if (allTimes) allTimes[p] = t![k];
      p++;
    }
    seqs.push(allItems.subarray(start, p));
    if (times) times.push(allTimes!.subarray(start, p));
  }
  const users = remapIds(data.users, userUsed, new Int32Array(data.userNum + 1));
  const base = { userNum: users.toRaw.length - 1, itemNum: items.toRaw.length - 1, seqs, users, items };
  return times ? { ...base, times } : base;
}

function remapIds(map: IdMap, used: Uint8Array, remap: Int32Array): IdMap {
  const raw: string[] = [];
  for (let i = 1; i < used.length; i++) {
    if (used[i]) {
      raw.push(map.toRaw[i]);
      remap[i] = raw.length;
    }
  }
  return idMapFromSorted(raw);
}

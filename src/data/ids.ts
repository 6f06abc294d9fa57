import type { IdMap } from './types.js';

const INTEGER = /^[+-]?\d+$/;

/**
 * Sorts raw ids ascending: numerically when every id is an integer (so files already numbered 1..N
 * map to themselves), else by string order. Integers that compare equal as numbers ("7", "007")
 * fall back to string order, so the result is a total order.
 */
export function sortRawIds(raw: string[]): string[] {
  const out = raw.slice();
  if (out.every((s) => INTEGER.test(s))) {
    const exact = out.some((s) => s.length > 15);
    if (exact) {
      const keys = new Map(out.map((s) => [s, BigInt(s)]));
      out.sort((a, b) => {
        const x = keys.get(a)!;
        const y = keys.get(b)!;
        return x < y ? -1 : x > y ? 1 : a < b ? -1 : a > b ? 1 : 0;
      });
    } else {
      out.sort((a, b) => Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0));
    }
  } else {
    out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }
  return out;
}

/** An IdMap from raw ids already in dense order (toRaw[0] = '' is added). */
export function idMapFromSorted(sortedRaw: string[]): IdMap {
  const toRaw = [''].concat(sortedRaw);
  const toIndex = new Map<string, number>();
  for (let i = 1; i < toRaw.length; i++) toIndex.set(toRaw[i], i);
  return { toIndex, toRaw };
}

/**
 * Dense ids for raw ids that were interned in first-seen order (temp index k ↔ firstSeen[k]).
 * Returns the IdMap and remap[k] = dense id of temp index k.
 */
export function denseIds(firstSeen: string[]): { map: IdMap; remap: Int32Array } {
  const map = idMapFromSorted(sortRawIds(firstSeen));
  const remap = new Int32Array(firstSeen.length);
  for (let k = 0; k < firstSeen.length; k++) remap[k] = map.toIndex.get(firstSeen[k])!;
  return { map, remap };
}

import { denseIds } from './ids.js';
import type { Interactions } from './types.js';

/**
 * Growable columnar buffer of raw events (user, item, optional time) in file order; raw ids are
 * interned to temporary indices as they arrive and turned into dense ids by finish().
 */
export class EventLog {
  private users = new Int32Array(1 << 14);
  private items = new Int32Array(1 << 14);
  private times: Float64Array | null;
  /** explicit ratings, kept only when asked for (the --task ctr labels) */
  private ratings: Float32Array | null;
  private n = 0;
  private readonly userIndex = new Map<string, number>();
  private readonly itemIndex = new Map<string, number>();
  private readonly userRaw: string[] = [];
  private readonly itemRaw: string[] = [];

  constructor(
    readonly hasTime: boolean,
    readonly hasRatings = false,
  ) {
    this.times = hasTime ? new Float64Array(1 << 14) : null;
    this.ratings = hasRatings ? new Float32Array(1 << 14) : null;
  }

  get length(): number {
    return this.n;
  }

  push(user: string, item: string, time: number, rating = 0): void {
    if (this.n === this.users.length) this.grow();
    this.users[this.n] = intern(user, this.userIndex, this.userRaw);
    this.items[this.n] = intern(item, this.itemIndex, this.itemRaw);
    if (this.times) this.times[this.n] = time;
    if (this.ratings) this.ratings[this.n] = rating;
    this.n++;
  }

  private grow(): void {
    const cap = this.users.length * 2;
    const u = new Int32Array(cap);
    u.set(this.users);
    this.users = u;
    const i = new Int32Array(cap);
    i.set(this.items);
    this.items = i;
    if (this.times) {
      const t = new Float64Array(cap);
      t.set(this.times);
      this.times = t;
    }
    if (this.ratings) {
      const r = new Float32Array(cap);
      r.set(this.ratings);
      this.ratings = r;
    }
  }

  /** Dense ids (ascending raw order), events grouped by user, each user's events sorted by time (stable). */
  finish(): Interactions {
    const n = this.n;
    const { map: users, remap: userRemap } = denseIds(this.userRaw);
    const { map: items, remap: itemRemap } = denseIds(this.itemRaw);
    const userNum = this.userRaw.length;
    const itemNum = this.itemRaw.length;

    // counting sort by dense user keeps file order within a user
    const offsets = new Int32Array(userNum + 2);
    for (let k = 0; k < n; k++) offsets[userRemap[this.users[k]] + 1]++;
    for (let u = 1; u <= userNum + 1; u++) offsets[u] += offsets[u - 1];
    const fill = offsets.slice();
    const order = new Int32Array(n);
    for (let k = 0; k < n; k++) order[fill[userRemap[this.users[k]]]++] = k;

    const srcTimes = this.times;
    if (srcTimes) {
      for (let u = 1; u <= userNum; u++) {
        const lo = offsets[u];
        const hi = offsets[u + 1];
        let sorted = true;
        for (let k = lo + 1; k < hi && sorted; k++) sorted = srcTimes[order[k - 1]] <= srcTimes[order[k]];
        if (!sorted) {
          // Array.prototype.sort is stable, so ties keep file order
          const idx = Array.from(order.subarray(lo, hi));
          idx.sort((a, b) => srcTimes[a] - srcTimes[b]);
          order.set(idx, lo);
        }
      }
    }

    const allItems = new Int32Array(n);
    const allTimes = srcTimes ? new Float64Array(n) : null;
    const allRatings = this.ratings ? new Float32Array(n) : null;
    for (let k = 0; k < n; k++) {
      allItems[k] = itemRemap[this.items[order[k]]];
      if (allTimes) allTimes[k] = srcTimes![order[k]];
      if (allRatings) allRatings[k] = this.ratings![order[k]];
    }
    const seqs: Int32Array[] = [new Int32Array(0)];
    const times: Float64Array[] | undefined = allTimes ? [new Float64Array(0)] : undefined;
    for (let u = 1; u <= userNum; u++) {
      seqs.push(allItems.subarray(offsets[u], offsets[u + 1]));
      if (times) times.push(allTimes!.subarray(offsets[u], offsets[u + 1]));
    }
    const data: Interactions = times ? { userNum, itemNum, seqs, times, users, items } : { userNum, itemNum, seqs, users, items };
    if (!allRatings) return data;
    const ratings = [new Float32Array(0)];
    for (let u = 1; u <= userNum; u++) ratings.push(allRatings.subarray(offsets[u], offsets[u + 1]));
    return { ...data, ratings };
  }
}

function intern(raw: string, index: Map<string, number>, list: string[]): number {
  let k = index.get(raw);
  if (k === undefined) {
    k = list.length;
    index.set(raw, k);
    list.push(raw);
  }
  return k;
}

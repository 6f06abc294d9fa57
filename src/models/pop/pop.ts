import { z } from 'zod';
import type { IdMap, Split } from '../../data/types.js';
import type { HistoryBatch, Scorer } from '../../eval/types.js';
import type { Model } from '../contract.js';

/**
 * PopRec: every history gets the same scores, the items' popularity — the number of times each item
 * occurs in the users' TRAIN sequences (the default; no valid/test item leaks into the counts).
 * `countOn: 'all'` counts every interaction instead (train + valid + test); it leaks the held-out
 * items and exists only to study the gap to published PopRec figures.
 */

export type PopCountOn = 'train' | 'all';

export const POPREC_FORMAT = 'seqrec-poprec';

/** Item counts over the chosen part of the data: counts[i] for i in 0..itemNum (counts[0] = 0). */
export function countPopularity(split: Split, countOn: PopCountOn = 'train'): Float64Array {
  const { itemNum, userNum } = split.data;
  const counts = new Float64Array(itemNum + 1);
  const seqs = countOn === 'all' ? split.data.seqs : split.train;
  for (let u = 1; u <= userNum; u++) {
    const s = seqs[u];
    if (!s) continue;
    for (let j = 0; j < s.length; j++) counts[s[j]]++;
  }
  counts[0] = 0;
  return counts;
}

export class PopRec implements Scorer {
  /** reads no history */
  readonly maxlen = 0;
  readonly itemNum: number;
  /** counts[i]: popularity of item i (index 0 = padding, 0) */
  readonly counts: Float64Array;
  readonly countOn: PopCountOn;
  private readonly scores32: Float32Array;

  constructor(counts: Float64Array, countOn: PopCountOn = 'train') {
    if (counts.length < 1) throw new Error('PopRec: counts must have itemNum+1 entries');
    this.itemNum = counts.length - 1;
    this.counts = counts;
    this.countOn = countOn;
    this.scores32 = Float32Array.from(counts);
  }

  static fit(split: Split, countOn: PopCountOn = 'train'): PopRec {
    return new PopRec(countPopularity(split, countOn), countOn);
  }

  scoreCandidates(batch: HistoryBatch, candidates: Int32Array, numCandidates: number): Float32Array {
    const n = batch.batchSize * numCandidates;
    const out = new Float32Array(n);
    const s = this.scores32;
    for (let j = 0; j < n; j++) {
      const c = candidates[j];
      out[j] = c >= 0 && c <= this.itemNum ? s[c] : 0;
    }
    return out;
  }

  scoreAll(batch: HistoryBatch): Float32Array {
    const N1 = this.itemNum + 1;
    const out = new Float32Array(batch.batchSize * N1);
    for (let b = 0; b < batch.batchSize; b++) out.set(this.scores32, b * N1);
    return out;
  }
}

// ---- model file (JSON) ---------------------------------------------------------------------------

const fileSchema = z.object({
  format: z.literal(POPREC_FORMAT),
  version: z.literal(1),
  model: z.literal('pop'),
  countOn: z.enum(['train', 'all']),
  itemNum: z.number().int().nonnegative(),
  userNum: z.number().int().nonnegative(),
  /** counts[i] for i in 0..itemNum */
  counts: z.array(z.number().nonnegative()),
  /** original ids; items[0] = users[0] = '' (padding) */
  items: z.array(z.string()),
  users: z.array(z.string()),
  /** histories[u] = user u's items (dense ids) in time order, all of them (train+valid+test); [0] = [] */
  histories: z.array(z.array(z.number().int())).optional(),
});

export type PopRecFile = z.infer<typeof fileSchema>;

function idMapFrom(toRaw: string[]): IdMap {
  const toIndex = new Map<string, number>();
  for (let i = 1; i < toRaw.length; i++) toIndex.set(toRaw[i], i);
  return { toIndex, toRaw };
}

/** A PopRec together with the id maps and histories of its data: what `recommend` needs. */
export class PopRecModel implements Model {
  readonly name = 'pop';
  constructor(
    readonly scorer: PopRec,
    readonly items: IdMap,
    readonly users?: IdMap,
    readonly histories?: readonly Int32Array[],
  ) {
    if (items.toRaw.length !== scorer.itemNum + 1) {
      throw new Error(`PopRec: item map has ${items.toRaw.length - 1} items, counts ${scorer.itemNum}`);
    }
  }

  static fit(split: Split, countOn: PopCountOn = 'train'): PopRecModel {
    const d = split.data;
    return new PopRecModel(PopRec.fit(split, countOn), d.items, d.users, d.seqs);
  }

  describe(): Record<string, unknown> {
    return { model: 'pop', countOn: this.scorer.countOn, itemNum: this.scorer.itemNum };
  }

  /** Nothing to hand back: the counts live on the JavaScript heap. */
  dispose(): void {}

  toJSON(): PopRecFile {
    const users = this.users?.toRaw ?? [''];
    const file: PopRecFile = {
      format: POPREC_FORMAT,
      version: 1,
      model: 'pop',
      countOn: this.scorer.countOn,
      itemNum: this.scorer.itemNum,
      userNum: users.length - 1,
      counts: Array.from(this.scorer.counts),
      items: [...this.items.toRaw],
      users: [...users],
    };
    if (this.histories) file.histories = this.histories.map((h) => Array.from(h ?? []));
    return file;
  }

  serialize(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.toJSON()));
  }

  static fromJSON(value: unknown): PopRecModel {
    const parsed = fileSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`not a PopRec model file (${issue ? `${issue.path.join('.') || 'root'}: ${issue.message}` : 'invalid'})`);
    }
    const f = parsed.data;
    if (f.counts.length !== f.itemNum + 1) throw new Error(`PopRec file: ${f.counts.length} counts for ${f.itemNum} items`);
    if (f.items.length !== f.itemNum + 1) throw new Error(`PopRec file: ${f.items.length - 1} item ids for ${f.itemNum} items`);
    if (f.users.length !== f.userNum + 1) throw new Error(`PopRec file: ${f.users.length - 1} user ids for ${f.userNum} users`);
    let histories: Int32Array[] | undefined;
    if (f.histories) {
      if (f.histories.length !== f.userNum + 1) throw new Error(`PopRec file: ${f.histories.length - 1} histories for ${f.userNum} users`);
      histories = f.histories.map((h) => {
        for (const i of h) if (i < 1 || i > f.itemNum) throw new Error(`PopRec file: history item ${i} out of 1..${f.itemNum}`);
        return Int32Array.from(h);
      });
    }
    const scorer = new PopRec(Float64Array.from(f.counts), f.countOn);
    return new PopRecModel(scorer, idMapFrom(f.items), f.userNum > 0 ? idMapFrom(f.users) : undefined, histories);
  }

  static parse(bytes: Uint8Array): PopRecModel {
    let value: unknown;
    try {
      value = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      throw new Error('not a PopRec model file (not JSON)');
    }
    return PopRecModel.fromJSON(value);
  }
}

/** Whether `bytes` are a PopRec model file (it starts with {"format":"seqrec-poprec" as serialize() writes it). */
export function looksLikePopRec(bytes: Uint8Array): boolean {
  const head = new TextDecoder().decode(bytes.subarray(0, 64));
  return /^\s*\{\s*"format"\s*:\s*"seqrec-poprec"/.test(head);
}

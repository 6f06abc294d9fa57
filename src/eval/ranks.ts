/**
 * Per-user ranks of the one-item protocols (leave-one-out, cold start): the file `train --keep_ranks`
 * and `eval --ranks_out` write and `seqrec compare` reads, so that two models evaluated on the same
 * users can be compared user by user (a paired test) instead of by their means alone.
 *
 * Format: TSV with the header `split protocol user item rank`; user and item are the dataset's own ids,
 * rank is 0-based (the number of candidates scoring strictly above the held-out item).
 */
import { UserError } from '../core/errors.js';
import type { Interactions } from '../data/types.js';

export interface RankList {
  readonly protocol: 'sampled' | 'full';
  readonly split: 'valid' | 'test';
  /** internal user ids, in evaluation order */
  readonly users: Int32Array;
  /** the held-out item of each user (internal id) */
  readonly items: Int32Array;
  /** 0-based rank of each user's held-out item */
  readonly ranks: Int32Array;
}

/** One row of a ranks file, with the dataset's own ids. */
export interface RankRow {
  /** valid or test */
  readonly split: string;
  /** sampled or full */
  readonly protocol: string;
  /** the user, by the dataset's own id */
  readonly user: string;
  /** the user's held-out item, by the dataset's own id */
  readonly item: string;
  /** 0-based: the candidates scoring strictly above the held-out item */
  readonly rank: number;
}

const HEADER = ['split', 'protocol', 'user', 'item', 'rank'] as const;

/** The rank lists as rows with the dataset's own ids. */
export function rankRows(lists: readonly RankList[], data: Pick<Interactions, 'users' | 'items'>): RankRow[] {
  const rows: RankRow[] = [];
  for (const l of lists) {
    for (let i = 0; i < l.users.length; i++) {
      rows.push({ split: l.split, protocol: l.protocol, user: data.users.toRaw[l.users[i]], item: data.items.toRaw[l.items[i]], rank: l.ranks[i] });
    }
  }
  return rows;
}

/** The ranks file's text. */
export function formatRanks(lists: readonly RankList[], data: Pick<Interactions, 'users' | 'items'>): string {
  const lines = [HEADER.join('\t'), ...rankRows(lists, data).map((r) => `${r.split}\t${r.protocol}\t${r.user}\t${r.item}\t${r.rank}`)];
  return `${lines.join('\n')}\n`;
}

/** Reads a ranks file's text; a malformed line is a one-line error naming the file and line. */
export function parseRanks(text: string, path: string): RankRow[] {
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new UserError(`${path}: empty file (a ranks file starts with the header "${HEADER.join('\t')}")`);
  if (lines[0] !== HEADER.join('\t')) {
    throw new UserError(`${path}: line 1 is not a ranks file's header "${HEADER.join('\\t')}" (written by train --keep_ranks or eval --ranks_out)`);
  }
  const rows: RankRow[] = [];
  const seen = new Set<string>();
  for (let i = 1; i < lines.length; i++) {
    const at = `${path}: line ${i + 1}`;
    const cells = lines[i].split('\t');
    if (cells.length !== HEADER.length) throw new UserError(`${at}: expected ${HEADER.length} tab-separated fields, found ${cells.length}`);
    const [split, protocol, user, item, rankText] = cells;
    if (split !== 'valid' && split !== 'test') throw new UserError(`${at}: split must be valid or test, got "${split}"`);
    if (protocol !== 'sampled' && protocol !== 'full') throw new UserError(`${at}: protocol must be sampled or full, got "${protocol}"`);
    if (user === '') throw new UserError(`${at}: empty user id`);
    if (!/^\d+$/.test(rankText) || !Number.isSafeInteger(Number(rankText))) {
      throw new UserError(`${at}: rank must be a non-negative integer, got "${rankText}"`);
    }
    const key = `${split}\t${protocol}\t${user}`;
    if (seen.has(key)) throw new UserError(`${at}: user ${user} appears twice for ${protocol} ${split}`);
    seen.add(key);
    rows.push({ split, protocol, user, item, rank: Number(rankText) });
  }
  return rows;
}

/** One ranks file: its path (for errors) and rows. */
export interface RanksFile {
  readonly path: string;
  readonly rows: readonly RankRow[];
}

/** The paired ranks of one (protocol, split): baseline[i] and candidate[i] are the same user's. */
export interface PairedRanks {
  readonly protocol: string;
  readonly split: string;
  readonly baseline: Int32Array;
  readonly candidate: Int32Array;
}

/**
 * Pairs the users of baseline file i with those of candidate file i (e.g. one file per seed), for each
 * (protocol, split) both hold. The two must have evaluated the same users on the same held-out items;
 * a user or item that differs is a one-line error (different --dataset, --seed, --cold or --eval_users).
 */
export function pairRanks(baseline: readonly RanksFile[], candidate: readonly RanksFile[]): PairedRanks[] {
  if (baseline.length !== candidate.length) {
    throw new UserError(
      `${baseline.length} baseline ranks files against ${candidate.length} candidate ones: give as many of each (paired by position)`,
    );
  }
  const groups = new Map<string, { protocol: string; split: string; a: number[]; b: number[] }>();
  for (let f = 0; f < baseline.length; f++) {
    const [A, B] = [baseline[f], candidate[f]];
    const byKey = new Map<string, RankRow>();
    for (const r of B.rows) byKey.set(`${r.protocol}\t${r.split}\t${r.user}`, r);
    const groupsOfB = new Set(B.rows.map((r) => `${r.protocol}\t${r.split}`));
    const groupsOfA = new Set(A.rows.map((r) => `${r.protocol}\t${r.split}`));
    const matched = new Set<string>();
    for (const r of A.rows) {
      const group = `${r.protocol}\t${r.split}`;
      if (!groupsOfB.has(group)) continue;
      const other = byKey.get(`${group}\t${r.user}`);
      if (!other)
        throw new UserError(`${A.path}: user ${r.user} (${r.protocol} ${r.split}) is not in ${B.path}: the runs did not evaluate the same users`);
      if (other.item !== r.item) {
        throw new UserError(
          `user ${r.user} (${r.protocol} ${r.split}) holds out item ${r.item} in ${A.path} but ${other.item} in ${B.path}: not the same split`,
        );
      }
      matched.add(`${group}\t${r.user}`);
      const g = groups.get(group) ?? { protocol: r.protocol, split: r.split, a: [], b: [] };
      groups.set(group, g);
      g.a.push(r.rank);
      g.b.push(other.rank);
    }
    for (const r of B.rows) {
      const key = `${r.protocol}\t${r.split}\t${r.user}`;
      if (groupsOfA.has(`${r.protocol}\t${r.split}`) && !matched.has(key)) {
        throw new UserError(`${B.path}: user ${r.user} (${r.protocol} ${r.split}) is not in ${A.path}: the runs did not evaluate the same users`);
      }
    }
  }
  if (groups.size === 0) throw new UserError('the baseline and candidate ranks share no protocol and split to compare');
  return [...groups.values()].map((g) => ({ protocol: g.protocol, split: g.split, baseline: Int32Array.from(g.a), candidate: Int32Array.from(g.b) }));
}

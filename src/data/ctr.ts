/**
 * The click-through protocol (`--task ctr`, docs/metrics.md), as the context-aware literature (RecBole)
 * reports FM and FFM: explicit ratings become labels (rating ≥ the positive threshold → 1, ≤ the
 * negative threshold → 0, in between dropped; `--ctr_labels 4,2` by default), and the labelled rows —
 * all users together, not per user — are shuffled with a generator seeded by `--seed` and cut
 * train:valid:test by `--split_ratio` (8:1:1 by default) with RecBole's rounding (ratioCounts).
 */
import { UserError } from '../core/errors.js';
import { Rng } from '../engine/rng.js';
import { ratioCounts } from './split.js';
import type { Interactions } from './types.js';

/** rating ≥ positive → 1; rating ≤ negative → 0; between: dropped. */
export interface CtrThresholds {
  readonly positive: number;
  readonly negative: number;
}

/** `P,N` with N < P, or undefined when malformed. */
export function parseCtrLabels(text: string): CtrThresholds | undefined {
  const parts = text.split(',').map((t) => t.trim());
  if (parts.length !== 2 || parts.some((t) => t === '' || !Number.isFinite(Number(t)))) return undefined;
  const [positive, negative] = parts.map(Number);
  return negative < positive ? { positive, negative } : undefined;
}

/** Labelled (user, item) pairs, dense ids. */
export interface LabelledRows {
  readonly users: Int32Array;
  readonly items: Int32Array;
  /** 0 or 1 */
  readonly labels: Float32Array;
}

/** The labelled rows of a dataset cut in three. */
export interface CtrSplit {
  readonly data: Interactions;
  readonly thresholds: CtrThresholds;
  /** train:valid:test, summing to 1 */
  readonly ratios: readonly number[];
  readonly train: LabelledRows;
  readonly valid: LabelledRows;
  readonly test: LabelledRows;
  /** events whose rating fell between the thresholds */
  readonly dropped: number;
}

/** Every event with a label, user by user in time order; `dropped`: those rated between the thresholds. */
export function labelledRows(data: Interactions, t: CtrThresholds, source = 'the dataset'): LabelledRows & { dropped: number } {
  if (!data.ratings) throw new UserError(`${source}: --task ctr needs explicit ratings, and these interactions have none`);
  const users: number[] = [];
  const items: number[] = [];
  const labels: number[] = [];
  let dropped = 0;
  for (let u = 1; u <= data.userNum; u++) {
    const s = data.seqs[u];
    const r = data.ratings[u];
    for (let k = 0; k < s.length; k++) {
      const label = r[k] >= t.positive ? 1 : r[k] <= t.negative ? 0 : -1;
      if (label < 0) {
        dropped++;
        continue;
      }
      users.push(u);
      items.push(s[k]);
      labels.push(label);
    }
  }
  return { users: Int32Array.from(users), items: Int32Array.from(items), labels: Float32Array.from(labels), dropped };
}

function pick(rows: LabelledRows, at: Int32Array): LabelledRows {
  return { users: at.map((k) => rows.users[k]), items: at.map((k) => rows.items[k]), labels: Float32Array.from(at, (k) => rows.labels[k]) };
}

/** The seeded random train:valid:test split of the labelled rows (file comment); each part in the rows' order. */
export function ctrSplit(data: Interactions, thresholds: CtrThresholds, ratios: readonly number[], seed: number, source?: string): CtrSplit {
  const total = ratios.reduce((a, b) => a + b, 0);
  const norm = ratios.map((r) => r / total);
  const rows = labelledRows(data, thresholds, source);
  const n = rows.labels.length;
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const rng = new Rng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    const x = order[i];
    order[i] = order[j];
    order[j] = x;
  }
  const [nTrain, nValid] = ratioCounts(n, norm);
  const part = (from: number, to: number) => pick(rows, order.slice(from, to).sort());
  const split = { train: part(0, nTrain), valid: part(nTrain, nTrain + nValid), test: part(nTrain + nValid, n) };
  const where = source ?? 'the dataset';
  for (const [name, p] of Object.entries(split)) {
    const ones = p.labels.reduce((a, b) => a + b, 0);
    if (ones === 0 || ones === p.labels.length) {
      throw new UserError(
        `${where}: --task ctr leaves ${name} with ${p.labels.length === 0 ? 'no rows' : `only label ${ones === 0 ? 0 : 1}`} (${n} labelled rows, --ctr_labels ${thresholds.positive},${thresholds.negative}): AUC needs both labels`,
      );
    }
  }
  return { data, thresholds, ratios: norm, ...split, dropped: rows.dropped };
}

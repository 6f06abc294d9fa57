/** What a run's evaluation reports: results.json, and the results table. */
import { describeCold } from '../data/cold.js';
import type { LoadedSplit } from '../data/types.js';
import type { EvalConfig } from './options.js';
import { protocolsOf } from './options.js';
import type { EvalResult } from './protocols.js';

/** One evaluation: a protocol on one held-out split. */
export interface EvalRow {
  /** sampled (the held-out item among random negatives), full (every item ranked), or ctr (labelled rows: AUC, LogLoss; --task ctr) */
  readonly protocol: 'sampled' | 'full' | 'ctr';
  /** valid (history = train) or test (history = train + valid) */
  readonly split: 'valid' | 'test';
  /** users evaluated */
  readonly users: number;
  /** HR@K, NDCG@K for each cut-off, and MRR, averaged over the users */
  readonly metrics: Record<string, number>;
  /** wall-clock seconds of this evaluation (a history-free model's valid and test share one full-ranking pass: half of it each) */
  readonly seconds?: number;
  /** the labelled rows evaluated (ctr) */
  readonly examples?: number;
}

/** What results.json holds. */
export interface RunResults {
  readonly seqrec: string;
  readonly command: string;
  readonly model: string;
  readonly modelSettings: Record<string, unknown>;
  readonly dataset: {
    readonly path: string;
    readonly users: number;
    readonly items: number;
    readonly interactions: number;
    /** users with a valid and a test item */
    readonly evaluableUsers: number;
    /** leave-one-out threshold used */
    readonly minInteractions: number;
    /** the cold-start split (--cold): what was held out, how many of each half, the users evaluated on each */
    readonly cold?: Record<string, unknown>;
    /** the click-through split (--task ctr): thresholds, ratios, rows and positives of each part */
    readonly ctr?: Record<string, unknown>;
  };
  readonly evaluation: {
    readonly protocols: Array<EvalRow['protocol']>;
    readonly ks: number[];
    readonly numNegatives: number;
    /** null = all evaluable users */
    readonly evalUsers: number | null;
    readonly seed: number;
  };
  readonly results: EvalRow[];
  /** where the model was saved / loaded from */
  readonly modelPath?: string;
  readonly trainSeconds?: number;
  readonly createdAt: string;
}

export function toRow(protocol: EvalRow['protocol'], split: EvalRow['split'], res: EvalResult, seconds?: number): EvalRow {
  return seconds === undefined
    ? { protocol, split, users: res.users, metrics: res.metrics }
    : { protocol, split, users: res.users, metrics: res.metrics, seconds };
}

/** A plain-text table: one line per (protocol, split), one column per metric, 4 decimals. */
export function formatResultsTable(rows: readonly EvalRow[]): string {
  if (rows.length === 0) return '(no evaluation)';
  const metricNames: string[] = [];
  for (const r of rows) for (const k of Object.keys(r.metrics)) if (!metricNames.includes(k)) metricNames.push(k);
  const header = ['protocol', 'split', 'users', ...metricNames];
  const lines = rows.map((r) => [
    r.protocol,
    r.split,
    String(r.users),
    ...metricNames.map((m) => (r.metrics[m] === undefined ? '-' : r.metrics[m].toFixed(4))),
  ]);
  const widths = header.map((h, j) => Math.max(h.length, ...lines.map((l) => l[j].length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, j) => (j < 2 ? c.padEnd(widths[j]) : c.padStart(widths[j])))
      .join('  ')
      .trimEnd();
  return [fmt(header), ...lines.map(fmt)].join('\n');
}

/** results.json's dataset header. */
export function datasetHeader(loaded: LoadedSplit): RunResults['dataset'] {
  const { data, split } = loaded;
  let interactions = 0;
  for (let u = 1; u <= data.userNum; u++) interactions += data.seqs[u].length;
  let evaluable = 0;
  for (let u = 1; u <= data.userNum; u++) if (split.test[u] !== 0) evaluable++;
  const cold = describeCold(split);
  return {
    path: loaded.path,
    users: data.userNum,
    items: data.itemNum,
    interactions,
    evaluableUsers: evaluable,
    minInteractions: loaded.minInteractions,
    ...(cold ? { cold } : {}),
  };
}

/** results.json's evaluation header. */
export function evaluationHeader(c: EvalConfig, seed: number): RunResults['evaluation'] {
  return { protocols: protocolsOf(c), ks: c.ks, numNegatives: c.numNegatives, evalUsers: c.evalUsers ?? null, seed };
}

/**
 * A finished run's files as the reports read them (results.json, log.jsonl), validated, and the
 * statistics the reports print.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { UserError } from '../core/errors.js';
import type { PlannedRun } from './grid.js';

// What the reports read from a finished run folder, validated: the files may have been damaged
// (a full disk, a bad copy, a hand edit) since `seqrec train` wrote them.

const Metric = z.number().nullable(); // JSON writes NaN as null

const ResultsFile = z.looseObject({
  results: z.array(z.looseObject({ protocol: z.string(), split: z.string(), metrics: z.record(z.string(), Metric) })),
  trainSeconds: z.number().nullish(),
});

const LogLineSchema = z.looseObject({
  epoch: z.number(),
  loss: Metric,
  lr: z.number().nullish(),
  valid: z.record(z.string(), Metric).optional(),
  seconds: z.number().nullish(),
});

export type ResultsData = z.infer<typeof ResultsFile>;
export type LogLine = z.infer<typeof LogLineSchema>;

/** A finished run with its files. */
export interface Collected {
  run: PlannedRun;
  results: ResultsData;
  log: LogLine[];
}

const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0];

function zodReason(error: z.ZodError): string {
  const issue = error.issues[0];
  return `${issue.path.join('.') || 'top level'}: ${issue.message}`;
}

function readText(path: string, recovery: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? firstLine(e)}); ${recovery}`);
  }
}

/** JSON text checked against a schema; `bad(reason)` builds the error for invalid JSON or a mismatch. */
function parseJsonAs<T>(text: string, schema: z.ZodType<T>, bad: (reason: string) => Error): T {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw bad(`invalid JSON: ${firstLine(e)}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw bad(zodReason(parsed.error));
  return parsed.data;
}

/** results.json of a finished run; a damaged one is a UserError naming it. */
function readResults(dir: string): ResultsData {
  const path = join(dir, 'results.json');
  const recovery = 'delete it to rerun this run';
  const text = readText(path, recovery);
  const bad = (reason: string) => new UserError(`${path}: not a seqrec results file (${reason}); ${recovery}`);
  if (text.trim() === '') throw bad('empty file');
  return parseJsonAs(text, ResultsFile, bad);
}

/** log.jsonl of a finished run (none: no curve); a damaged one is a UserError naming it. */
function readLog(dir: string): LogLine[] {
  const path = join(dir, 'log.jsonl');
  if (!existsSync(path)) return [];
  // `seqrec train --resume` drops log lines it cannot read, and a finished run re-evaluates only
  const recovery = existsSync(join(dir, 'last.safetensors'))
    ? 'delete the results.json beside it to redo this run from its last checkpoint (the damaged lines are dropped)'
    : `delete the run folder ${dir} to retrain this run`;
  const lines: LogLine[] = [];
  for (const [i, l] of readText(path, recovery).split('\n').entries()) {
    if (l.trim() === '') continue;
    const bad = (reason: string) => new UserError(`${path}: not a seqrec training log (line ${i + 1}: ${reason}); ${recovery}`);
    lines.push(parseJsonAs(l, LogLineSchema, bad));
  }
  return lines;
}

/** The validated results.json and log.jsonl of a finished run folder. */
export function readRunFiles(dir: string): { results: ResultsData; log: LogLine[] } {
  return { results: readResults(dir), log: readLog(dir) };
}

/** The epoch whose valid NDCG@10 was the best (the checkpoint a run reports), when the log has evaluations. */
export function bestEpoch(c: Collected): number | undefined {
  let best: LogLine | undefined;
  for (const l of c.log) {
    const v = l.valid?.['NDCG@10'];
    if (v === undefined || v === null) continue;
    if (best === undefined || v > (best.valid!['NDCG@10'] as number)) best = l;
  }
  return best?.epoch;
}

/** A metric's column name: "test sampled NDCG@10". */
export const metricKey = (row: { split: string; protocol: string }, m: string): string => `${row.split} ${row.protocol} ${m}`;

/** A finished run's value of a metric column ("test sampled NDCG@10"), when its results have it. */
export function metricOf(c: Collected, column: string): number | undefined {
  for (const row of c.results.results) for (const [m, v] of Object.entries(row.metrics)) if (metricKey(row, m) === column) return v ?? undefined;
  return undefined;
}

export function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Sample standard deviation (n − 1); 0 for a single value. */
export function std(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
}

/** The finished runs of one (dataset, model, config). */
export interface RunGroup {
  readonly datasetName: string;
  readonly model: string;
  readonly config: string;
  readonly runs: readonly Collected[];
}

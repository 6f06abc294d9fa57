/**
 * `seqrec experiments grid.yaml`: datasets × models × flag grid × seeds, trained one after another in
 * this process (through the same code as `seqrec train`), resumable, summarised into results.csv,
 * results.md (mean ± sample std over seeds) and report.html (training curves, chart.js inlined so
 * the page works offline).
 *
 * Grid file (YAML or JSON):
 *   datasets: [data/ring.txt]          # paths, relative to the grid file
 *   models: [sasrec, tisasrec]
 *   flags: { num_epochs: 20, maxlen: 50 }   # train flags (snake_case names) for every run
 *   grid: { lr: [0.001, 0.0005] }      # optional: every combination of these values is a config
 *   seeds: [1, 2, 3]                   # default [42]
 *   out: runs/exp                      # default: <grid file name>-results next to the grid file
 *
 * Run folders: <out>/runs/<dataset>/<model>/<config>/seed-<s>. A run whose results.json exists is
 * skipped; one with a last.safetensors but no results.json is resumed (--resume), so rerunning an
 * interrupted grid loses at most one epoch.
 *
 * Everything is checked before the first run starts: flag names (exactly those `seqrec train`
 * accepts, snake_case or kebab-case), datasets, and the results.json / log.jsonl of the runs that
 * will be skipped (a damaged one is refused naming the file, instead of breaking the reports).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { UserError } from '../cli/errors.js';
import { writeFileAtomic } from './atomic.js';
import { makeDirs } from '../data/dirs.js';

const Scalar = z.union([z.string(), z.number(), z.boolean()]);

export const GridSchema = z
  .object({
    datasets: z.array(z.string().min(1)).min(1),
    models: z.array(z.string().min(1)).min(1),
    flags: z.record(z.string(), Scalar).default({}),
    grid: z.record(z.string(), z.array(Scalar).min(1)).default({}),
    seeds: z.array(z.number().int().min(0).max(2 ** 32 - 1)).min(1).default([42]), // Rng seeds are uint32
    out: z.string().min(1).optional(),
  })
  .strict();

export type Grid = z.infer<typeof GridSchema>;

/** Flags that the experiment itself sets per run. */
const RESERVED = ['model', 'dataset', 'train_dir', 'seed', 'resume', 'overwrite', 'state_dict_path', 'inference_only'];

export interface PlannedRun {
  readonly dataset: string;
  readonly datasetName: string;
  readonly model: string;
  /** the grid values of this config, e.g. { lr: 0.01 } */
  readonly gridValues: Record<string, string | number | boolean>;
  /** a readable id of (grid values): "lr=0.01_maxlen=50", or "default" */
  readonly config: string;
  readonly seed: number;
  readonly flags: Record<string, string | number | boolean>;
  readonly dir: string;
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The train flag a misspelled key most likely meant (snake_case), if one is close enough. */
export function closestFlag(key: string, flags: readonly string[]): string | undefined {
  const k = key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/-/g, '_');
  const candidates = [...new Set(flags.map((f) => f.replace(/-/g, '_')))].filter((f) => !RESERVED.includes(f));
  let best: string | undefined;
  let bestDist = k.length <= 4 ? 1 : k.length <= 8 ? 2 : 3;
  for (const f of candidates) {
    const dist = editDistance(k, f);
    if (dist < bestDist || (dist === bestDist && best === undefined)) {
      best = f;
      bestDist = dist;
    }
  }
  if (best !== undefined) return best;
  // a missing word: dropout → dropout_rate, epochs → num_epochs (when only one flag fits)
  const partial = candidates.filter((f) => f.startsWith(`${k}_`) || f.endsWith(`_${k}`));
  return partial.length === 1 ? partial[0] : undefined;
}

/**
 * Reads and validates a grid file; errors are one line naming the file. trainFlags: the flag names
 * `seqrec train` accepts (without dashes); a key of flags / grid outside them is refused.
 */
export function loadGrid(path: string, trainFlags: readonly string[]): Grid {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read grid file ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new UserError(`${path}: not valid YAML/JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  const parsed = GridSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UserError(`${path}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  const grid = parsed.data;
  for (const k of [...Object.keys(grid.flags), ...Object.keys(grid.grid)]) {
    if (RESERVED.includes(k.replace(/-/g, '_').replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`))) {
      throw new UserError(`${path}: flag "${k}" is set by the experiment (use datasets / models / seeds)`);
    }
  }
  const unknown: string[] = [];
  for (const [section, keys] of [['flags', Object.keys(grid.flags)], ['grid', Object.keys(grid.grid)]] as const) {
    for (const k of keys) {
      // camelCase as the train command reads it (hiddenUnits = hidden_units), as older grids wrote them
      if (trainFlags.includes(k) || trainFlags.includes(k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`))) continue;
      const guess = closestFlag(k, trainFlags);
      const hint = guess
        ? `(did you mean ${guess}?)`
        : Object.hasOwn(GridSchema.shape, k)
          ? `(${k} is a top-level key of the grid file, not a flag)`
          : '(not a `seqrec train` flag; see seqrec train --help)';
      unknown.push(`${section}: unknown flag "${k}" ${hint}`);
    }
  }
  if (unknown.length > 0) throw new UserError(`${path}: ${unknown.join('; ')}`);
  return grid;
}

const slug = (s: string) => s.replace(/[^A-Za-z0-9.=+-]+/g, '-').replace(/^-+|-+$/g, '') || 'x';

function datasetName(path: string): string {
  const b = basename(path).replace(/\.gz$/i, '').replace(/\.[^.]*$/, '');
  return slug(b || basename(path));
}

/** Every run of the grid, in execution order (dataset, model, config, seed). */
export function planRuns(grid: Grid, gridPath: string, outOverride?: string): { out: string; runs: PlannedRun[] } {
  const base = dirname(resolve(gridPath));
  const out = resolve(outOverride ?? (grid.out ? resolve(base, grid.out) : join(base, `${basename(gridPath).replace(/\.[^.]*$/, '')}-results`)));
  const keys = Object.keys(grid.grid);
  let combos: Array<Record<string, string | number | boolean>> = [{}];
  for (const k of keys) combos = combos.flatMap((c) => grid.grid[k].map((v) => ({ ...c, [k]: v })));
  const runs: PlannedRun[] = [];
  const names = new Map<string, string>();
  for (const d of grid.datasets) {
    const dataset = resolve(base, d);
    let dn = datasetName(dataset);
    if (names.has(dn) && names.get(dn) !== dataset) dn = `${dn}-${[...names.keys()].filter((n) => n.startsWith(dn)).length + 1}`;
    names.set(dn, dataset);
    for (const model of grid.models) {
      for (const gridValues of combos) {
        const config = keys.length === 0 ? 'default' : slug(keys.map((k) => `${k}=${String(gridValues[k])}`).join('_'));
        for (const seed of grid.seeds) {
          runs.push({
            dataset,
            datasetName: dn,
            model,
            gridValues,
            config,
            seed,
            flags: { ...grid.flags, ...gridValues },
            dir: join(out, 'runs', dn, slug(model), config, `seed-${seed}`),
          });
        }
      }
    }
  }
  return { out, runs };
}

/** What the experiment needs from `seqrec train` (injected to keep src/train free of the CLI). */
export type TrainFn = (opts: Record<string, unknown>, io: { log(line: string): void; out(text: string): void }) => Promise<unknown>;

export interface ExperimentOptions {
  /** the flag names `seqrec train` accepts, snake_case and kebab-case, without dashes */
  readonly trainFlags: readonly string[];
  readonly out?: string;
  readonly log?: (line: string) => void;
}

export interface ExperimentSummary {
  readonly out: string;
  readonly ran: number;
  readonly skipped: number;
  readonly files: { csv: string; md: string; html: string };
}

export async function runExperiments(gridPath: string, train: TrainFn, options: ExperimentOptions): Promise<ExperimentSummary> {
  const say = options.log ?? ((l: string) => void process.stderr.write(`${l}\n`));
  const grid = loadGrid(gridPath, options.trainFlags);
  const { out, runs } = planRuns(grid, gridPath, options.out);
  for (const r of runs) if (!existsSync(r.dataset)) throw new UserError(`${gridPath}: dataset ${r.dataset} not found`);
  // the finished runs' files feed the reports: a damaged one stops the command before any training
  const damaged: string[] = [];
  for (const r of runs) {
    if (!existsSync(join(r.dir, 'results.json'))) continue;
    try {
      readRunFiles(r.dir);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      damaged.push(e.message);
    }
  }
  if (damaged.length > 0) {
    throw new UserError(damaged.length === 1 ? damaged[0] : `${damaged[0]} (and ${damaged.length - 1} more damaged run file${damaged.length > 2 ? 's' : ''})`);
  }
  await makeDirs(out);
  let ran = 0;
  let skipped = 0;
  const failed: string[] = [];
  for (const [i, r] of runs.entries()) {
    const tag = `[${i + 1}/${runs.length}] ${r.datasetName} ${r.model} ${r.config} seed ${r.seed}`;
    if (existsSync(join(r.dir, 'results.json'))) {
      say(`${tag}: done already, skipped`);
      skipped++;
      continue;
    }
    const resume = existsSync(join(r.dir, 'last.safetensors'));
    say(`${tag}: ${resume ? 'resuming' : 'training'} in ${r.dir}`);
    const opts: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r.flags)) opts[k.replace(/-/g, '_')] = typeof v === 'boolean' ? String(v) : String(v);
    Object.assign(opts, { model: r.model, dataset: r.dataset, train_dir: r.dir, seed: String(r.seed), ...(resume ? { resume: true } : { overwrite: true }) });
    await makeDirs(r.dir);
    try {
      await train(opts, { log: (l) => say(`  ${l}`), out: () => {} });
      ran++;
    } catch (e) {
      // one failing run (a flag one model refuses, a dataset without timestamps) does not stop the grid
      const msg = e instanceof Error ? e.message : String(e);
      say(`${tag}: FAILED: ${msg}`);
      failed.push(`${r.datasetName} ${r.model} ${r.config} seed ${r.seed}: ${msg}`);
    }
  }
  const { damaged: unreadable, ...files } = await writeReports(out, runs);
  say(`wrote ${files.csv}, ${files.md}, ${files.html}`);
  for (const d of unreadable) {
    say(`${d.run.datasetName} ${d.run.model} ${d.run.config} seed ${d.run.seed}: FAILED: ${d.message}`);
    failed.push(`${d.run.datasetName} ${d.run.model} ${d.run.config} seed ${d.run.seed}: ${d.message}`);
  }
  if (failed.length > 0) {
    throw new UserError(`${failed.length} of ${runs.length} runs failed (first: ${failed[0]}); the reports cover the others`);
  }
  return { out, ran, skipped, files };
}

// ---- reports -----------------------------------------------------------------------------------------

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
});

type ResultsData = z.infer<typeof ResultsFile>;
type LogLine = z.infer<typeof LogLineSchema>;

interface Collected {
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
function readRunFiles(dir: string): { results: ResultsData; log: LogLine[] } {
  return { results: readResults(dir), log: readLog(dir) };
}

const metricKey = (row: { split: string; protocol: string }, m: string) => `${row.split} ${row.protocol} ${m}`;

export function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Sample standard deviation (n − 1); 0 for a single value. */
export function std(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
}

const csvCell = (v: unknown) => {
  const s = v === undefined || v === null ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The chart.js UMD build, to inline into report.html. */
function chartJsSource(): string {
  const require = createRequire(import.meta.url);
  const main = require.resolve('chart.js'); // …/chart.js/dist/chart.cjs
  return readFileSync(join(dirname(main), 'chart.umd.min.js'), 'utf8');
}

/**
 * Writes results.csv, results.md and report.html over the finished runs. A run whose results.json or
 * log.jsonl is damaged is left out and returned in `damaged` (with a one-line message naming the file).
 */
export async function writeReports(
  out: string,
  runs: readonly PlannedRun[],
): Promise<{ csv: string; md: string; html: string; damaged: Array<{ run: PlannedRun; message: string }> }> {
  const collected: Collected[] = [];
  const damaged: Array<{ run: PlannedRun; message: string }> = [];
  for (const run of runs) {
    if (!existsSync(join(run.dir, 'results.json'))) continue;
    try {
      collected.push({ run, ...readRunFiles(run.dir) });
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      damaged.push({ run, message: e.message });
    }
  }
  const metricCols: string[] = [];
  for (const c of collected) for (const row of c.results.results) for (const m of Object.keys(row.metrics)) {
    const k = metricKey(row, m);
    if (!metricCols.includes(k)) metricCols.push(k);
  }
  const valueOf = (c: Collected, col: string): number | undefined => {
    for (const row of c.results.results) for (const [m, v] of Object.entries(row.metrics)) if (metricKey(row, m) === col) return v ?? undefined;
    return undefined;
  };
  const gridKeys = [...new Set(runs.flatMap((r) => Object.keys(r.gridValues)))];

  // results.csv: one row per finished run
  const header = ['dataset', 'model', 'config', ...gridKeys, 'seed', 'epochs', 'train_seconds', ...metricCols, 'run_dir'];
  const lines = [header.map(csvCell).join(',')];
  for (const c of collected) {
    lines.push(
      [c.run.datasetName, c.run.model, c.run.config, ...gridKeys.map((k) => c.run.gridValues[k]), c.run.seed, c.log.length,
        c.results.trainSeconds, ...metricCols.map((m) => valueOf(c, m)), c.run.dir].map(csvCell).join(','),
    );
  }
  const csv = join(out, 'results.csv');
  await writeFileAtomic(csv, `${lines.join('\n')}\n`);

  // results.md: mean ± std over seeds per (dataset, model, config)
  const groups = new Map<string, Collected[]>();
  for (const c of collected) {
    const k = `${c.run.datasetName}\u0000${c.run.model}\u0000${c.run.config}`;
    groups.set(k, [...(groups.get(k) ?? []), c]);
  }
  const shownCols = metricCols.filter((m) => m.startsWith('test ')).concat(metricCols.filter((m) => m.startsWith('valid ')));
  const md: string[] = [
    '# Experiment results',
    '',
    `Mean ± sample standard deviation over seeds (n = number of finished seeds). Test metrics are those of the checkpoint with the best valid NDCG@10. Per-run values: results.csv; curves: report.html.`,
    '',
    `| dataset | model | config | n | ${shownCols.join(' | ')} | train s |`,
    `|${' --- |'.repeat(4 + shownCols.length + 1)}`,
  ];
  const cells = (cs: Collected[], col: string) => {
    const xs = cs.map((c) => valueOf(c, col)).filter((x): x is number => x !== undefined);
    return xs.length === 0 ? '-' : `${mean(xs).toFixed(4)} ± ${std(xs).toFixed(4)}`;
  };
  for (const cs of groups.values()) {
    const r = cs[0].run;
    const secs = cs.map((c) => c.results.trainSeconds ?? 0);
    md.push(`| ${r.datasetName} | ${r.model} | ${r.config} | ${cs.length} | ${shownCols.map((col) => cells(cs, col)).join(' | ')} | ${mean(secs).toFixed(1)} |`);
  }
  const missing = runs.length - collected.length;
  if (missing > 0) md.push('', `${missing} of ${runs.length} runs have not finished yet.`);
  const mdPath = join(out, 'results.md');
  await writeFileAtomic(mdPath, `${md.join('\n')}\n`);

  // report.html: per config, loss and valid NDCG@10 per epoch, one line per seed
  const charts = [...groups.values()].map((cs) => ({
    title: `${cs[0].run.datasetName} · ${cs[0].run.model} · ${cs[0].run.config}`,
    seeds: cs.map((c) => ({
      seed: c.run.seed,
      loss: c.log.map((l) => ({ x: l.epoch, y: l.loss })),
      ndcg: c.log.filter((l) => l.valid && l.valid['NDCG@10'] !== undefined).map((l) => ({ x: l.epoch, y: l.valid!['NDCG@10'] })),
    })),
  }));
  const tableRows = [...groups.values()]
    .map((cs) => {
      const r = cs[0].run;
      return `<tr><td>${escapeHtml(r.datasetName)}</td><td>${escapeHtml(r.model)}</td><td>${escapeHtml(r.config)}</td><td>${cs.length}</td>${shownCols
        .map((col) => `<td>${escapeHtml(cells(cs, col))}</td>`)
        .join('')}</tr>`;
    })
    .join('\n');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>seqrec experiments</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px;color:#222}
table{border-collapse:collapse;margin-bottom:24px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
td:nth-child(-n+3),th:nth-child(-n+3){text-align:left}
.card{display:inline-block;vertical-align:top;margin:0 16px 24px 0}.card h2{font-size:15px}
.pair{display:flex;gap:12px}.pair div{width:420px;height:260px}
</style></head><body>
<h1>seqrec experiments</h1>
<p>Mean ± sample std over seeds; test metrics of the best-valid checkpoint.</p>
<table><thead><tr><th>dataset</th><th>model</th><th>config</th><th>n</th>${shownCols.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead>
<tbody>${tableRows}</tbody></table>
<div id="charts"></div>
<script>${chartJsSource().replace(/<\/script/gi, '<\\/script')}</script>
<script>
const DATA = ${JSON.stringify(charts).replace(/</g, '\\u003c')};
const COLORS = ['#1f77b4','#ff7f0e','#2ca02c','#d62728','#9467bd','#8c564b','#e377c2','#7f7f7f'];
const root = document.getElementById('charts');
function chart(parent, title, series, key, yLabel) {
  const box = document.createElement('div');
  const canvas = document.createElement('canvas');
  box.appendChild(canvas);
  parent.appendChild(box);
  new Chart(canvas, {
    type: 'line',
    data: { datasets: series.map((s, i) => ({ label: 'seed ' + s.seed, data: s[key], borderColor: COLORS[i % COLORS.length], backgroundColor: COLORS[i % COLORS.length], pointRadius: 2, tension: 0 })) },
    options: { animation: false, responsive: true, maintainAspectRatio: false, parsing: true,
      plugins: { title: { display: true, text: title } },
      scales: { x: { type: 'linear', title: { display: true, text: 'epoch' } }, y: { title: { display: true, text: yLabel } } } },
  });
}
for (const g of DATA) {
  const card = document.createElement('div');
  card.className = 'card';
  const h = document.createElement('h2');
  h.textContent = g.title;
  card.appendChild(h);
  const pair = document.createElement('div');
  pair.className = 'pair';
  card.appendChild(pair);
  root.appendChild(card);
  if (g.seeds.every((s) => s.loss.length === 0)) {
    pair.textContent = 'no training curve (the model trains without epochs)';
    continue;
  }
  chart(pair, 'training loss', g.seeds, 'loss', 'loss');
  chart(pair, 'valid NDCG@10', g.seeds, 'ndcg', 'NDCG@10');
}
</script></body></html>
`;
  const htmlPath = join(out, 'report.html');
  await writeFileAtomic(htmlPath, html);
  return { csv, md: mdPath, html: htmlPath, damaged };
}

/**
 * The reports of an experiment: results.csv (one row per finished run), results.md (mean ± sample std
 * over seeds per config) and report.html (training curves; chart.js inlined, so it works offline).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { UserError } from '../core/errors.js';
import { writeFileAtomic } from '../io/atomic.js';
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
export function readRunFiles(dir: string): { results: ResultsData; log: LogLine[] } {
  return { results: readResults(dir), log: readLog(dir) };
}

/** The epoch whose valid NDCG@10 was the best (the checkpoint a run reports), when the log has evaluations. */
function bestEpoch(c: Collected): number | undefined {
  let best: LogLine | undefined;
  for (const l of c.log) {
    const v = l.valid?.['NDCG@10'];
    if (v === undefined || v === null) continue;
    if (best === undefined || v > (best.valid!['NDCG@10'] as number)) best = l;
  }
  return best?.epoch;
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
  for (const c of collected)
    for (const row of c.results.results)
      for (const m of Object.keys(row.metrics)) {
        const k = metricKey(row, m);
        if (!metricCols.includes(k)) metricCols.push(k);
      }
  const metricOf = (c: Collected, col: string): number | undefined => {
    for (const row of c.results.results) for (const [m, v] of Object.entries(row.metrics)) if (metricKey(row, m) === col) return v ?? undefined;
    return undefined;
  };
  const gridKeys = [...new Set(runs.flatMap((r) => Object.keys(r.gridValues)))];

  // results.csv: one row per finished run
  const header = ['dataset', 'model', 'config', ...gridKeys, 'seed', 'epochs', 'best_epoch', 'train_seconds', ...metricCols, 'run_dir'];
  const lines = [header.map(csvCell).join(',')];
  for (const c of collected) {
    lines.push(
      [
        c.run.datasetName,
        c.run.model,
        c.run.config,
        ...gridKeys.map((k) => c.run.gridValues[k]),
        c.run.seed,
        c.log.length,
        bestEpoch(c),
        c.results.trainSeconds,
        ...metricCols.map((m) => metricOf(c, m)),
        c.run.dir,
      ]
        .map(csvCell)
        .join(','),
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
    `| dataset | model | config | n | ${shownCols.join(' | ')} | best epoch | train s |`,
    `|${' --- |'.repeat(4 + shownCols.length + 2)}`,
  ];
  const cells = (cs: Collected[], col: string) => {
    const xs = cs.map((c) => metricOf(c, col)).filter((x): x is number => x !== undefined);
    return xs.length === 0 ? '-' : `${mean(xs).toFixed(4)} ± ${std(xs).toFixed(4)}`;
  };
  for (const cs of groups.values()) {
    const r = cs[0].run;
    const secs = cs.map((c) => c.results.trainSeconds ?? 0);
    const best = cs.map(bestEpoch).filter((e): e is number => e !== undefined);
    const bestCell = best.length === 0 ? '-' : `${mean(best).toFixed(0)}`;
    md.push(
      `| ${r.datasetName} | ${r.model} | ${r.config} | ${cs.length} | ${shownCols.map((col) => cells(cs, col)).join(' | ')} | ${bestCell} | ${mean(secs).toFixed(1)} |`,
    );
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

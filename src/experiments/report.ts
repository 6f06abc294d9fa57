/**
 * The reports of an experiment: results.csv (one row per finished run), results.md (mean ± sample std
 * over seeds per config, differences against a baseline paired by seed; the grid's paper table,
 * per-epoch timings and parameter sweep when it asks for them), report.html (the same tables, training curves and figures) and the sweep's SVG charts.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../core/errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { PlannedRun, SweepFigureSpec, TableSpec, TimeFigureSpec } from './grid.js';
import { type BaselineSpec, pairedColumns, seedPairCells, seedPairedDifferences, seedPairsMarkdown } from './seed-pairs.js';
import { buildPaperTable, paperTableMarkdown } from './paper-table.js';
import { reportHtml } from './report-html.js';
import { readRunAttention } from './run-attention.js';
import { bestEpoch, type Collected, mean, metricKey, metricOf, type RunGroup, readRunFiles, std } from './run-files.js';
import { buildSweepFigure, sweepMarkdown, sweepSvgs } from './sweep-figure.js';
import { buildTimeFigure, timingMarkdown } from './time-figure.js';

/** What the grid asks the reports to show beyond the per-config table. */
export interface ReportLayout {
  readonly table?: TableSpec;
  readonly timeFigure?: TimeFigureSpec;
  readonly sweepFigure?: SweepFigureSpec;
  /** what the paired-by-seed differences are taken against (default: each dataset's first config) */
  readonly baseline?: BaselineSpec;
}

const csvCell = (v: unknown) => {
  const s = v === undefined || v === null ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/**
 * Writes results.csv, results.md and report.html over the finished runs. A run whose results.json or
 * log.jsonl is damaged is left out and returned in `damaged` (with a one-line message naming the file).
 */
export async function writeReports(
  out: string,
  runs: readonly PlannedRun[],
  layout: ReportLayout = {},
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
  const byKey = new Map<string, Collected[]>();
  for (const c of collected) {
    const k = `${c.run.datasetName}\u0000${c.run.model}\u0000${c.run.config}`;
    byKey.set(k, [...(byKey.get(k) ?? []), c]);
  }
  const groups: RunGroup[] = [...byKey.values()].map((cs) => ({
    datasetName: cs[0].run.datasetName,
    model: cs[0].run.model,
    config: cs[0].run.config,
    runs: cs,
  }));
  const shownCols = metricCols.filter((m) => m.startsWith('test ')).concat(metricCols.filter((m) => m.startsWith('valid ')));
  const md: string[] = [
    '# Experiment results',
    '',
    `Mean ± sample standard deviation over seeds (n = number of finished seeds). Test metrics are those of each run's best-valid checkpoint (valid NDCG@10 unless the run says otherwise: --select_metric, --select_protocol; valid AUC for --task ctr). Per-run values: results.csv; curves: report.html.`,
    '',
    `| dataset | model | config | n | ${shownCols.join(' | ')} | best epoch | train s |`,
    `|${' --- |'.repeat(4 + shownCols.length + 2)}`,
  ];
  const cells = (cs: readonly Collected[], col: string) => {
    const xs = cs.map((c) => metricOf(c, col)).filter((x): x is number => x !== undefined);
    return xs.length === 0 ? '-' : `${mean(xs).toFixed(4)} ± ${std(xs).toFixed(4)}`;
  };
  for (const { runs: cs } of groups) {
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
  const pairCols = pairedColumns(shownCols);
  const pairs = seedPairedDifferences(groups, pairCols, layout.baseline);
  if (pairs.length > 0) md.push('', seedPairsMarkdown(pairs, pairCols).trimEnd());
  const datasets = [...new Set(runs.map((r) => r.datasetName))];
  const seeds = new Set(runs.map((r) => r.seed)).size;
  const table = layout.table ? buildPaperTable(layout.table, groups, datasets, seeds) : undefined;
  const figure = layout.timeFigure ? buildTimeFigure(layout.timeFigure, groups, datasets) : undefined;
  if (table) md.push('', paperTableMarkdown(table, layout.table!.protocol).trimEnd());
  if (figure) md.push('', timingMarkdown(figure).trimEnd());
  const sweep = layout.sweepFigure ? buildSweepFigure(layout.sweepFigure, collected, datasets) : undefined;
  const sweepCharts = sweep ? sweepSvgs(sweep) : [];
  if (sweep) md.push('', sweepMarkdown(sweep).trimEnd());
  for (const c of sweepCharts) await writeFileAtomic(join(out, c.name), c.svg);
  const mdPath = join(out, 'results.md');
  await writeFileAtomic(mdPath, `${md.join('\n')}\n`);

  const htmlPath = join(out, 'report.html');
  await writeFileAtomic(
    htmlPath,
    reportHtml({
      summary: {
        columns: shownCols,
        rows: groups.map((g) => [g.datasetName, g.model, g.config, String(g.runs.length), ...shownCols.map((col) => cells(g.runs, col))]),
      },
      ...(pairs.length > 0 ? { pairs: { columns: pairCols, rows: pairs.map(seedPairCells) } } : {}),
      curves: groups.map((g) => ({
        title: `${g.datasetName} · ${g.model} · ${g.config}`,
        seeds: g.runs.map((c) => ({
          seed: c.run.seed,
          loss: c.log.map((l) => ({ x: l.epoch, y: l.loss })),
          ndcg: c.log.filter((l) => l.valid && l.valid['NDCG@10'] !== undefined).map((l) => ({ x: l.epoch, y: l.valid!['NDCG@10'] })),
        })),
      })),
      ...(table ? { table } : {}),
      ...(figure ? { figure } : {}),
      ...(sweep ? { sweep: { figure: sweep, charts: sweepCharts } } : {}),
      attention: collected.flatMap((c) => {
        // a damaged explain.json leaves that run's attention out rather than the whole report
        let a: ReturnType<typeof readRunAttention>;
        try {
          a = readRunAttention(c.run.dir);
        } catch (e) {
          if (!(e instanceof UserError)) throw e;
          a = undefined;
        }
        return a ? [{ title: `${c.run.datasetName} · ${c.run.model} · ${c.run.config} · seed ${c.run.seed}`, attention: a }] : [];
      }),
    }),
  );
  return { csv, md: mdPath, html: htmlPath, damaged };
}

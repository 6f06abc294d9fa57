/**
 * report.html: the summary table, the differences paired by seed, the paper table when the grid has
 * one, per config the training loss and valid NDCG@10 per epoch (one line per seed), the
 * accuracy-against-time figure and the parameter sweep (inline SVG).
 * chart.js is inlined, so the page works offline.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { PaperTable } from './paper-table.js';
import { attentionHtml, type RunAttention } from './run-attention.js';
import { formatMeanStd, type SweepFigure } from './sweep-figure.js';
import type { TimeFigure } from './time-figure.js';
import { escapeMarkup } from './markup.js';

export interface CurveGroup {
  readonly title: string;
  readonly seeds: ReadonlyArray<{
    seed: number;
    loss: ReadonlyArray<{ x: number; y: number | null }>;
    ndcg: ReadonlyArray<{ x: number; y: number | null | undefined }>;
  }>;
}

export interface ReportContent {
  /** the per-config table: dataset, model, config, n, then one cell per metric column */
  readonly summary: { columns: readonly string[]; rows: ReadonlyArray<readonly string[]> };
  /** differences against the baseline paired by seed: dataset, model, config, baseline, then one cell per column */
  readonly pairs?: { columns: readonly string[]; rows: ReadonlyArray<readonly string[]> };
  readonly curves: readonly CurveGroup[];
  readonly table?: PaperTable;
  readonly figure?: TimeFigure;
  /** the parameter sweep's table and its charts as SVG text */
  readonly sweep?: { readonly figure: SweepFigure; readonly charts: ReadonlyArray<{ title: string; svg: string }> };
  /** runs whose directory holds `seqrec explain` output: a title and its readings and heatmaps */
  readonly attention?: ReadonlyArray<{ readonly title: string; readonly attention: RunAttention }>;
}

/** The chart.js UMD build, to inline into report.html. */
function chartJsSource(): string {
  const require = createRequire(import.meta.url);
  const main = require.resolve('chart.js'); // …/chart.js/dist/chart.cjs
  return readFileSync(join(dirname(main), 'chart.umd.min.js'), 'utf8');
}

const row = (cells: readonly string[], tag = 'td') => `<tr>${cells.map((c) => `<${tag}>${escapeMarkup(c)}</${tag}>`).join('')}</tr>`;

function paperTableHtml(t: PaperTable): string {
  const head = row(['dataset', 'metric', '', ...t.header, ...t.improvementHeader], 'th');
  const body = t.rows.map((r) => row([r.source === 'ours' ? r.dataset : '', r.metric, r.source, ...r.cells, ...r.improvements])).join('\n');
  const notes = t.notes.length === 0 ? '' : `<ul>${t.notes.map((n) => `<li>${escapeMarkup(n)}</li>`).join('')}</ul>`;
  return `<h2>${escapeMarkup(t.title)}</h2>
<p>Test metrics of the best-valid checkpoint: ours as mean ± sample std over seeds, the paper's below; improvement: the method named over the best of the group.</p>
<table class="paper"><thead>${head}</thead><tbody>${body}</tbody></table>${notes}`;
}

function timingHtml(f: TimeFigure): string {
  const head = row(['dataset', 'model', 'runs', 's / epoch', `× ${f.baseline}`, 's to best valid NDCG@10'], 'th');
  const body = f.timings
    .map((t) =>
      row([
        t.dataset,
        t.model,
        String(t.runs),
        `${t.secondsPerEpoch.mean.toFixed(2)} ± ${t.secondsPerEpoch.std.toFixed(2)}`,
        t.vsBaseline === undefined ? '–' : t.vsBaseline.toFixed(2),
        t.secondsToBest === undefined ? '–' : t.secondsToBest.toFixed(0),
      ]),
    )
    .join('\n');
  return `<h2>${escapeMarkup(f.title)}</h2>
<p>Valid NDCG@10 at each evaluation against the training seconds spent so far (evaluation excluded); one line per model and seed.</p>
<div id="time-charts"></div>
<table><thead>${head}</thead><tbody>${body}</tbody></table>`;
}

function sweepHtml(sweep: NonNullable<ReportContent['sweep']>): string {
  const { spec, charts } = sweep.figure;
  const tables = charts.flatMap((c) =>
    c.series.map((s) => {
      const head = row([`${c.dataset} · ${s.label}`, ...s.points.map((p) => `${spec.param} ${p.x}`)], 'th');
      const body = [
        row([`test ${spec.protocol} ${spec.metric}`, ...s.points.map((p) => formatMeanStd(p.metric, 4))]),
        row(['fastest epoch (s)', ...s.points.map((p) => formatMeanStd(p.epochSeconds, 2))]),
        row(['epochs trained', ...s.points.map((p) => p.epochs.toFixed(0))]),
        row(['seeds', ...s.points.map((p) => String(p.runs))]),
      ].join('\n');
      return `<table><thead>${head}</thead><tbody>${body}</tbody></table>`;
    }),
  );
  const paper = spec.paper
    ? `<p>Hollow markers: ${escapeMarkup(spec.paper.label)}; its time is drawn relative to its smallest ${escapeMarkup(spec.param)}, as ours is.</p>`
    : '';
  return `<h2>${escapeMarkup(spec.title)}</h2>
<p>Mean ± sample std over seeds; each run's fastest training epoch (evaluation excluded; other processes on the machine slow the rest).</p>
${tables.join('\n')}${paper}
<div class="sweep">${sweep.charts.map((c) => `<figure>${c.svg}</figure>`).join('\n')}</div>`;
}

function pairsHtml(pairs: NonNullable<ReportContent['pairs']>): string {
  const head = row(['dataset', 'model', 'config', 'vs', ...pairs.columns.map((c) => `Δ ${c}`)], 'th');
  return `<h2>Paired by seed</h2>
<p>Each config minus the baseline on the same seed: mean ± sample std of the differences (seeds where the config is higher / seeds paired).</p>
<table><thead>${head}</thead><tbody>${pairs.rows.map((r) => row(r)).join('\n')}</tbody></table>`;
}

export function reportHtml(content: ReportContent): string {
  const { summary, pairs, curves, table, figure, sweep, attention = [] } = content;
  const summaryRows = summary.rows.map((r) => row(r)).join('\n');
  const timeCharts = (figure?.charts ?? []).map((c) => ({
    dataset: c.dataset,
    series: c.series.map((s) => ({ label: `${s.model} · seed ${s.seed}`, model: s.model, points: s.points })),
  }));
  const models = [...new Set(timeCharts.flatMap((c) => c.series.map((s) => s.model)))];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>seqrec experiments</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px;color:#222}
table{border-collapse:collapse;margin-bottom:24px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
td:nth-child(-n+3),th:nth-child(-n+3){text-align:left}
.card{display:inline-block;vertical-align:top;margin:0 16px 24px 0}.card h2{font-size:15px}
.pair{display:flex;gap:12px}.pair div{width:420px;height:260px}
#time-charts{display:flex;flex-wrap:wrap;gap:16px}#time-charts div{width:560px;height:340px}
.sweep{display:flex;flex-wrap:wrap;gap:16px}.sweep figure{margin:0}
</style></head><body>
<h1>seqrec experiments</h1>
<p>Mean ± sample std over seeds; test metrics of the best-valid checkpoint.</p>
<table><thead><tr><th>dataset</th><th>model</th><th>config</th><th>n</th>${summary.columns.map((c) => `<th>${escapeMarkup(c)}</th>`).join('')}</tr></thead>
<tbody>${summaryRows}</tbody></table>
${pairs ? pairsHtml(pairs) : ''}
${table ? paperTableHtml(table) : ''}
${figure ? timingHtml(figure) : ''}
${sweep ? sweepHtml(sweep) : ''}
<div id="charts"></div>
${attention.map((a) => attentionHtml(`Attention: ${a.title}`, a.attention)).join('\n')}
<script>${chartJsSource().replace(/<\/script/gi, '<\\/script')}</script>
<script>
const DATA = ${JSON.stringify(curves).replace(/</g, '\\u003c')};
const TIME = ${JSON.stringify(timeCharts).replace(/</g, '\\u003c')};
const MODELS = ${JSON.stringify(models).replace(/</g, '\\u003c')};
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
const timeRoot = document.getElementById('time-charts');
for (const c of TIME) {
  const box = document.createElement('div');
  const canvas = document.createElement('canvas');
  box.appendChild(canvas);
  timeRoot.appendChild(box);
  new Chart(canvas, {
    type: 'line',
    data: { datasets: c.series.map((s) => { const color = COLORS[MODELS.indexOf(s.model) % COLORS.length]; return { label: s.label, data: s.points, borderColor: color, backgroundColor: color, pointRadius: 2, tension: 0 }; }) },
    options: { animation: false, responsive: true, maintainAspectRatio: false, parsing: true,
      plugins: { title: { display: true, text: c.dataset + ': valid NDCG@10 against training time' } },
      scales: { x: { type: 'linear', title: { display: true, text: 'training seconds' } }, y: { title: { display: true, text: 'NDCG@10' } } } },
  });
}
</script></body></html>
`;
}

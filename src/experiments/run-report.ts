/**
 * One run directory as a self-contained offline HTML page: the training curves (loss per epoch and
 * valid NDCG@10 per evaluation, from log.jsonl), the results table (results.json) and, when the run
 * directory holds `seqrec explain` output (explain.json, and SVG heatmaps in attention/), the
 * attention readings and heatmaps. No scripts, no external resources.
 */
import { attentionHtml, type RunAttention } from './run-attention.js';
import { escapeMarkup } from './markup.js';

export interface LogLine {
  readonly epoch: number;
  readonly loss?: number;
  readonly valid?: Readonly<Record<string, number>>;
}

export interface ResultRow {
  readonly protocol: string;
  readonly split: string;
  readonly users: number;
  readonly metrics: Readonly<Record<string, number>>;
}

export interface RunReportInput {
  readonly title: string;
  readonly log: readonly LogLine[];
  readonly results: readonly ResultRow[];
  readonly attention?: RunAttention;
}

/** A small line chart of (x, y) points as inline SVG. */
export function lineChartSvg(points: ReadonlyArray<readonly [number, number]>, title: string): string {
  const w = 420;
  const h = 220;
  const pad = 40;
  if (points.length === 0) return `<p>${escapeMarkup(title)}: no data</p>`;
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const sx = (x: number) => pad + ((x - x0) / (x1 - x0 || 1)) * (w - 2 * pad);
  const sy = (y: number) => h - pad - ((y - y0) / (y1 - y0 || 1)) * (h - 2 * pad);
  const path = points.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="10">`,
    `<text x="${pad}" y="14" font-size="12">${escapeMarkup(title)}</text>`,
    `<rect x="${pad}" y="${pad}" width="${w - 2 * pad}" height="${h - 2 * pad}" fill="none" stroke="#ccc"/>`,
    `<path d="${path}" fill="none" stroke="#08306b" stroke-width="1.5"/>`,
    `<text x="${pad - 4}" y="${sy(y1) + 3}" text-anchor="end">${y1.toFixed(3)}</text>`,
    `<text x="${pad - 4}" y="${sy(y0) + 3}" text-anchor="end">${y0.toFixed(3)}</text>`,
    `<text x="${sx(x0)}" y="${h - pad + 14}">${x0}</text>`,
    `<text x="${sx(x1)}" y="${h - pad + 14}" text-anchor="end">${x1} (epoch)</text>`,
    '</svg>',
  ].join('\n');
}

function resultsTable(rows: readonly ResultRow[]): string {
  if (rows.length === 0) return '<p>No results.json in this run.</p>';
  const metrics: string[] = [];
  for (const r of rows) for (const k of Object.keys(r.metrics)) if (!metrics.includes(k)) metrics.push(k);
  const head = ['protocol', 'split', 'users', ...metrics].map((h) => `<th>${escapeMarkup(h)}</th>`).join('');
  const body = rows
    .map(
      (r) =>
        `<tr><td>${escapeMarkup(r.protocol)}</td><td>${escapeMarkup(r.split)}</td><td>${r.users}</td>` +
        metrics.map((m) => `<td>${r.metrics[m] === undefined ? '-' : r.metrics[m].toFixed(4)}</td>`).join('') +
        '</tr>',
    )
    .join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

export function runReportHtml(input: RunReportInput): string {
  const loss = input.log.filter((l) => typeof l.loss === 'number').map((l) => [l.epoch, l.loss!] as const);
  const ndcg = input.log.filter((l) => typeof l.valid?.['NDCG@10'] === 'number').map((l) => [l.epoch, l.valid!['NDCG@10']] as const);
  const attention = input.attention ? attentionHtml('Attention', input.attention) : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeMarkup(input.title)}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}figure{display:inline-block;margin:0 1em 1em 0}</style>
</head><body>
<h1>${escapeMarkup(input.title)}</h1>
<h2>Training</h2>
${lineChartSvg(loss, 'training loss')}
${lineChartSvg(ndcg, 'valid NDCG@10')}
<h2>Results</h2>
${resultsTable(input.results)}
${attention}
</body></html>
`;
}

/**
 * Valid NDCG@10 against the epoch for groups of finished experiment runs, as one SVG chart: each
 * group is a folder of seed-N run folders (an experiments grid's runs/<dataset>/<model>/<config>),
 * drawn as the mean over its seeds at each evaluated epoch, ± the sample std where several seeds
 * reached that epoch. Runs still in progress (no results.json) are left out.
 *
 *   node --import tsx scripts/figures/valid-curves.ts --title "Games" --out docs/images/x.svg \
 *     "SASRec CE=grids/results/issue16-games/runs/Video/sasrec/loss=ce" "BERT4Rec=…"
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { type ChartSeries, lineChartSvg } from '../../src/experiments/line-chart-svg.js';
import { mean, readRunFiles, std } from '../../src/experiments/run-files.js';

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

function groupSeries(label: string, dir: string, color: string): ChartSeries {
  const seeds = readdirSync(dir).filter((d) => /^seed-\d+$/.test(d) && existsSync(join(dir, d, 'results.json')));
  if (seeds.length === 0) throw new Error(`${dir}: no finished seed-N run folder`);
  const byEpoch = new Map<number, number[]>();
  for (const seed of seeds) {
    for (const line of readRunFiles(join(dir, seed)).log) {
      const v = line.valid?.['NDCG@10'];
      if (v === undefined || v === null) continue;
      byEpoch.set(line.epoch, [...(byEpoch.get(line.epoch) ?? []), v]);
    }
  }
  const points = [...byEpoch].map(([x, ys]) => ({ x, y: mean(ys), err: std(ys) }));
  return { label: `${label} (${seeds.length} seed${seeds.length > 1 ? 's' : ''})`, color, points };
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { title: { type: 'string' }, out: { type: 'string' } },
});
if (!values.title || !values.out || positionals.length === 0) {
  console.error('usage: valid-curves.ts --title T --out FILE.svg "label=runs/<dataset>/<model>/<config>" …');
  process.exit(2);
}
const series = positionals.map((arg, i) => {
  const at = arg.indexOf('=');
  if (at <= 0) throw new Error(`expected label=folder, got "${arg}"`);
  return groupSeries(arg.slice(0, at), arg.slice(at + 1), COLORS[i % COLORS.length]);
});
const svg = lineChartSvg({ title: values.title, xLabel: 'epoch', yLabel: 'valid full-ranking NDCG@10', series }, 640, 340);
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, svg);
console.log(`wrote ${values.out}`);

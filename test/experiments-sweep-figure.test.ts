import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { writeRingDataset } from './helpers/datasets.js';
import { testTempDir } from './helpers/tmp.js';
import { loadGrid } from '../src/experiments/grid.js';
import { lineChartSvg, niceTicks } from '../src/experiments/line-chart-svg.js';
import { runExperiments, type TrainFn } from '../src/experiments/run.js';
import { mean, std } from '../src/experiments/run-files.js';

const dir = testTempDir('seqrec-sweep-');
writeRingDataset(join(dir, 'ring.txt'), { users: 20, length: () => 6 });

// A run's test NDCG@10 and epoch times, made up from its flags: the figure must report exactly these.
const ndcgOf = (maxlen: number, seed: number, heads: number) => 0.3 + maxlen / 1000 + seed / 100 + heads / 10;
const epochTimes = (maxlen: number, seed: number) => [maxlen / 100 + seed, maxlen / 200 + seed / 10, maxlen / 50];

const fakeTrain: TrainFn = async (opts) => {
  const [maxlen, seed, heads] = [Number(opts.maxlen), Number(opts.seed), Number(opts.num_heads ?? 1)];
  const d = String(opts.train_dir);
  const log = epochTimes(maxlen, seed).map((seconds, i) => JSON.stringify({ epoch: i + 1, loss: 1 / (i + 1), seconds }));
  writeFileSync(join(d, 'log.jsonl'), `${log.join('\n')}\n`);
  const results = [{ protocol: 'sampled', split: 'test', metrics: { 'NDCG@10': ndcgOf(maxlen, seed, heads) } }];
  writeFileSync(join(d, 'results.json'), JSON.stringify({ results, trainSeconds: 1 }));
};

function writeGrid(name: string, lines: readonly string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${['datasets: [ring.txt]', 'models: [sasrec]', 'seeds: [1, 2]', `out: ${name}-out`, ...lines].join('\n')}\n`);
  return path;
}

const sweep = [
  'grid: { maxlen: [10, 50, 100] }',
  'sweep_figure:',
  '  title: "NDCG against n"',
  '  param: maxlen',
  '  paper: { label: "paper, other data", points: [{ x: 10, metric: 0.48, seconds: 75 }, { x: 100, metric: 0.595, seconds: 1895 }] }',
];

test('niceTicks gives round steps that cover the range', () => {
  assert.deepEqual(niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(0.33, 0.61), [0.4, 0.5, 0.6]);
  assert.deepEqual(niceTicks(1, 34), [10, 20, 30]);
  assert.deepEqual(niceTicks(3, 3), [3]);
});

test('a line chart draws each point with its error bar and leaves reference points unjoined', () => {
  const svg = lineChartSvg({
    title: 't <1>',
    xLabel: 'x',
    yLabel: 'y',
    series: [
      {
        label: 'ours',
        color: '#111',
        points: [
          { x: 1, y: 2, err: 0.5 },
          { x: 3, y: 4 },
        ],
      },
      {
        label: 'paper',
        color: '#222',
        points: [
          { x: 1, y: 3 },
          { x: 3, y: 5 },
        ],
        reference: true,
      },
    ],
  });
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.equal((svg.match(/<polyline /g) ?? []).length, 1, 'only the measured series is joined');
  assert.equal((svg.match(/<circle cx="[\d.]+" cy="[\d.]+" r="[34]" /g) ?? []).length, 4, 'one marker per point');
  assert.ok(svg.includes('ours: 1 → 2.000 ± 0.50'), 'the tooltip gives the value and its error');
  assert.ok(svg.includes('t &lt;1&gt;'), 'text is escaped');
});

test('sweep_figure: a metric and the fastest epoch against a grid key, mean ± std over seeds, as a table and two SVG charts; --report_only trains nothing', async () => {
  const grid = writeGrid('sweep', sweep);
  const summary = await runExperiments(grid, { train: fakeTrain, log: () => {} });
  assert.equal(summary.ran, 6);
  const out = join(dir, 'sweep-out');
  const md = readFileSync(join(out, 'results.md'), 'utf8');
  const section = md.slice(md.indexOf('## NDCG against n'));
  assert.ok(section.length > 0 && md.includes('## NDCG against n'), md);
  const rowOf = (name: string) => section.split('\n').find((l) => l.startsWith(`| ${name} |`))!;
  assert.equal(
    section.split('\n').find((l) => l.startsWith('| ring · sasrec · maxlen')),
    '| ring · sasrec · maxlen | 10 | 50 | 100 |',
  );
  const cells = [10, 50, 100].map((n) => {
    const xs = [ndcgOf(n, 1, 1), ndcgOf(n, 2, 1)];
    return `${mean(xs).toFixed(4)} ± ${std(xs).toFixed(4)}`;
  });
  assert.equal(rowOf('NDCG@10'), `| NDCG@10 | ${cells.join(' | ')} |`);
  const fastest = [10, 50, 100].map((n) => {
    const xs = [Math.min(...epochTimes(n, 1)), Math.min(...epochTimes(n, 2))];
    return `${mean(xs).toFixed(2)} ± ${std(xs).toFixed(2)}`;
  });
  assert.equal(rowOf('fastest epoch (s)'), `| fastest epoch (s) | ${fastest.join(' | ')} |`);
  assert.equal(rowOf('epochs trained'), '| epochs trained | 3 | 3 | 3 |');
  assert.equal(rowOf('seeds'), '| seeds | 2 | 2 | 2 |');
  assert.match(section, /paper, other data: maxlen 10: NDCG@10 0\.48, 75 s; maxlen 100: NDCG@10 0\.595, 1895 s\./);

  const metricSvg = readFileSync(join(out, 'sweep-ring-maxlen-metric.svg'), 'utf8');
  const timeSvg = readFileSync(join(out, 'sweep-ring-maxlen-time.svg'), 'utf8');
  const m50 = mean([ndcgOf(50, 1, 1), ndcgOf(50, 2, 1)]);
  assert.ok(metricSvg.includes(`50 → ${m50.toPrecision(4)} ± `), 'the metric chart plots the mean with its std');
  assert.ok(metricSvg.includes(`paper, other data: 100 → ${(0.595).toPrecision(4)}`), 'and the paper’s points');
  // time relative to the smallest value: ours from the fastest epochs, the paper's from its seconds
  const fast = (n: number) => mean([Math.min(...epochTimes(n, 1)), Math.min(...epochTimes(n, 2))]);
  assert.ok(timeSvg.includes(`100 → ${(fast(100) / fast(10)).toPrecision(4)}`), timeSvg);
  assert.ok(timeSvg.includes(`paper, other data: 100 → ${(1895 / 75).toPrecision(4)}`));
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  assert.ok(
    html.includes('<h2>NDCG against n</h2>') && html.includes(metricSvg.trim()) && html.includes(timeSvg.trim()),
    'the report inlines both charts',
  );

  // a new seed in the grid: --report_only redraws over the finished runs and trains nothing
  writeFileSync(grid, readFileSync(grid, 'utf8').replace('seeds: [1, 2]', 'seeds: [1, 2, 3]'));
  const again = await runExperiments(grid, { train: async () => assert.fail('trained'), log: () => {}, reportOnly: true });
  assert.equal(again.ran, 0);
  assert.equal(again.deferred, 3);
  assert.match(readFileSync(join(out, 'results.md'), 'utf8'), /3 of 9 runs have not finished yet/);
});

test('sweep_figure: one series per value of the grid’s other keys', async () => {
  const grid = writeGrid('sweep2', [
    ...sweep.map((l) => l.replace('grid: { maxlen: [10, 50, 100] }', 'grid: { maxlen: [10, 50], num_heads: [1, 2] }')),
  ]);
  await runExperiments(grid, { train: fakeTrain, log: () => {} });
  const md = readFileSync(join(dir, 'sweep2-out', 'results.md'), 'utf8');
  const heads = (h: number) => md.split('\n').indexOf(`| ring · sasrec num_heads=${h} · maxlen | 10 | 50 |`);
  assert.ok(heads(1) > 0 && heads(2) > 0, md);
  const row2 = md.split('\n')[heads(2) + 2];
  const x = [ndcgOf(10, 1, 2), ndcgOf(10, 2, 2)];
  assert.ok(row2.startsWith(`| NDCG@10 | ${mean(x).toFixed(4)} ± ${std(x).toFixed(4)} |`), row2);
});

test('sweep_figure is checked before any run: its param must be a grid key with numbers', async () => {
  const notKey = writeGrid('bad1', ['grid: { maxlen: [10, 50] }', 'sweep_figure: { param: hidden_units }']);
  assert.throws(() => loadGrid(notKey), /bad1: sweep_figure\.param: "hidden_units" is not a key of grid \(maxlen\)/);
  const words = writeGrid('bad2', ['grid: { loss: [bce, ce] }', 'sweep_figure: { param: loss }']);
  assert.throws(() => loadGrid(words), /bad2: sweep_figure\.param: grid\.loss has values that are not numbers/);
  const r = await runCli(['experiments', notKey]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^seqrec: .*sweep_figure\.param: "hidden_units" is not a key of grid \(maxlen\)\n$/);
  assert.ok(!existsSync(join(dir, 'bad1-out')), 'nothing written');
  const both = await runCli(['experiments', notKey, '--report_only', '--seeds', '1']);
  assert.equal(both.code, 2);
  assert.equal(both.stderr, 'seqrec: --report_only trains nothing: it takes none of --join, --seeds, --only\n');
});

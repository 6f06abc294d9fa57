import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testTempDir } from './helpers/tmp.js';
import { loadGrid, type PlannedRun, planRuns } from '../src/experiments/grid.js';
import { writeReports } from '../src/experiments/report.js';
import type { Collected, RunGroup } from '../src/experiments/run-files.js';
import { formatPairedCell, pairedColumns, seedPairedDifferences } from '../src/experiments/seed-pairs.js';
import { trainOptionNames } from '../src/train/request.js';

const dir = testTempDir('seqrec-seed-pairs-');

function collected(datasetName: string, model: string, config: string, seed: number, ndcg: number, hr?: number): Collected {
  const run: PlannedRun = { dataset: `${datasetName}.txt`, datasetName, model, gridValues: {}, config, seed, flags: {}, dir: '' };
  const metrics: Record<string, number> = { 'NDCG@10': ndcg, ...(hr === undefined ? {} : { 'HR@10': hr }) };
  return { run, results: { results: [{ protocol: 'full', split: 'test', metrics }] }, log: [] };
}

const group = (runs: Collected[]): RunGroup => ({ datasetName: runs[0].run.datasetName, model: runs[0].run.model, config: runs[0].run.config, runs });

test('differences are paired by seed: mean ± std of per-seed differences, seeds higher, only seeds both finished', () => {
  const base = group([
    collected('A', 'sasrec', 'loss=bce', 1, 0.03),
    collected('A', 'sasrec', 'loss=bce', 2, 0.05),
    collected('A', 'sasrec', 'loss=bce', 3, 0.04),
  ]);
  // seed 4 has no baseline run: it is not paired
  const ce = group([
    collected('A', 'sasrec', 'loss=ce', 1, 0.05),
    collected('A', 'sasrec', 'loss=ce', 2, 0.06),
    collected('A', 'sasrec', 'loss=ce', 3, 0.07),
    collected('A', 'sasrec', 'loss=ce', 4, 0.5),
  ]);
  const rows = seedPairedDifferences([base, ce], ['test full NDCG@10']);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].baseline, 'sasrec loss=bce');
  const c = rows[0].cells[0]!;
  // differences 0.02, 0.01, 0.03: mean 0.02, sample std 0.01 (seed 4's 0.5 would move both if it were paired)
  assert.equal(c.n, 3);
  assert.equal(c.higher, 3);
  assert.ok(Math.abs(c.mean - 0.02) < 1e-12, String(c.mean));
  assert.ok(Math.abs(c.std - 0.01) < 1e-12, String(c.std));
  assert.equal(formatPairedCell(c), '+0.0200 ± 0.0100 (3/3)');
  assert.equal(formatPairedCell({ mean: -0.00125, std: 0.002, higher: 1, n: 3 }), '−0.0013 ± 0.0020 (1/3)');
  assert.equal(formatPairedCell(undefined), '-');
});

test('the baseline may be named; each dataset is paired within itself; a missing metric is "-"', () => {
  const groups = [
    group([collected('A', 'mf', 'default', 1, 0.1, 0.2), collected('A', 'mf', 'default', 2, 0.2, 0.3)]),
    group([collected('A', 'ease', 'default', 1, 0.3), collected('A', 'ease', 'default', 2, 0.1)]),
    group([collected('B', 'mf', 'default', 1, 0.5, 0.6)]),
    group([collected('B', 'ease', 'default', 1, 0.4, 0.9)]),
  ];
  const cols = ['test full NDCG@10', 'test full HR@10'];
  const rows = seedPairedDifferences(groups, cols, { model: 'ease' });
  assert.deepEqual(
    rows.map((r) => [r.dataset, r.model, r.baseline]),
    [
      ['A', 'mf', 'ease default'],
      ['B', 'mf', 'ease default'],
    ],
  );
  // A: mf − ease per seed: −0.2, +0.1
  assert.equal(rows[0].cells[0]!.higher, 1);
  assert.ok(Math.abs(rows[0].cells[0]!.mean + 0.05) < 1e-12);
  assert.equal(rows[0].cells[1], undefined, 'ease has no HR@10 on A');
  assert.ok(Math.abs(rows[1].cells[1]!.mean + 0.3) < 1e-12);
  // a baseline with no finished run on a dataset leaves that dataset out
  assert.deepEqual(seedPairedDifferences(groups, cols, { model: 'pop' }), []);
  assert.deepEqual(
    pairedColumns(['test sampled HR@10', 'test full MRR', 'valid full NDCG@10', 'test full NDCG@10', 'test full NDCG@100', 'test full Hit@10']),
    ['test sampled HR@10', 'test full NDCG@10', 'test full Hit@10'],
  );
});

test('results.md and report.html show the paired section; a baseline the grid does not run is refused in one line', async () => {
  const grid = join(dir, 'grid.yaml');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'ring.txt'), '1 1\n1 2\n');
  writeFileSync(
    grid,
    [
      'datasets: [ring.txt]',
      'models: [sasrec]',
      'grid: { loss: [ce, bce] }',
      'seeds: [1, 2]',
      'baseline: { model: sasrec, config: loss=bce }',
      'out: exp',
    ].join('\n'),
  );
  const { out, runs } = planRuns(loadGrid(grid, trainOptionNames()), grid);
  const values: Record<string, number[]> = { 'loss=ce': [0.06, 0.05], 'loss=bce': [0.03, 0.035] };
  for (const r of runs) {
    mkdirSync(r.dir, { recursive: true });
    const ndcg = values[r.config][r.seed - 1];
    writeFileSync(join(r.dir, 'results.json'), JSON.stringify({ results: [{ protocol: 'full', split: 'test', metrics: { 'NDCG@10': ndcg } }] }));
  }
  const rep = await writeReports(out, runs, { baseline: { model: 'sasrec', config: 'loss=bce' } });
  const md = readFileSync(rep.md, 'utf8');
  assert.match(md, /## Paired by seed/);
  // ce − bce: 0.03 and 0.015 → mean 0.0225, std 0.0106
  assert.match(md, /\| ring \| sasrec \| loss=ce \| sasrec loss=bce \| \+0\.0225 ± 0\.0106 \(2\/2\) \|/);
  assert.ok(!/\| loss=bce \| sasrec loss=bce/.test(md), 'the baseline is not compared with itself');
  const html = readFileSync(rep.html, 'utf8');
  assert.match(html, /<h2>Paired by seed<\/h2>/);
  assert.match(html, /<td>\+0\.0225 ± 0\.0106 \(2\/2\)<\/td>/);

  for (const [line, message] of [
    ['baseline: { model: gru4rec }', /baseline\.model: "gru4rec" is not one of models \(sasrec\)/],
    ['baseline: { model: sasrec, config: loss=bpr }', /baseline: sasrec has no config "loss=bpr" \(configs: loss=ce, loss=bce\)/],
    ['baseline: { model: sasrec, confg: loss=ce }', /baseline: Unrecognized key/],
  ] as const) {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, ['datasets: [ring.txt]', 'models: [sasrec]', 'grid: { loss: [ce, bce] }', line].join('\n'));
    assert.throws(
      () => planRuns(loadGrid(bad, trainOptionNames()), bad),
      (e: Error) => message.test(e.message) && e.message.startsWith(bad) && !e.message.includes('\n'),
    );
  }
});

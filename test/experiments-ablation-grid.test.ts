/**
 * Grids of named variants (one config per flag set, e.g. an ablation's rows) and the paper table
 * with one model in several columns: the repository's Table IV grid parses into its nine configs,
 * and its table renders each config's fake results beside the paper's Games column.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadGrid, planRuns } from '../src/experiments/grid.js';
import { writeReports } from '../src/experiments/report.js';
import { testTempDir } from './helpers/tmp.js';

const dir = testTempDir('seqrec-ablation-grid-');
const GRID = 'grids/sasrec-table4.yaml';
const PAPER = [0.536, 0.5301, 0.4266, 0.4303, 0.4375, 0.4745, 0.5408, 0.5312, 0.5311];

test('Table IV grid: nine variants on Games × three seeds, ML-100k and Beauty × one, each variant its flags over the dataset flags', () => {
  const grid = loadGrid(GRID);
  const { runs } = planRuns(grid, GRID, join(dir, 'plan'));
  assert.equal(runs.length, 9 * 3 + 9 + 9);
  const seedsOf = (name: string) => new Set(runs.filter((r) => r.datasetName === name).map((r) => r.seed));
  assert.deepEqual([...seedsOf('Games')].sort(), [1, 2, 3]);
  assert.deepEqual([...seedsOf('ml-100k-5core')], [1]);
  assert.deepEqual([...seedsOf('Beauty')], [1]);
  const games = (config: string) => runs.find((r) => r.datasetName === 'Games' && r.config === config && r.seed === 1)!;
  assert.equal(games('default').flags.dropout_rate, 0.5);
  assert.equal(games('remove-dropout').flags.dropout_rate, 0);
  assert.equal(games('remove-pe').flags.no_position_emb, true);
  assert.equal(games('unshared-ie').flags.unshared_item_emb, true);
  assert.equal(games('remove-rc').flags.no_residual, true);
  assert.equal(games('0-block').flags.num_blocks, 0);
  assert.equal(games('multi-head').flags.num_heads, 2);
  assert.equal(games('default').flags.no_position_emb, undefined);
  assert.match(games('remove-pe').dir, /runs\/Games\/sasrec\/remove-pe\/seed-1$/);
});

test('Table IV renders: one column per config, ours (fake results) beside the paper', async () => {
  const grid = loadGrid(GRID);
  const { out, runs } = planRuns(grid, GRID, join(dir, 'out'));
  const configs = [...new Set(runs.map((r) => r.config))];
  const ndcg = (config: string, seed: number) => 0.3 + 0.01 * configs.indexOf(config) + 0.001 * seed;
  for (const r of runs.filter((x) => x.datasetName === 'Games')) {
    mkdirSync(r.dir, { recursive: true });
    const results = [{ protocol: 'sampled', split: 'test', users: 40, metrics: { 'HR@10': 0.5, 'NDCG@10': ndcg(r.config, r.seed) } }];
    writeFileSync(join(r.dir, 'results.json'), JSON.stringify({ results, trainSeconds: 3 }));
    writeFileSync(join(r.dir, 'log.jsonl'), '');
  }
  const rep = await writeReports(out, runs, grid.table ? { table: grid.table } : {});
  const md = readFileSync(rep.md, 'utf8');
  assert.match(md, /\| \(1\) Default \| \(2\) Remove PE \| \(3\) Unshared IE \| \(4\) Remove RC \| \(5\) Remove Dropout \|/);
  const ours = md.split('\n').find((l) => l.startsWith('| Games | NDCG@10 | ours |'));
  const cells = configs.map((c) => `${(0.3 + 0.01 * configs.indexOf(c) + 0.002).toFixed(4)} ± 0.0010`);
  assert.equal(ours, `| Games | NDCG@10 | ours | ${cells.join(' | ')} |`);
  const paper = md.split('\n').find((l) => /^\| {2}\| NDCG@10 \| paper \|/.test(l));
  assert.equal(paper, `|  | NDCG@10 | paper | ${PAPER.map((v) => v.toFixed(4)).join(' | ')} |`);
});

test('variants: two names for one run folder, or a flag the experiment sets, are refused in one line', () => {
  const g = join(dir, 'bad.yaml');
  writeFileSync(g, 'datasets: [x.txt]\nmodels: [sasrec]\nvariants: { "a b": {}, "a-b": {} }\n');
  assert.throws(() => loadGrid(g), { message: /variants: two variants are both named "a-b"/ });
  writeFileSync(g, 'datasets: [x.txt]\nmodels: [sasrec]\nvariants: { a: { seed: 3 } }\n');
  assert.throws(() => loadGrid(g), { message: /flag "seed" is set by the experiment/ });
  writeFileSync(g, 'datasets: [x.txt]\nmodels: [sasrec]\nvariants: { a: { no_positon_emb: true } }\n');
  assert.throws(() => loadGrid(g), { message: /variants\.a: unknown flag "no_positon_emb" \(did you mean no_position_emb\?\)/ });
});

test('Table V grid: one config per maxlen on ML-100k, each a column of the table', () => {
  const grid = loadGrid('grids/sasrec-table5.yaml');
  const { runs } = planRuns(grid, 'grids/sasrec-table5.yaml', join(dir, 'plan5'));
  const lengths = [10, 50, 100, 200, 300, 400, 500, 600];
  assert.deepEqual([...new Set(runs.map((r) => r.flags.maxlen))], lengths);
  assert.equal(runs.length, lengths.length * 3);
  assert.deepEqual(
    grid.table?.columns.map((c) => c.config),
    lengths.map((n) => `maxlen=${n}`),
  );
});

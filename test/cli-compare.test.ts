import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { writeTinyPopLog } from './helpers/datasets.js';
import { testTempDir } from './helpers/tmp.js';

// TINY_POP_LOG: PopRec's full-ranking test ranks there are [2, 2, 1, 0] (test/cli-pop.test.ts)

const dir = testTempDir('seqrec-cli-compare-');
const dataset = join(dir, 'tiny.txt');
writeTinyPopLog(dataset);
const runDir = join(dir, 'run');

test('train --keep_ranks writes ranks.tsv: each user, held-out item and rank, averaging to results.json', async () => {
  const r = await runCli([
    'train',
    '--model',
    'pop',
    '--dataset',
    dataset,
    '--train_dir',
    runDir,
    '--eval_protocol',
    'both',
    '--seed',
    '7',
    '--keep_ranks',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const lines = readFileSync(join(runDir, 'ranks.tsv'), 'utf8').trim().split('\n');
  assert.equal(lines[0], 'split\tprotocol\tuser\titem\trank');
  assert.equal(lines.length, 1 + 4 * 4, 'sampled and full, valid and test, 4 users each');
  const fullTest = lines.filter((l) => l.startsWith('test\tfull\t')).map((l) => l.split('\t').slice(2));
  assert.deepEqual(fullTest, [
    ['10', '120', '2'],
    ['20', '130', '2'],
    ['30', '110', '1'],
    ['50', '105', '0'],
  ]);
  const results = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8')).results as Array<{
    protocol: string;
    split: string;
    metrics: Record<string, number>;
  }>;
  for (const row of results) {
    const ranks = lines.filter((l) => l.startsWith(`${row.split}\t${row.protocol}\t`)).map((l) => Number(l.split('\t')[4]));
    const ndcg = ranks.reduce((s, k) => s + (k < 10 ? 1 / Math.log2(k + 2) : 0), 0) / ranks.length;
    assert.ok(Math.abs(ndcg - row.metrics['NDCG@10']) < 1e-9, `${row.protocol} ${row.split}: ${ndcg} vs ${row.metrics['NDCG@10']}`);
  }
});

test('eval --ranks_out writes the same ranks as train (same seed); compare of a run with itself: no difference', async () => {
  const out = join(dir, 'eval-ranks.tsv');
  const e = await runCli([
    'eval',
    '--state_dict_path',
    join(runDir, 'poprec.json'),
    '--dataset',
    dataset,
    '--eval_protocol',
    'both',
    '--seed',
    '7',
    '--ranks_out',
    out,
  ]);
  assert.equal(e.code, 0, e.stderr);
  assert.equal(readFileSync(out, 'utf8'), readFileSync(join(runDir, 'ranks.tsv'), 'utf8'));
  const c = await runCli(['compare', runDir, out, '--split', 'both', '--json']);
  assert.equal(c.code, 0, c.stderr);
  const rows = JSON.parse(c.stdout) as Array<{ protocol: string; split: string; users: number; diff: number; p: number; ties: number }>;
  assert.deepEqual(rows.map((x) => `${x.protocol} ${x.split}`).sort(), ['full test', 'full valid', 'sampled test', 'sampled valid']);
  for (const x of rows) assert.deepEqual([x.users, x.diff, x.p, x.ties], [4, 0, 1, 4]);
  const table = await runCli(['compare', `${runDir},${runDir}`, `${out},${out}`, '--metric', 'HR@1']);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^protocol\s+split\s+users\s+baseline HR@1\s+candidate\s+diff\s+95% CI\s+p\s+wins\/ties\/losses\n/);
  assert.match(table.stdout, /\nfull\s+test\s+8\s+0\.2500\s+0\.2500\s+\+0\.0000\s+\[\+0\.0000, \+0\.0000\]\s+1\.0000\s+0\/8\/0\n/);
});

test('bad input: one-line errors, exit 2, nothing trained or written', async () => {
  const randomDir = join(dir, 'random');
  const r = await runCli([
    'train',
    '--model',
    'pop',
    '--dataset',
    dataset,
    '--train_dir',
    randomDir,
    '--split',
    'random',
    '--eval_protocol',
    'full',
    '--keep_ranks',
  ]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--keep_ranks: per-user ranks are kept for the one-item protocols .*--split random ranks several/);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.ok(!existsSync(randomDir));
  const missing = await runCli(['compare', runDir, join(dir, 'nope.tsv')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /nope\.tsv: no such file or folder/);
  const broken = join(dir, 'broken.tsv');
  writeFileSync(broken, 'split\tprotocol\tuser\titem\trank\ntest\tfull\t10\t120\tx\n');
  const bad = await runCli(['compare', runDir, broken]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /broken\.tsv: line 2: rank must be a non-negative integer, got "x"/);
  const metric = await runCli(['compare', runDir, runDir, '--metric', 'AUC']);
  assert.equal(metric.code, 2);
  assert.match(metric.stderr, /--metric AUC: expected HR@K, NDCG@K/);
});

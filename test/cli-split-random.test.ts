import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'seqrec-cli-split-random-'));
const dataset = join(dir, 'log.txt');
// 30 users × 12 events over 20 items, deterministic
const lines: string[] = [];
for (let u = 1; u <= 30; u++) for (let k = 0; k < 12; k++) lines.push(`${u} ${1 + ((u * 7 + k * k * 3) % 20)}`);
writeFileSync(dataset, `${lines.join('\n')}\n`);
test.after(() => rmSync(dir, { recursive: true, force: true }));

const base = ['train', '--model', 'pop', '--dataset', dataset, '--split', 'random', '--eval_protocol', 'full', '--select_protocol', 'full'];

function results(run: string): { results: Array<{ split: string; protocol: string; users: number; metrics: Record<string, number> }> } {
  // the evaluation's wall seconds differ between identical runs: only what was measured is compared
  const parsed = JSON.parse(readFileSync(join(run, 'results.json'), 'utf8')) as ReturnType<typeof results>;
  return { results: parsed.results.map(({ split, protocol, users, metrics }) => ({ split, protocol, users, metrics })) };
}

test('train --split random writes results.json with Recall@10 and co., the same for the same seed', async () => {
  const a = await runCli([...base, '--train_dir', join(dir, 'a'), '--seed', '3']);
  assert.equal(a.code, 0, a.stderr);
  const b = await runCli([...base, '--train_dir', join(dir, 'b'), '--seed', '3']);
  assert.equal(b.code, 0, b.stderr);
  const c = await runCli([...base, '--train_dir', join(dir, 'c'), '--seed', '4']);
  assert.equal(c.code, 0, c.stderr);
  const test3 = results(join(dir, 'a')).results.find((r) => r.split === 'test')!;
  for (const m of ['Recall@10', 'NDCG@10', 'Hit@10', 'MRR@10', 'Precision@10']) {
    assert.ok(test3.metrics[m] >= 0 && test3.metrics[m] <= 1, m);
  }
  // 12 events cut 8:1:1 by RecBole's rounding → 10/1/1: every user is evaluated
  assert.equal(test3.users, 30);
  assert.deepEqual(results(join(dir, 'b')).results, results(join(dir, 'a')).results);
  assert.notDeepEqual(results(join(dir, 'c')).results, results(join(dir, 'a')).results);
  assert.match(readFileSync(join(dir, 'a', 'summary.txt'), 'utf8'), /Recall@10/);
});

test('train --split random with the sampled protocol, or a bad --split_ratio, is a one-line error', async () => {
  const sampled = await runCli(['train', '--model', 'pop', '--dataset', dataset, '--split', 'random', '--train_dir', join(dir, 'd')]);
  assert.notEqual(sampled.code, 0);
  assert.match(sampled.stderr, /full ranking only/);
  assert.doesNotMatch(sampled.stderr, /\n\s+at /);
  const ratio = await runCli([...base, '--split_ratio', '0.8,0.2', '--train_dir', join(dir, 'e')]);
  assert.notEqual(ratio.code, 0);
  assert.match(ratio.stderr, /split_ratio/);
  const loo = await runCli(['train', '--model', 'pop', '--dataset', dataset, '--split_ratio', '0.8,0.1,0.1', '--train_dir', join(dir, 'f')]);
  assert.notEqual(loo.code, 0);
  assert.match(loo.stderr, /--split random/);
});

test('--select_metric picks the checkpoint by a random-split metric, and an unknown one is refused', async () => {
  const args = [
    'train',
    '--model',
    'bpr',
    '--dataset',
    dataset,
    '--split',
    'random',
    '--eval_protocol',
    'full',
    '--select_protocol',
    'full',
    '--num_epochs',
    '2',
    '--eval_every',
    '1',
  ];
  const ok = await runCli([...args, '--select_metric', 'Recall@10', '--train_dir', join(dir, 'g')]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(readFileSync(join(dir, 'g', 'summary.txt'), 'utf8'), /valid Recall@10/);
  const bad = await runCli([...args, '--select_metric', 'Recall@20', '--train_dir', join(dir, 'h')]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--select_metric Recall@20: the valid evaluation reports Recall@10/);
});

/** `seqrec train --task ctr` end to end on a small u.data-style file, and its one-line refusals. */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Rng } from '../src/engine/rng.js';
import { runCli } from './helpers/cli.js';
import { testTempDir } from './helpers/tmp.js';

/** 60 users, 40 items in two groups: a user rates its group's items 5 and the others 1 (10% flipped), some 3. */
function writeTastes(path: string): void {
  const rng = new Rng(4);
  const lines: string[] = [];
  for (let u = 1; u <= 60; u++) {
    for (let k = 0; k < 20; k++) {
      const i = 1 + rng.nextInt(40);
      const like = u % 2 === i % 2 ? rng.nextFloat() > 0.1 : rng.nextFloat() < 0.1;
      lines.push(`${u}\t${i}\t${rng.nextFloat() < 0.1 ? 3 : like ? 5 : 1}\t${1000 + k}`);
    }
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

test('seqrec train --task ctr --model fm: AUC and LogLoss on valid and test in results.json and the table', async () => {
  const dir = testTempDir('cli-ctr');
  const data = join(dir, 'u.data');
  writeTastes(data);
  const runDir = join(dir, 'run');
  const r = await runCli([
    'train',
    '--model',
    'fm',
    '--task',
    'ctr',
    '--dataset',
    data,
    '--num_epochs',
    '20',
    '--eval_every',
    '5',
    '--lr',
    '0.01',
    '--batch_size',
    '64',
    '--threads',
    '1',
    '--train_dir',
    runDir,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /protocol\s+split\s+users\s+AUC\s+LogLoss/);
  const results = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8'));
  assert.deepEqual(
    results.results.map((row: { protocol: string; split: string }) => `${row.protocol} ${row.split}`),
    ['ctr valid', 'ctr test'],
  );
  const test = results.results[1];
  assert.ok(test.metrics.AUC > 0.75, `test AUC ${test.metrics.AUC}`);
  assert.ok(test.metrics.LogLoss > 0 && test.metrics.LogLoss < Math.LN2, `test LogLoss ${test.metrics.LogLoss}`);
  const ctr = results.dataset.ctr;
  assert.equal(ctr.train.rows + ctr.valid.rows + ctr.test.rows + ctr.dropped, 60 * 20);
  assert.equal(ctr.test.rows, test.examples);
  assert.match(readFileSync(join(runDir, 'summary.txt'), 'utf8'), /test \(ctr\): AUC/);
});

test('--task ctr refusals are one line: another model, a bad --ctr_labels, --split random, a file without ratings', async () => {
  const dir = testTempDir('cli-ctr-refusals');
  const data = join(dir, 'u.data');
  writeTastes(data);
  const plain = join(dir, 'plain.txt');
  writeFileSync(plain, '1 2\n1 3\n2 3\n');
  const cases: Array<[string[], RegExp]> = [
    [['--model', 'sasrec'], /^seqrec: --task ctr: --model sasrec cannot predict labels \(models that can: fm, ffm\)\n$/],
    [['--model', 'fm', '--ctr_labels', '2,4'], /^seqrec: --ctr_labels: needs two numbers P,N with N < P/],
    [['--model', 'fm', '--split', 'random'], /^seqrec: --task: ctr splits the labelled rows itself/],
    [['--model', 'ffm', '--dataset', plain], /^seqrec: .*plain\.txt: no ratings to read .*--task ctr needs/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(['train', '--task', 'ctr', '--dataset', data, '--train_dir', join(dir, 'run'), ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  const r = await runCli(['train', '--model', 'fm', '--ctr_labels', '4,2', '--dataset', data, '--train_dir', join(dir, 'run2')]);
  assert.match(r.stderr, /--ctr_labels: is only read by --task ctr/);
});

/**
 * Runs of the factor models (bpr, fmc, fpmc, transrec) through the CLI: a resumed run equals the
 * uninterrupted one (losses, metrics, weights), resuming with another λ is refused, and they run in an
 * experiments grid beside PopRec.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { writeRingDataset } from './helpers/datasets.js';
import { testTempDir } from './helpers/tmp.js';
import { assertSameRun, epochLosses } from './helpers/run-dir.js';

const dir = testTempDir('seqrec-cli-factor-runs-');
const ring = writeRingDataset(join(dir, 'ring.txt'), { users: 40 });
const MODELS = ['bpr', 'fmc', 'fpmc', 'transrec'] as const;

test('a resumed run equals the uninterrupted run (each factor model); another λ is another run', async () => {
  await Promise.all(
    MODELS.map(async (m) => {
      const flags = ['train', '--model', m, '--dataset', ring, '--batch_size', '16', '--threads', '1', '--hidden_units', '8'];
      const more = ['--l2_reg', '0.01', '--eval_every', '1', '--seed', '5'];
      const full = join(dir, `${m}-full`);
      const part = join(dir, `${m}-part`);
      const [f, p] = await Promise.all([
        runCli([...flags, ...more, '--train_dir', full, '--num_epochs', '4']),
        runCli([...flags, ...more, '--train_dir', part, '--num_epochs', '2']),
      ]);
      assert.equal(f.code, 0, f.stderr);
      assert.equal(p.code, 0, p.stderr);
      const r = await runCli([...flags, ...more, '--train_dir', part, '--num_epochs', '4', '--resume']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(epochLosses(full).length, 4);
      assertSameRun(part, full, `${m}.safetensors`);
      if (m !== 'transrec') return;
      const other = await runCli([
        ...flags,
        '--l2_reg',
        '0.1',
        '--eval_every',
        '1',
        '--seed',
        '5',
        '--train_dir',
        part,
        '--num_epochs',
        '5',
        '--resume',
      ]);
      assert.equal(other.code, 2);
      assert.match(other.stderr, /--resume: --l2_reg is 0\.1 now but 0\.01 in the checkpoint/);
    }),
  );
});

test('the factor models run in an experiments grid beside pop', async () => {
  const grid = join(dir, 'grid.yaml');
  writeFileSync(
    grid,
    `${[
      'datasets: [ring.txt]',
      'models: [pop, bpr, fmc, fpmc, transrec]',
      'flags: { num_epochs: 1, eval_every: 1, hidden_units: 8, batch_size: 16, threads: 1 }',
      'seeds: [1]',
      'out: exp',
    ].join('\n')}\n`,
  );
  const r = await runCli(['experiments', grid]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /5 runs trained/);
  const md = readFileSync(join(dir, 'exp', 'results.md'), 'utf8');
  for (const m of MODELS) assert.match(md, new RegExp(`\\| ring \\| ${m} \\| default \\| 1 \\|`));
});

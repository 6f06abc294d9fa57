/**
 * --resume checks every flag that changes the results, and a finished run is not rewritten
 * (issue 23, finding 6).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { writeRingDataset } from './helpers/datasets.js';
import { testTempDir } from './helpers/tmp.js';
import { loadCheckpoint, saveCheckpoint } from '../src/train/checkpoint.js';

const dir = testTempDir('seqrec-resume-flags-');
const dataset = writeRingDataset(join(dir, 'ring.txt'), { users: 30 });
const run = join(dir, 'run');
const tiny = [
  '--model',
  'sasrec',
  '--dataset',
  dataset,
  '--maxlen',
  '6',
  '--hidden_units',
  '8',
  '--num_blocks',
  '1',
  '--batch_size',
  '16',
  '--threads',
  '1',
];
const base = [...tiny, '--seed', '3', '--eval_every', '1', '--train_dir', run];

const snapshot = () => new Map(readdirSync(run).map((f) => [f, `${statSync(join(run, f)).mtimeMs} ${readFileSync(join(run, f), 'base64')}`]));

test('--resume refuses another --seed, --lr, evaluation or data flag, naming it, and leaves the run as it was', async () => {
  const first = await runCli(['train', ...base, '--num_epochs', '1']);
  assert.equal(first.code, 0, first.stderr);
  const before = snapshot();
  for (const [extra, flag] of [
    [['--seed', '4'], /--seed is 4 now but 3 in the checkpoint/],
    [['--lr', '0.5'], /--lr is 0.5 now but 0.001 in the checkpoint/],
    [['--num_negatives', '50'], /--num_negatives is 50 now but 100 in the checkpoint/],
    [['--min_user_count', '2'], /--min_user_count is 2 now but/],
  ] as const) {
    const args = [...base, '--num_epochs', '2', '--resume', ...extra];
    const r = await runCli(['train', ...args]);
    assert.equal(r.code, 2, `${extra.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, flag);
    assert.equal(
      r.stderr
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('dataset ')).length,
      1,
      r.stderr,
    );
    assert.deepEqual(snapshot(), before, `${extra.join(' ')}: the run is as it was`);
  }
  // what does not change the results may differ: --num_epochs (raised), --threads, --num_workers
  const more = await runCli(['train', ...base, '--num_epochs', '2', '--resume', '--num_workers', '1', '--eval_batch_size', '64']);
  assert.equal(more.code, 0, more.stderr);
});

test('resuming a finished run keeps its results.json and summary.txt as they are', async () => {
  const results = readFileSync(join(run, 'results.json'), 'utf8');
  const mtime = statSync(join(run, 'results.json')).mtimeMs;
  const again = await runCli(['train', ...base, '--num_epochs', '2', '--resume']);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /had already finished/);
  assert.match(again.stderr, /results\.json is kept as it is/);
  assert.equal(readFileSync(join(run, 'results.json'), 'utf8'), results);
  assert.equal(statSync(join(run, 'results.json')).mtimeMs, mtime, 'not rewritten');
});

test("a checkpoint from before the flags were kept: its run's config.json is checked instead", async () => {
  const old = join(dir, 'legacy');
  const args = [...tiny, '--seed', '3', '--eval_every', '1', '--train_dir', old];
  const first = await runCli(['train', ...args, '--num_epochs', '1']);
  assert.equal(first.code, 0, first.stderr);
  // rewrite last.safetensors as an older seqrec wrote it: no flags in train_state.caller
  const last = join(old, 'last.safetensors');
  const ckpt = await loadCheckpoint(last);
  const state = ckpt.trainState as { caller: { flags?: unknown } };
  assert.ok(state.caller.flags, 'a new checkpoint keeps its flags');
  delete state.caller.flags;
  await saveCheckpoint(last, { tensors: ckpt.tensors, config: ckpt.config!, extra: ckpt.extra, optimizer: ckpt.optimizer, trainState: state });
  const r = await runCli(['train', ...tiny, '--seed', '4', '--eval_every', '1', '--train_dir', old, '--num_epochs', '2', '--resume']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--resume: --seed is 4 now but 3 in the checkpoint/);
  const same = await runCli(['train', ...args, '--num_epochs', '2', '--resume']);
  assert.equal(same.code, 0, same.stderr);
});

test('a checkpoint from before --split and --task existed resumes with the leave-one-out ranking it used, and refuses another split', async () => {
  const old = join(dir, 'before-split');
  const args = [...tiny, '--seed', '3', '--eval_every', '1', '--train_dir', old, '--eval_protocol', 'full', '--select_protocol', 'full'];
  const first = await runCli(['train', ...args, '--num_epochs', '1']);
  assert.equal(first.code, 0, first.stderr);
  const last = join(old, 'last.safetensors');
  const ckpt = await loadCheckpoint(last);
  const state = ckpt.trainState as { caller: { flags: Record<string, unknown> } };
  assert.equal(state.caller.flags.split, 'loo', 'a new checkpoint records the split');
  assert.equal(state.caller.flags.task, 'ranking', 'a new checkpoint records the task');
  delete state.caller.flags.split;
  delete state.caller.flags.task;
  await saveCheckpoint(last, { tensors: ckpt.tensors, config: ckpt.config!, extra: ckpt.extra, optimizer: ckpt.optimizer, trainState: state });
  const random = await runCli(['train', ...args, '--num_epochs', '2', '--resume', '--split', 'random']);
  assert.equal(random.code, 2, random.stderr);
  assert.match(random.stderr, /--resume: --split is "random" now but not given in the checkpoint/);
  const loo = await runCli(['train', ...args, '--num_epochs', '2', '--resume']);
  assert.equal(loo.code, 0, loo.stderr);
  assert.match(loo.stderr, /resum/i);
});

test('a checkpoint from before --optimizer and --momentum existed resumes with the Adam it used, and refuses Adagrad', async () => {
  const old = join(dir, 'before-optimizer');
  const args = [...tiny, '--seed', '3', '--eval_every', '1', '--train_dir', old];
  const first = await runCli(['train', ...args, '--num_epochs', '1']);
  assert.equal(first.code, 0, first.stderr);
  const last = join(old, 'last.safetensors');
  const ckpt = await loadCheckpoint(last);
  const state = ckpt.trainState as { caller: { flags: Record<string, unknown> } };
  assert.equal(state.caller.flags.optimizer, 'adam', 'a new checkpoint records the optimizer');
  assert.equal(state.caller.flags.momentum, 0, 'a new checkpoint records the momentum');
  delete state.caller.flags.optimizer;
  delete state.caller.flags.momentum;
  await saveCheckpoint(last, { tensors: ckpt.tensors, config: ckpt.config!, extra: ckpt.extra, optimizer: ckpt.optimizer, trainState: state });
  const adagrad = await runCli(['train', ...args, '--num_epochs', '2', '--resume', '--optimizer', 'adagrad']);
  assert.equal(adagrad.code, 2, adagrad.stderr);
  assert.match(adagrad.stderr, /--resume: --optimizer is "adagrad" now but not given in the checkpoint/);
  const adam = await runCli(['train', ...args, '--num_epochs', '2', '--resume']);
  assert.equal(adam.code, 0, adam.stderr);
  assert.match(adam.stderr, /resum/i);
});

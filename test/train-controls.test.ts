import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { writeRingDataset } from './helpers/datasets.js';
import { testTempDir } from './helpers/tmp.js';
import { loadCheckpoint, saveCheckpoint } from '../src/train/checkpoint.js';

const dir = testTempDir('seqrec-train-controls-');

// 80 users walking a ring of 30 items: learnable, so the metrics move from epoch to epoch
const dataset = writeRingDataset(join(dir, 'ring.txt'));
const tiny = [
  '--model',
  'sasrec',
  '--dataset',
  dataset,
  '--maxlen',
  '8',
  '--hidden_units',
  '16',
  '--num_blocks',
  '1',
  '--num_heads',
  '2',
  '--dropout_rate',
  '0.2',
  '--batch_size',
  '16',
  '--lr',
  '0.01',
  '--seed',
  '7',
];

const readLog = (d: string) =>
  readFileSync(join(d, 'log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
const metricsOf = (d: string) => JSON.parse(readFileSync(join(d, 'results.json'), 'utf8')).results.map((r: { metrics: unknown }) => r.metrics);

test('a run writes config.json, one log.jsonl line per epoch, summary.txt and last.safetensors', async () => {
  const d = join(dir, 'logs');
  const r = await runCli(['train', ...tiny, '--train_dir', d, '--num_epochs', '3', '--eval_every', '2', '--warmup_steps', '10']);
  assert.equal(r.code, 0, r.stderr);
  const config = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'));
  assert.equal(config.model, 'sasrec');
  assert.equal(config.options.warmupSteps, 10);
  assert.equal(config.options.hiddenUnits, 16);
  assert.equal(config.evaluation.seed, 7);
  const log = readLog(d);
  assert.deepEqual(
    log.map((l) => l.epoch),
    [1, 2, 3],
  );
  for (const l of log) {
    assert.equal(typeof l.loss, 'number');
    assert.equal(typeof l.seconds, 'number');
  }
  // 5 steps per epoch; warm-up over 10 steps: epoch 1 ends at step 5 of 10
  assert.equal(log[0].lr, 0.005);
  assert.equal(log[1].lr, 0.01);
  assert.equal(log[0].valid, undefined, 'not evaluated at epoch 1');
  assert.equal(typeof log[1].valid['NDCG@10'], 'number');
  assert.equal(typeof log[2].valid['HR@10'], 'number', 'the last epoch is evaluated');
  const summary = readFileSync(join(d, 'summary.txt'), 'utf8');
  assert.match(summary, /trained 3 epochs/);
  assert.match(summary, /best epoch [23]: valid NDCG@10 0\.\d{4}/);
  assert.match(summary, /test \(sampled\): HR@10 0\.\d{4}, NDCG@10 0\.\d{4}/);
  assert.ok(existsSync(join(d, 'last.safetensors')));
});

test('early stopping: --patience evaluations without a gain > --min_delta end the run', async () => {
  const d = join(dir, 'early');
  // a learning rate this small changes nothing measurable: epoch 1 is the best, epochs 2 and 3 do not gain 0.01
  const r = await runCli([
    'train',
    ...tiny,
    '--lr',
    '1e-9',
    '--train_dir',
    d,
    '--num_epochs',
    '20',
    '--eval_every',
    '1',
    '--patience',
    '2',
    '--min_delta',
    '0.01',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    readLog(d).map((l) => l.epoch),
    [1, 2, 3],
  );
  assert.match(r.stderr, /early stopping after epoch 3/);
  assert.match(readFileSync(join(d, 'summary.txt'), 'utf8'), /trained 3 epochs \(stopped early/);
  assert.match(r.stderr, /best valid epoch: 1/);
});

test('the same seed, data and flags give identical losses and metrics', async () => {
  const a = join(dir, 'repro-a');
  const b = join(dir, 'repro-b');
  const args = [...tiny, '--num_epochs', '4', '--eval_every', '2'];
  const [ra, rb] = await Promise.all([runCli(['train', ...args, '--train_dir', a]), runCli(['train', ...args, '--train_dir', b])]);
  assert.equal(ra.code, 0, ra.stderr);
  assert.equal(rb.code, 0, rb.stderr);
  assert.deepEqual(
    readLog(a).map((l) => [l.loss, l.valid]),
    readLog(b).map((l) => [l.loss, l.valid]),
  );
  assert.deepEqual(metricsOf(a), metricsOf(b));
  // and another seed gives another run (the test above is not vacuous)
  const c = join(dir, 'repro-c');
  const rc = await runCli(['train', ...args, '--seed', '8', '--train_dir', c]);
  assert.equal(rc.code, 0, rc.stderr);
  assert.notDeepEqual(
    readLog(a).map((l) => l.loss),
    readLog(c).map((l) => l.loss),
  );
});

test('--resume after 2 of 4 epochs gives exactly the uninterrupted run', async () => {
  const full = join(dir, 'repro-a'); // 4 epochs, written by the test above
  const d = join(dir, 'resumed');
  const args = [...tiny, '--eval_every', '2', '--train_dir', d];
  const r1 = await runCli(['train', ...args, '--num_epochs', '2']);
  assert.equal(r1.code, 0, r1.stderr);
  const r2 = await runCli(['train', ...args, '--num_epochs', '4', '--resume']);
  assert.equal(r2.code, 0, r2.stderr);
  assert.match(r2.stderr, /resumed after epoch 2/);
  assert.deepEqual(
    readLog(d).map((l) => [l.epoch, l.loss, l.lr, l.valid]),
    readLog(full).map((l) => [l.epoch, l.loss, l.lr, l.valid]),
  );
  assert.deepEqual(metricsOf(d), metricsOf(full));
  // a finished run resumed again does not train further
  const r3 = await runCli(['train', ...args, '--num_epochs', '4', '--resume']);
  assert.equal(r3.code, 0, r3.stderr);
  assert.match(r3.stderr, /already finished/);
  assert.deepEqual(metricsOf(d), metricsOf(full));
});

test('a run killed with SIGKILL mid-training resumes to the uninterrupted result', async () => {
  const epochs = 40;
  const args = [...tiny, '--eval_every', '10', '--num_epochs', String(epochs)];
  const full = join(dir, 'kill-full');
  const d = join(dir, 'kill');
  const rf = await runCli(['train', ...args, '--train_dir', full]);
  assert.equal(rf.code, 0, rf.stderr);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/run.ts', 'train', ...args, '--train_dir', d], { stdio: 'ignore' });
  const exited = new Promise<void>((res) => child.on('exit', () => res()));
  // kill as soon as two epochs are checkpointed
  for (let i = 0; i < 3000; i++) {
    await new Promise((res) => setTimeout(res, 5));
    if (
      existsSync(join(d, 'log.jsonl')) &&
      readFileSync(join(d, 'log.jsonl'), 'utf8').split('\n').length > 2 &&
      existsSync(join(d, 'last.safetensors'))
    )
      break;
  }
  child.kill('SIGKILL');
  await exited;
  assert.ok(!existsSync(join(d, 'results.json')), 'killed before the end');
  const r = await runCli(['train', ...args, '--train_dir', d, '--resume']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /resumed after epoch \d+/);
  assert.deepEqual(
    readLog(d).map((l) => [l.epoch, l.loss]),
    readLog(full).map((l) => [l.epoch, l.loss]),
  );
  assert.deepEqual(metricsOf(d), metricsOf(full));
});

test('a corrupt or truncated last.safetensors is refused with one line naming the file', async () => {
  const d = join(dir, 'logs'); // from the first test
  const last = join(d, 'last.safetensors');
  writeFileSync(last, readFileSync(last).subarray(0, 300));
  const r = await runCli(['train', ...tiny, '--train_dir', d, '--num_epochs', '5', '--resume']);
  assert.equal(r.code, 2, r.stderr);
  const errors = r.stderr
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('seqrec:'));
  assert.equal(errors.length, 1, r.stderr);
  assert.match(errors[0], /last\.safetensors: not a valid safetensors checkpoint/);
  assert.ok(r.stderr.trim().endsWith(errors[0]), 'the error is the last line, no stack trace');
  const missing = await runCli(['train', ...tiny, '--train_dir', join(dir, 'nothing'), '--resume']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--resume: no .*last\.safetensors/);
});

test('a resume state whose random generator is stuck (all-zero words) is refused, not trained on forever', { timeout: 120_000 }, async () => {
  const d = join(dir, 'zero-rng');
  const r1 = await runCli(['train', ...tiny, '--train_dir', d, '--num_epochs', '1']);
  assert.equal(r1.code, 0, r1.stderr);
  const last = join(d, 'last.safetensors');
  for (const [where, patch] of [
    [
      'sampler.rng',
      (s: { sampler: { rng: number[] } }) => {
        s.sampler.rng = [0, 0, 0, 0];
      },
    ],
    [
      'dropoutRng',
      (s: { dropoutRng: number[] }) => {
        s.dropoutRng = [2 ** 32, 0, 0, 0];
      },
    ],
    [
      'steps',
      (s: { steps: number }) => {
        s.steps = -5;
      },
    ],
  ] as const) {
    const ckpt = await loadCheckpoint(last);
    const saved = readFileSync(last);
    (patch as (s: unknown) => void)(ckpt.trainState);
    await saveCheckpoint(last, {
      tensors: ckpt.tensors,
      config: ckpt.config ?? {},
      idMaps: ckpt.idMaps,
      extra: ckpt.extra,
      optimizer: ckpt.optimizer,
      trainState: ckpt.trainState,
    });
    const r = await runCli(['train', ...tiny, '--train_dir', d, '--num_epochs', '2', '--resume']);
    assert.equal(r.code, 2, `${where}: ${r.stderr}`);
    assert.match(r.stderr, /last\.safetensors: cannot resume from it: train_state is malformed/, where);
    writeFileSync(last, saved);
  }
});

test('--resume with different hyper-parameters or another dataset is refused', async () => {
  const d = join(dir, 'repro-b');
  const r = await runCli(['train', ...tiny, '--hidden_units', '8', '--train_dir', d, '--num_epochs', '5', '--resume']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--resume: --hidden_units is 8 now but 16/);
  // same users and items, one interaction fewer
  const other = join(dir, 'ring-minus-one.txt');
  writeFileSync(other, readFileSync(dataset, 'utf8').replace(/\n[^\n]*\n$/, '\n'));
  const o = await runCli(['train', ...tiny, '--dataset', other, '--train_dir', d, '--num_epochs', '5', '--resume']);
  assert.equal(o.code, 2, o.stderr);
  assert.match(o.stderr, /--resume: .*was trained on 80 users, 30 items, \d+ interactions; --dataset .*ring-minus-one/);
});

test('--resume is exact for TiSASRec too', async () => {
  const timed = writeRingDataset(join(dir, 'timed.txt'), { users: 60, length: (u) => 6 + (u % 5), timed: true });
  const args = [
    '--model',
    'tisasrec',
    '--dataset',
    timed,
    '--maxlen',
    '8',
    '--hidden_units',
    '8',
    '--num_blocks',
    '1',
    '--batch_size',
    '16',
    '--lr',
    '0.01',
    '--eval_every',
    '2',
    '--lr_decay_step',
    '3',
    '--lr_decay_rate',
    '0.5',
  ];
  const full = join(dir, 'ti-full');
  const d = join(dir, 'ti-resumed');
  const rf = await runCli(['train', ...args, '--train_dir', full, '--num_epochs', '4']);
  assert.equal(rf.code, 0, rf.stderr);
  const r1 = await runCli(['train', ...args, '--train_dir', d, '--num_epochs', '2']);
  assert.equal(r1.code, 0, r1.stderr);
  const r2 = await runCli(['train', ...args, '--train_dir', d, '--num_epochs', '4', '--resume']);
  assert.equal(r2.code, 0, r2.stderr);
  assert.deepEqual(
    readLog(d).map((l) => [l.loss, l.lr, l.valid]),
    readLog(full).map((l) => [l.loss, l.lr, l.valid]),
  );
  assert.deepEqual(metricsOf(d), metricsOf(full));
  // a changed schedule is refused
  const r3 = await runCli(['train', ...args, '--lr_decay_rate', '0.9', '--train_dir', d, '--num_epochs', '6', '--resume']);
  assert.equal(r3.code, 2, r3.stderr);
  assert.match(r3.stderr, /--resume: --lr_decay_rate is 0.9 now but 0.5 in the checkpoint/);
});

test('--select_protocol full picks the best checkpoint on full-ranking valid NDCG@10', async () => {
  const d = join(dir, 'select-full');
  const r = await runCli(['train', ...tiny, '--train_dir', d, '--num_epochs', '4', '--eval_every', '2', '--select_protocol', 'full']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^epoch 2: valid full-ranking NDCG@10 0\.\d{4}/m);
  // the logged valid metrics are the full-ranking ones: the sampled protocol's HR@10 on 30 items would be 1 almost everywhere
  const log = readLog(d);
  const bestLine = log.filter((l) => l.valid).reduce((a, b) => (b.valid['NDCG@10'] > a.valid['NDCG@10'] ? b : a));
  const full = await runCli([
    'eval',
    '--state_dict_path',
    join(d, 'sasrec.safetensors'),
    '--dataset',
    dataset,
    '--eval_protocol',
    'full',
    '--seed',
    '7',
    '--json',
  ]);
  assert.equal(full.code, 0, full.stderr);
  const validFull = JSON.parse(full.stdout).results.find((x: { split: string }) => x.split === 'valid').metrics['NDCG@10'];
  assert.ok(
    Math.abs(validFull - bestLine.valid['NDCG@10']) < 1e-9,
    `saved model's full valid NDCG ${validFull} is the best logged ${bestLine.valid['NDCG@10']}`,
  );
});

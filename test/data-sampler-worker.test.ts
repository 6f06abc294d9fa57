import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { leaveOneOut, readInteractions, TrainSampler, type Split, type TrainBatch } from '../src/data/index.js';
import { PrefetchSampler } from '../src/data/prefetch.js';
import { Rng } from '../src/engine/rng.js';
import { runCli } from './helpers/cli.js';
import { writeRingDataset } from './helpers/datasets.js';
import { testTempDir } from './helpers/tmp.js';

const dir = testTempDir('seqrec-sampler-worker-');

// 80 users on a ring of 30 items (with timestamps), a few users too short to train on
const dataset = writeRingDataset(join(dir, 'ring.txt'), { length: (u) => (u % 11 === 0 ? 1 : 6 + (u % 7)), timed: true });
const split: Split = leaveOneOut(await readInteractions(dataset), 3);

const rows = (b: TrainBatch) => [Array.from(b.users), Array.from(b.seqs), Array.from(b.pos), Array.from(b.neg), b.times ? Array.from(b.times) : null];

test('the worker draws exactly the main-thread batches and states, across passes and from a mid-pass state', async () => {
  for (const [depth, userSampling] of [
    [1, 'shuffle'],
    [3, 'shuffle'],
    [3, 'cycle'],
    [2, 'uniform'],
  ] as const) {
    const main = new TrainSampler(split, { batchSize: 16, maxlen: 8, userSampling, rng: new Rng(5) });
    const other = new TrainSampler(split, { batchSize: 16, maxlen: 8, userSampling, rng: new Rng(5) });
    // start mid-pass (as after a resume): both advanced by 3 batches on the main thread
    for (let k = 0; k < 3; k++) {
      main.nextBatch();
      other.nextBatch();
    }
    const before = other.getState();
    const p = await PrefetchSampler.start(other, { depth });
    assert.deepEqual(other.getState(), before, 'starting a worker does not advance the sampler');
    assert.deepEqual(p.getState(), main.getState());
    try {
      for (let k = 0; k < 30; k++) {
        const want = main.nextBatch();
        const got = await p.next();
        assert.ok(got.times, 'times travel too');
        assert.deepEqual(rows(got), rows(want), `batch ${k} (depth ${depth}, user sampling ${userSampling})`);
        assert.deepEqual(p.getState(), main.getState(), `state after batch ${k}: as of the batches consumed, not the worker's`);
      }
    } finally {
      await p.close();
    }
    assert.equal(p.stats.batches, 30);
  }
});

test('the worker draws the main-thread batches with K negatives per position and with shared negatives', async () => {
  for (const opts of [{ negatives: 4 }, { negatives: 5, sharedNegatives: true }, { negatives: 0 }]) {
    const main = new TrainSampler(split, { batchSize: 16, maxlen: 8, rng: new Rng(7), ...opts });
    const other = new TrainSampler(split, { batchSize: 16, maxlen: 8, rng: new Rng(7), ...opts });
    const p = await PrefetchSampler.start(other, { depth: 2 });
    try {
      for (let k = 0; k < 12; k++) {
        const got = await p.next();
        const want = main.nextBatch();
        assert.deepEqual(rows(got), rows(want), `${JSON.stringify(opts)} batch ${k}`);
        assert.equal(got.negatives, want.negatives);
        assert.equal(got.sharedNegatives, want.sharedNegatives);
      }
    } finally {
      await p.close();
    }
  }
});

test('the worker draws the main-thread cloze batches (BERT4Rec): the cloze settings travel with the flat data', async () => {
  const maskToken = split.data.itemNum + 1;
  for (const opts of [{ negatives: 0 }, { negatives: 2 }, { negatives: 3, sharedNegatives: true }]) {
    const cloze = { maskProb: 0.3, maskToken };
    const main = new TrainSampler(split, { batchSize: 16, maxlen: 8, rng: new Rng(9), cloze, ...opts });
    const other = new TrainSampler(split, { batchSize: 16, maxlen: 8, rng: new Rng(9), cloze, ...opts });
    main.nextBatch();
    other.nextBatch();
    assert.deepEqual(other.flatTrainData().cloze, cloze);
    const p = await PrefetchSampler.start(other, { depth: 2 });
    try {
      for (let k = 0; k < 12; k++) {
        const got = await p.next();
        const want = main.nextBatch();
        assert.ok(got.seqs.includes(maskToken), 'cloze rows, not next-item ones');
        assert.deepEqual(rows(got), rows(want), `${JSON.stringify(opts)} batch ${k}`);
        assert.deepEqual(p.getState(), main.getState());
      }
    } finally {
      await p.close();
    }
  }
});

test('a batch handed out is transferred, not copied: taking the next one detaches it', async () => {
  const p = await PrefetchSampler.start(new TrainSampler(split, { batchSize: 8, maxlen: 8, seed: 1 }));
  try {
    const a = await p.next();
    assert.equal(a.seqs.length, 64);
    await p.next();
    assert.equal(a.seqs.length, 0, 'its buffer went back to the worker');
  } finally {
    await p.close();
  }
  await p.close(); // idempotent
  await assert.rejects(p.next(), /closed/);
});

test('an error in the worker surfaces as one line', async () => {
  const real = new TrainSampler(split, { batchSize: 8, maxlen: 8, seed: 1 });
  const broken = { flatTrainData: () => real.flatTrainData(), getState: () => ({ ...real.getState(), position: 10_000 }) } as unknown as TrainSampler;
  const p = await PrefetchSampler.start(broken);
  try {
    await assert.rejects(p.next(), (e: Error) => {
      assert.match(e.message, /^sampler worker: TrainSampler\.setState: position 10000 out of range/);
      assert.ok(!e.message.includes('\n'));
      return true;
    });
  } finally {
    await p.close();
  }
});

const readLog = (d: string) =>
  readFileSync(join(d, 'log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
const metricsOf = (d: string) => JSON.parse(readFileSync(join(d, 'results.json'), 'utf8')).results.map((r: { metrics: unknown }) => r.metrics);
const sasrec = [
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
  '--batch_size',
  '16',
  '--lr',
  '0.01',
  '--seed',
  '7',
  '--eval_every',
  '2',
];
const tisasrec = [
  '--model',
  'tisasrec',
  '--dataset',
  dataset,
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
  '--seed',
  '3',
  '--eval_every',
  '2',
];

test('train --num_workers 0, 1 and 2 give the same run (SASRec and TiSASRec)', async () => {
  for (const [name, args, counts] of [
    ['sasrec', sasrec, ['0', '1', '2']],
    ['tisasrec', tisasrec, ['0', '1']],
  ] as const) {
    const dirs = counts.map((n) => join(dir, `${name}-w${n}`));
    const runs = await Promise.all(counts.map((n, i) => runCli(['train', ...args, '--num_epochs', '4', '--num_workers', n, '--train_dir', dirs[i]])));
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    const logs = dirs.map((d) => readLog(d).map((l) => [l.epoch, l.loss, l.valid]));
    for (let i = 1; i < dirs.length; i++) {
      assert.deepEqual(logs[i], logs[0], `${name}: --num_workers ${counts[i]} vs 0`);
      assert.deepEqual(metricsOf(dirs[i]), metricsOf(dirs[0]));
      assert.deepEqual(readFileSync(join(dirs[i], `${name}.safetensors`)), readFileSync(join(dirs[0], `${name}.safetensors`)), 'the same weights');
    }
  }
});

test('--resume with --num_workers 1 continues the uninterrupted run (whatever the worker had sampled ahead)', async () => {
  const full = join(dir, 'sasrec-w0'); // 4 epochs, --num_workers 0, written by the test above
  for (const [first, second] of [
    ['1', '1'],
    ['1', '0'],
    ['0', '1'],
  ]) {
    const d = join(dir, `resume-${first}-${second}`);
    const r1 = await runCli(['train', ...sasrec, '--num_epochs', '2', '--num_workers', first, '--train_dir', d]);
    assert.equal(r1.code, 0, r1.stderr);
    const r2 = await runCli(['train', ...sasrec, '--num_epochs', '4', '--num_workers', second, '--train_dir', d, '--resume']);
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r2.stderr, /resumed after epoch 2/);
    assert.deepEqual(
      readLog(d).map((l) => [l.epoch, l.loss, l.lr, l.valid]),
      readLog(full).map((l) => [l.epoch, l.loss, l.lr, l.valid]),
      `${first} then ${second}`,
    );
    assert.deepEqual(metricsOf(d), metricsOf(full));
  }
});

test('--num_workers must be an integer ≥ 0', async () => {
  const r = await runCli(['train', ...sasrec, '--num_epochs', '1', '--num_workers', '-1', '--train_dir', join(dir, 'bad')]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--num_workers: expected an integer ≥ 0, got -1/);
});

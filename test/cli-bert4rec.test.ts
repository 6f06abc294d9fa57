/**
 * BERT4Rec through the CLI: `--help` lists it and --mask_prob; it learns the ring (full ranking);
 * its model file reloads in `train --inference_only`, `eval` and `recommend`; a resumed run (with the
 * batches from a worker) equals the uninterrupted one; it runs in an experiments grid.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSafetensors } from '../src/engine/safetensors.js';
import { runCli } from './helpers/cli.js';
import { writeRingDataset } from './helpers/datasets.js';
import { testTempDir } from './helpers/tmp.js';
import { assertSameRun, epochLosses } from './helpers/run-dir.js';

const dir = testTempDir('seqrec-cli-bert4rec-');
const dataset = writeRingDataset(join(dir, 'ring.txt'));
const tiny = ['--maxlen', '8', '--hidden_units', '16', '--num_blocks', '1', '--num_heads', '2', '--batch_size', '16', '--threads', '1'];
const runDir = join(dir, 'run');
const ckpt = join(runDir, 'bert4rec.safetensors');

type Results = { results: Array<{ protocol: string; split: string; metrics: Record<string, number> }> };
const resultsOf = (d: string) => JSON.parse(readFileSync(join(d, 'results.json'), 'utf8')) as Results;

test('train --help lists --model bert4rec and --mask_prob', async () => {
  const r = await runCli(['train', '--help']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /bert4rec/);
  assert.match(r.stdout, /--mask_prob/);
  assert.match(r.stdout, /0\.6 Beauty, 0\.4 Steam, 0\.2 ML-1m/);
});

test('train --model bert4rec learns the ring: full-ranking test NDCG@10 well above chance; the file holds its tensors and config', async () => {
  const r = await runCli([
    'train',
    '--model',
    'bert4rec',
    '--dataset',
    dataset,
    '--train_dir',
    runDir,
    '--num_epochs',
    '100',
    '--eval_every',
    '25',
    '--lr',
    '0.01',
    '--mask_prob',
    '0.3',
    '--eval_protocol',
    'full',
    ...tiny,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /BERT4Rec: d 16, 1 layers, 2 heads, maxlen 8, dropout 0\.1, mask_prob 0\.3, loss ce/);
  const test = resultsOf(runDir).results.find((x) => x.split === 'test' && x.protocol === 'full')!;
  // 30 items, the history excluded: a random ranking has NDCG@10 ≈ 0.2
  assert.ok(test.metrics['NDCG@10'] > 0.5, `full test NDCG@10 ${test.metrics['NDCG@10']}`);
  const { tensors, metadata } = parseSafetensors(readFileSync(ckpt));
  assert.deepEqual(tensors.get('item_embedding.weight')?.shape, [32, 16], '30 items + padding + [mask]');
  assert.deepEqual(tensors.get('position_embedding.weight')?.shape, [8, 16]);
  assert.deepEqual(tensors.get('output_bias')?.shape, [31]);
  assert.deepEqual(tensors.get('encoder.layers.0.linear1.weight')?.shape, [64, 16]);
  const config = JSON.parse(metadata.config);
  assert.equal(config.model, 'bert4rec');
  assert.equal(config.mask_prob, 0.3);
  assert.equal(config.loss, 'ce');
});

test('the BERT4Rec file reloads: --inference_only and eval reproduce the metrics, recommend continues the ring', async () => {
  const before = resultsOf(runDir);
  const again = join(dir, 'again');
  const r = await runCli([
    'train',
    '--model',
    'bert4rec',
    '--dataset',
    dataset,
    '--state_dict_path',
    ckpt,
    '--inference_only',
    '--eval_protocol',
    'full',
    '--train_dir',
    again,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    resultsOf(again).results.map((x) => x.metrics),
    before.results.map((x) => x.metrics),
  );
  const e = await runCli(['eval', '--state_dict_path', ckpt, '--dataset', dataset, '--eval_protocol', 'full', '--json']);
  assert.equal(e.code, 0, e.stderr);
  const evaluated = JSON.parse(e.stdout);
  assert.equal(evaluated.modelSettings.model, 'bert4rec');
  const testFull = evaluated.results.find((x: { split: string }) => x.split === 'test');
  assert.deepEqual(testFull.metrics, before.results.find((x) => x.split === 'test')!.metrics);
  // a sampled evaluation works too
  const s = await runCli(['eval', '--state_dict_path', ckpt, '--dataset', dataset, '--json']);
  assert.equal(s.code, 0, s.stderr);
  // recommend: original ids, never the history, the ring's next item first
  const rec = await runCli(['recommend', '--state_dict_path', ckpt, '--history', '1000 1010 1020 1030', '--k', '26', '--json']);
  assert.equal(rec.code, 0, rec.stderr);
  const items = JSON.parse(rec.stdout).items.map((x: { item: string }) => x.item) as string[];
  assert.equal(items.length, 26, 'every item but the history');
  for (const it of items) assert.ok(/^1\d\d0$/.test(it) && !['1000', '1010', '1020', '1030'].includes(it), it);
  // (BERT4Rec learns the ring more slowly than SASRec: the next item is among the first three)
  assert.ok(items.slice(0, 3).includes('1040'), items.slice(0, 5).join(' '));
  const user = await runCli(['recommend', '--state_dict_path', ckpt, '--user', 'u3', '--k', '3']);
  assert.equal(user.code, 0, user.stderr);
  assert.equal(user.stdout.trim().split('\n').length, 3);
});

test('a resumed BERT4Rec run (batches from a worker) equals the uninterrupted run', async () => {
  const flags = [
    '--model',
    'bert4rec',
    '--dataset',
    dataset,
    ...tiny,
    '--loss',
    'bce_k',
    '--train_negatives',
    '3',
    '--eval_every',
    '1',
    '--seed',
    '5',
  ];
  const full = join(dir, 'full');
  assert.equal((await runCli(['train', ...flags, '--train_dir', full, '--num_epochs', '4'])).code, 0);
  const part = join(dir, 'part');
  assert.equal((await runCli(['train', ...flags, '--train_dir', part, '--num_epochs', '2'])).code, 0);
  const r = await runCli(['train', ...flags, '--train_dir', part, '--num_epochs', '4', '--resume', '--num_workers', '1']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(epochLosses(full).length, 4);
  assertSameRun(part, full, 'bert4rec.safetensors');
  // another mask proportion is another run
  const other = await runCli(['train', ...flags, '--mask_prob', '0.5', '--train_dir', part, '--num_epochs', '5', '--resume']);
  assert.equal(other.code, 2);
  assert.match(other.stderr, /--resume: --mask_prob is 0\.5 now but 0\.2 in the checkpoint/);
});

test('bert4rec runs in an experiments grid beside sasrec', async () => {
  const grid = join(dir, 'grid.yaml');
  writeFileSync(
    grid,
    `${[
      'datasets: [ring.txt]',
      'models: [sasrec, bert4rec]',
      'flags: { num_epochs: 1, eval_every: 1, maxlen: 8, hidden_units: 8, num_heads: 2, num_blocks: 1, batch_size: 16, threads: 1 }',
      'seeds: [1]',
      'out: exp',
    ].join('\n')}\n`,
  );
  const r = await runCli(['experiments', grid]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /2 runs trained/);
  assert.match(readFileSync(join(dir, 'exp', 'results.md'), 'utf8'), /\| ring \| bert4rec \| default \| 1 \|/);
});

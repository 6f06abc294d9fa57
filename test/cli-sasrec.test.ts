import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { writeRingDataset } from './helpers/datasets.js';
import { testTempDir } from './helpers/tmp.js';
import { sasrec } from '../src/models/sasrec/spec.js';
import { parseSafetensors } from '../src/engine/safetensors.js';
import { SHARED_FIXTURES_URL, NEEDS_SHARED } from './helpers/shared.js';

const dir = testTempDir('seqrec-sasrec-cli-');

// 80 users walking a ring of 30 items (original ids 1000, 1010, …): the next item is predictable.
const dataset = writeRingDataset(join(dir, 'ring.txt'));
const runDir = join(dir, 'run');
const ckpt = join(runDir, 'sasrec.safetensors');
const tiny = ['--maxlen', '8', '--hidden_units', '16', '--num_blocks', '1', '--num_heads', '2', '--dropout_rate', '0.1', '--batch_size', '16'];

test('train --model sasrec learns a predictable sequence, keeps the best checkpoint and writes results.json', async () => {
  const r = await runCli([
    'train',
    '--model',
    'sasrec',
    '--dataset',
    dataset,
    '--train_dir',
    runDir,
    '--num_epochs',
    '30',
    '--eval_every',
    '10',
    '--lr',
    '0.01',
    ...tiny,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(existsSync(ckpt));
  assert.deepEqual(
    readdirSync(runDir).filter((f) => f.includes('.tmp')),
    [],
    'no temp files left',
  );
  const results = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8'));
  const test = results.results.find((row: { split: string }) => row.split === 'test');
  // 101 candidates: a random scorer gets HR@10 ≈ 0.1; the ring is learnable
  assert.ok(test.metrics['HR@10'] > 0.6, `test HR@10 ${test.metrics['HR@10']}`);
  assert.match(r.stderr, /epoch 10: valid NDCG@10/);
  // the checkpoint carries the reference's tensor names plus config and id maps
  const { tensors, metadata } = parseSafetensors(readFileSync(ckpt));
  assert.deepEqual(tensors.get('attention_layers.0.in_proj_weight')?.shape, [48, 16]);
  assert.deepEqual(tensors.get('forward_layers.0.conv1.weight')?.shape, [16, 16, 1]);
  assert.equal(JSON.parse(metadata.config).model, 'sasrec');
  assert.equal(JSON.parse(metadata.item_ids)[1], '1000');
});

test('--inference_only on the checkpoint reproduces the reported metrics', async () => {
  const before = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8'));
  const out = join(dir, 'again');
  const r = await runCli(['train', '--model', 'sasrec', '--dataset', dataset, '--state_dict_path', ckpt, '--inference_only', '--train_dir', out]);
  assert.equal(r.code, 0, r.stderr);
  const after = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  assert.deepEqual(
    after.results.map((x: { metrics: unknown }) => x.metrics),
    before.results.map((x: { metrics: unknown }) => x.metrics),
  );
});

test('recommend speaks original ids and excludes the history', async () => {
  const r = await runCli(['recommend', '--state_dict_path', ckpt, '--history', '1000 1010 1020', '--k', '3', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.items.length, 3);
  for (const { item } of out.items) {
    assert.match(item, /^1\d\d0$/);
    assert.ok(!['1000', '1010', '1020'].includes(item));
  }
  assert.equal(out.items[0].item, '1030', 'the ring continues');
  const user = await runCli(['recommend', '--state_dict_path', ckpt, '--user', 'u3', '--k', '2']);
  assert.equal(user.code, 0, user.stderr);
  const unknown = await runCli(['recommend', '--state_dict_path', ckpt, '--history', '1000 77']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /77/);
  assert.equal(unknown.stderr.trim().split('\n').length, 1);
});

test('a truncated checkpoint is refused with one line naming the file', async () => {
  const bad = join(dir, 'bad.safetensors');
  writeFileSync(bad, readFileSync(ckpt).subarray(0, 500));
  const r = await runCli(['recommend', '--model', 'sasrec', '--state_dict_path', bad, '--history', '1000']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /bad\.safetensors/);
});

test('a PyTorch state_dict saved as safetensors loads and scores like PyTorch', { skip: NEEDS_SHARED }, () => {
  const fixture = new URL('sasrec-postln/', SHARED_FIXTURES_URL);
  const model = sasrec.load(readFileSync(new URL('weights.safetensors', fixture)));
  const inputs = JSON.parse(readFileSync(new URL('inputs.json', fixture), 'utf8'));
  const expected = parseSafetensors(readFileSync(new URL('expected.safetensors', fixture))).tensors.get('predict_logits')!;
  const B = inputs.log_seqs.length;
  const L = inputs.log_seqs[0].length;
  const C = inputs.item_indices[0].length;
  const scores = model.scorer.scoreCandidates(
    { batchSize: B, maxlen: L, users: Int32Array.from(inputs.user_ids), seqs: Int32Array.from(inputs.log_seqs.flat()) },
    Int32Array.from(inputs.item_indices.flat()),
    C,
  );
  for (let i = 0; i < B * C; i++) {
    assert.ok(Math.abs(scores[i] - expected.data[i]) <= 1e-4 * Math.abs(expected.data[i]) + 1e-5, `score ${i}: ${scores[i]} vs ${expected.data[i]}`);
  }
});

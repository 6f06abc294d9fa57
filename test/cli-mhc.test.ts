/**
 * SASRec-mHC through the CLI: train 2 epochs with --mhc_expansion_rate 2, the checkpoint carries the
 * mhc_layers.* tensors and the mHC settings, eval and recommend load it; flag errors exit 2.
 */
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseSafetensors } from '../src/engine/safetensors.js';
import { sasrec } from '../src/models/sasrec/spec.js';
import type { SASRec } from '../src/models/sasrec/sasrec.js';
import { runCli } from './helpers/cli.js';
import { writeRingDataset } from './helpers/datasets.js';
import { testTempDir } from './helpers/tmp.js';

const dir = testTempDir('seqrec-mhc-cli-');

const dataset = writeRingDataset(join(dir, 'ring.txt'), { users: 40, items: 20, length: (u) => 6 + (u % 5) });
const runDir = join(dir, 'run');
const ckpt = join(runDir, 'sasrec.safetensors');
const tiny = ['--maxlen', '8', '--hidden_units', '8', '--num_blocks', '2', '--num_heads', '2', '--dropout_rate', '0.1', '--batch_size', '16'];

test('train --mhc_expansion_rate 2 (2 epochs), then eval and recommend', async () => {
  const r = await runCli([
    'train',
    '--model',
    'sasrec',
    '--dataset',
    dataset,
    '--train_dir',
    runDir,
    '--num_epochs',
    '2',
    '--eval_every',
    '1',
    '--mhc_expansion_rate',
    '2',
    ...tiny,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /mHC 2 streams \(Sinkhorn 20, gate 0\.01, pre-LN\)/);
  assert.ok(existsSync(ckpt));
  const { tensors, metadata } = parseSafetensors(readFileSync(ckpt));
  assert.deepEqual(tensors.get('mhc_layers.0.attn.phi_res')?.shape, [4, 16]);
  assert.deepEqual(tensors.get('mhc_layers.1.ffn.b_res')?.shape, [2, 2]);
  assert.deepEqual(tensors.get('mhc_layers.1.ffn.alpha_pre')?.shape, [1]);
  const config = JSON.parse(metadata.config);
  assert.equal(config.mhc_expansion_rate, 2);
  assert.equal(config.mhc_sinkhorn_iter, 20);
  assert.equal(config.mhc_init_gate, 0.01);
  assert.equal(config.norm_first, true);

  // the loaded model is the mHC model with the trained weights
  const loaded = sasrec.load(readFileSync(ckpt));
  const model = loaded.scorer as SASRec;
  assert.deepEqual(model.config.mhc, { expansionRate: 2, sinkhornIter: 20, initGate: 0.01 });
  assert.notEqual(model.mhcLayers!.at(0).attn.alphaRes.data[0], Math.fround(0.01), 'the gates trained');

  const e = await runCli(['eval', '--state_dict_path', ckpt, '--dataset', dataset, '--json']);
  assert.equal(e.code, 0, e.stderr);
  const results = JSON.parse(e.stdout);
  assert.ok(Array.isArray(results.results) && results.results.length > 0);

  const rec = await runCli(['recommend', '--state_dict_path', ckpt, '--history', '1000 1010 1020', '--k', '3', '--json']);
  assert.equal(rec.code, 0, rec.stderr);
  assert.equal(JSON.parse(rec.stdout).items.length, 3);
});

test('mHC flag errors are user errors', async () => {
  const base = ['train', '--model', 'sasrec', '--dataset', dataset, '--train_dir', join(dir, 'bad'), '--num_epochs', '1', ...tiny];
  const postLN = await runCli([...base, '--mhc', '--norm_first', 'false']);
  assert.equal(postLN.code, 2, postLN.stderr);
  assert.match(postLN.stderr, /pre-LN/);
  const off = await runCli([...base, '--mhc_sinkhorn_iter', '5']);
  assert.equal(off.code, 2);
  assert.match(off.stderr, /--mhc_sinkhorn_iter: mHC is off/);
  const zero = await runCli([...base, '--mhc_expansion_rate', '0']);
  assert.equal(zero.code, 2);
  assert.match(zero.stderr, /--mhc_expansion_rate/);
});

test('--resume of an mHC run (mhc_layers.* weights and their Adam state) equals the uninterrupted run', async () => {
  const args = (d: string, epochs: string) => [
    'train',
    '--model',
    'sasrec',
    '--dataset',
    dataset,
    '--train_dir',
    d,
    '--num_epochs',
    epochs,
    '--eval_every',
    '1',
    '--mhc_expansion_rate',
    '2',
    '--seed',
    '5',
    ...tiny,
  ];
  const a = join(dir, 'resumed');
  const b = join(dir, 'straight');
  assert.equal((await runCli(args(a, '1'))).code, 0);
  const resumed = await runCli([...args(a, '2'), '--resume']);
  assert.equal(resumed.code, 0, resumed.stderr);
  const straight = await runCli(args(b, '2'));
  assert.equal(straight.code, 0, straight.stderr);
  const metrics = (d: string) => JSON.parse(readFileSync(join(d, 'results.json'), 'utf8')).results.map((r: { metrics: unknown }) => r.metrics);
  assert.deepEqual(metrics(a), metrics(b));
  // the same weights (the metadata may differ, e.g. the resumed file's train state)
  const ta = parseSafetensors(readFileSync(join(a, 'sasrec.safetensors'))).tensors;
  const tb = parseSafetensors(readFileSync(join(b, 'sasrec.safetensors'))).tensors;
  assert.deepEqual([...ta.keys()], [...tb.keys()]);
  assert.ok([...ta.keys()].some((k) => k.startsWith('mhc_layers.')));
  for (const [k, t] of ta) assert.deepEqual(t.data, tb.get(k)!.data, k);
});

/**
 * `seqrec export --format onnx`: the ONNX graph of a trained SASRec, run by onnxruntime, gives the
 * engine's scoreAll scores (and, with --graph hidden, its last-position features) on real histories,
 * short left-padded ones included, for post-LN with several heads and for pre-LN; bad input (a model
 * without an ONNX graph, an existing output, a corrupt file) is a one-line error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { SASRec } from '../src/models/sasrec/sasrec.js';
import { loadModelFile } from '../src/train/model-file.js';
import { runCli } from './helpers/cli.js';
import { writeRingDataset } from './helpers/datasets.js';
import { testTempDir } from './helpers/tmp.js';

const dir = testTempDir('seqrec-export-onnx-');
const dataset = writeRingDataset(join(dir, 'ring.txt'));
const MAXLEN = 12;

async function train(name: string, flags: string[]): Promise<string> {
  const runDir = join(dir, name);
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
    '--maxlen',
    String(MAXLEN),
    '--hidden_units',
    '16',
    '--batch_size',
    '16',
    '--threads',
    '1',
    '--eval_protocol',
    'full',
    ...flags,
  ]);
  assert.equal(r.code, 0, r.stderr);
  return join(runDir, 'sasrec.safetensors');
}

/** The model's training histories left-padded to maxlen, plus prefixes of 1, 2 and 5 items (more padding). */
function historiesOf(histories: readonly Int32Array[]): Int32Array[] {
  const out: Int32Array[] = [];
  for (const h of histories.slice(1, 9)) out.push(h, h.subarray(0, 1), h.subarray(0, 2), h.subarray(0, 5));
  return out;
}

function leftPadded(hs: readonly Int32Array[]): Int32Array {
  const seqs = new Int32Array(hs.length * MAXLEN);
  hs.forEach((h, b) => {
    const tail = h.subarray(Math.max(0, h.length - MAXLEN));
    seqs.set(tail, b * MAXLEN + MAXLEN - tail.length);
  });
  return seqs;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  assert.ok(worst <= 1e-4, `${what}: max |onnx − seqrec| = ${worst}`);
}

async function exportAndCompare(file: string, expectHeads: number, expectNormFirst: boolean): Promise<void> {
  const { model } = await loadModelFile(file);
  const net = (model as unknown as { scorer: SASRec }).scorer;
  assert.ok(net instanceof SASRec);
  assert.equal(net.config.numHeads, expectHeads);
  assert.equal(net.config.normFirst, expectNormFirst);
  const hs = historiesOf(model.histories ?? []);
  assert.ok(hs.some((h) => h.length < MAXLEN) && hs.some((h) => h.length >= MAXLEN), 'padded and full histories');
  const seqs = leftPadded(hs);
  const batchSize = hs.length;
  const n = net.config.itemNum + 1;
  const expected = net.scoreAll({ batchSize, maxlen: MAXLEN, users: new Int32Array(batchSize), seqs });
  const input = {
    history: new ort.Tensor(
      'int64',
      BigInt64Array.from(seqs, (x) => BigInt(x)),
      [batchSize, MAXLEN],
    ),
  };

  const scoresPath = join(dir, `${expectHeads}-${expectNormFirst}-scores.onnx`);
  const r = await runCli(['export', '--format', 'onnx', '--state_dict_path', file, '--output', scoresPath]);
  assert.equal(r.code, 0, r.stderr);
  const session = await ort.InferenceSession.create(scoresPath);
  assert.deepEqual([session.inputNames, session.outputNames], [['history'], ['scores']]);
  const scores = (await session.run(input)).scores;
  assert.deepEqual(scores.dims, [batchSize, n]);
  assertClose(scores.data as Float32Array, expected, 'scores');

  // the hidden state: its dot products with the item embeddings are the scores
  const hiddenPath = join(dir, `${expectHeads}-${expectNormFirst}-hidden.onnx`);
  const h = await runCli(['export', '--state_dict_path', file, '--output', hiddenPath, '--graph', 'hidden']);
  assert.equal(h.code, 0, h.stderr);
  const hidden = (await (await ort.InferenceSession.create(hiddenPath)).run(input)).hidden;
  const d = net.config.hiddenUnits;
  assert.deepEqual(hidden.dims, [batchSize, d]);
  const hd = hidden.data as Float32Array;
  const emb = net.itemEmb.weight.data;
  const viaHidden = new Float32Array(batchSize * n);
  for (let b = 0; b < batchSize; b++)
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += hd[b * d + k] * emb[i * d + k];
      viaHidden[b * n + i] = s;
    }
  assertClose(viaHidden, expected, 'hidden · item_emb');
  model.dispose();
}

test('SASRec post-LN, 2 blocks, 2 heads: onnxruntime scores and hidden states equal seqrec scoreAll within 1e-4', async () => {
  await exportAndCompare(await train('post', ['--num_blocks', '2', '--num_heads', '2']), 2, false);
});

test('SASRec pre-LN (--norm_first), 1 head: onnxruntime scores equal seqrec scoreAll within 1e-4', async () => {
  await exportAndCompare(await train('pre', ['--num_blocks', '1', '--num_heads', '1', '--norm_first']), 1, true);
});

test('the mHC variant is refused in one line naming the option', async () => {
  const file = await train('mhc', ['--num_blocks', '1', '--mhc_expansion_rate', '2', '--num_epochs', '1']);
  const out = join(dir, 'mhc.onnx');
  const r = await runCli(['export', '--state_dict_path', file, '--output', out]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^seqrec: export --format onnx: .*mHC variant \(--mhc_expansion_rate\)[^\n]*\n$/);
  assert.equal(existsSync(out), false);
});

test('export refuses an existing output without --overwrite, a model without an ONNX graph, and a corrupt file, in one line', async () => {
  const bpr = join(dir, 'bpr');
  const p = await runCli(['train', '--model', 'bpr', '--dataset', dataset, '--train_dir', bpr, '--num_epochs', '1', '--eval_protocol', 'full']);
  assert.equal(p.code, 0, p.stderr);
  const bprFile = join(bpr, 'bpr.safetensors');
  const out = join(dir, 'bpr.onnx');
  const r = await runCli(['export', '--state_dict_path', bprFile, '--output', out]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^seqrec: export --format onnx: bpr models cannot be exported \(supported: sasrec, tisasrec\)\n$/);
  assert.equal(existsSync(out), false);

  const corrupt = join(dir, 'corrupt.safetensors');
  writeFileSync(corrupt, 'not a model file at all');
  const c = await runCli(['export', '--state_dict_path', corrupt, '--output', out]);
  assert.notEqual(c.code, 0);
  assert.equal(c.stderr.trim().split('\n').length, 1, c.stderr);
  assert.match(c.stderr, /corrupt\.safetensors/);
  assert.equal(existsSync(out), false);

  writeFileSync(out, 'keep me');
  const e = await runCli(['export', '--state_dict_path', bprFile, '--output', out]);
  assert.notEqual(e.code, 0);
  assert.match(e.stderr, /^seqrec: --output .*bpr\.onnx exists: pass --overwrite to replace it\n$/);
  assert.equal(readFileSync(out, 'utf8'), 'keep me');
});

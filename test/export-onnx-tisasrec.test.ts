/**
 * `seqrec export --format onnx` for TiSASRec: onnxruntime, given left-padded histories and their RAW
 * int64 timestamps, gives the engine's scoreAll scores (ad-hoc histories, user 0: each scaled by its
 * own min and smallest gap) and, with --graph hidden, its last-position features, within 1e-4, with
 * two heads and with one under --time_unit hours; intervals span the clip at time_span, equal timestamps
 * and gaps of several units included.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { TiSASRec } from '../src/models/tisasrec/tisasrec.js';
import { loadModelFile } from '../src/train/model-file.js';
import { runCli } from './helpers/cli.js';
import { writeRingDataset } from './helpers/datasets.js';
import { testTempDir } from './helpers/tmp.js';

const dir = testTempDir('seqrec-export-onnx-tisasrec-');
const dataset = writeRingDataset(join(dir, 'ring.txt'), { timed: true });
const MAXLEN = 10;
const TIME_SPAN = 6;

async function train(name: string, flags: string[]): Promise<string> {
  const runDir = join(dir, name);
  const r = await runCli([
    'train',
    '--model',
    'tisasrec',
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
    '--time_span',
    String(TIME_SPAN),
    '--batch_size',
    '16',
    '--threads',
    '1',
    '--eval_protocol',
    'full',
    ...flags,
  ]);
  assert.equal(r.code, 0, r.stderr);
  return join(runDir, 'tisasrec.safetensors');
}

interface Timed {
  items: Int32Array;
  times: number[];
}

/**
 * The model's own histories with their raw times, the same histories with irregular times (repeats,
 * gaps of 1..9 hours: intervals below and above time_span), and short prefixes (more padding).
 */
function historiesOf(histories: readonly Int32Array[], historyTimes: readonly Float64Array[]): Timed[] {
  const out: Timed[] = [];
  let seed = 7;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  for (let u = 1; u <= 8; u++) {
    const items = histories[u];
    out.push({ items, times: Array.from(historyTimes[u]) });
    let t = 1_600_000_000 + u * 977;
    const irregular = Array.from(items, () => (t += next() < 0.2 ? 0 : 3600 * Math.ceil(next() * 9)));
    out.push({ items, times: irregular });
    out.push({ items: items.subarray(0, 1), times: irregular.slice(0, 1) });
    out.push({ items: items.subarray(0, 3), times: irregular.slice(0, 3) });
  }
  return out;
}

function leftPadded(hs: readonly Timed[]): { seqs: Int32Array; times: Float64Array } {
  const seqs = new Int32Array(hs.length * MAXLEN);
  const times = new Float64Array(hs.length * MAXLEN);
  hs.forEach((h, b) => {
    const from = Math.max(0, h.items.length - MAXLEN);
    const n = h.items.length - from;
    seqs.set(h.items.subarray(from), b * MAXLEN + MAXLEN - n);
    times.set(h.times.slice(from), b * MAXLEN + MAXLEN - n);
  });
  return { seqs, times };
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  assert.ok(worst <= 1e-4, `${what}: max |onnx − seqrec| = ${worst}`);
}

async function exportAndCompare(file: string, expectHeads: number, expectUnit: number): Promise<void> {
  const { model } = await loadModelFile(file);
  const net = (model as unknown as { scorer: TiSASRec }).scorer;
  assert.ok(net instanceof TiSASRec);
  assert.equal(net.config.numHeads, expectHeads);
  assert.equal(net.timeScaling?.unit, expectUnit);
  assert.ok(model.histories && model.historyTimes, 'the model file carries histories and times');
  const hs = historiesOf(model.histories, model.historyTimes);
  assert.ok(hs.some((h) => h.items.length < MAXLEN) && hs.some((h) => h.items.length >= MAXLEN), 'padded and full histories');
  const { seqs, times } = leftPadded(hs);
  const batchSize = hs.length;
  const n = net.config.itemNum + 1;
  const expected = net.scoreAll({ batchSize, maxlen: MAXLEN, users: new Int32Array(batchSize), seqs, times });
  // the times matter: the same items with other times score differently
  const shuffled = leftPadded(hs.map((h) => ({ items: h.items, times: h.times.map((t, k) => t + 3600 * k * k) })));
  const other = net.scoreAll({ batchSize, maxlen: MAXLEN, users: new Int32Array(batchSize), seqs, times: shuffled.times });
  assert.ok(
    other.some((s, i) => Math.abs(s - expected[i]) > 1e-3),
    'times change the scores',
  );
  const int64 = (a: ArrayLike<number>) =>
    new ort.Tensor(
      'int64',
      BigInt64Array.from(Array.from(a), (x) => BigInt(x)),
      [batchSize, MAXLEN],
    );
  const input = { history: int64(seqs), times: int64(times) };

  const scoresPath = join(dir, `${expectHeads}-${expectUnit}-scores.onnx`);
  const r = await runCli(['export', '--format', 'onnx', '--state_dict_path', file, '--output', scoresPath]);
  assert.equal(r.code, 0, r.stderr);
  const session = await ort.InferenceSession.create(scoresPath);
  assert.deepEqual([session.inputNames, session.outputNames], [['history', 'times'], ['scores']]);
  const scores = (await session.run(input)).scores;
  assert.deepEqual(scores.dims, [batchSize, n]);
  assertClose(scores.data as Float32Array, expected, 'scores');
  const otherScores = (await session.run({ history: input.history, times: int64(shuffled.times) })).scores;
  assertClose(otherScores.data as Float32Array, other, 'scores with other times');

  const hiddenPath = join(dir, `${expectHeads}-${expectUnit}-hidden.onnx`);
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

test('TiSASRec post-LN, 2 blocks, 2 heads: onnxruntime scores (raw times in) and hidden states equal seqrec scoreAll within 1e-4', async () => {
  await exportAndCompare(await train('post', ['--num_blocks', '2', '--num_heads', '2']), 2, 1);
});

test('TiSASRec with --time_unit hours (the fitted unit and global minimum in the graph), 1 block, 1 head: scores equal within 1e-4', async () => {
  await exportAndCompare(await train('hours', ['--num_blocks', '1', '--num_heads', '1', '--time_unit', 'hours']), 1, 3600);
});

test('the mHC variant of TiSASRec is refused in one line', async () => {
  const file = await train('mhc', ['--num_blocks', '1', '--mhc_expansion_rate', '2', '--num_epochs', '1']);
  const out = join(dir, 'mhc.onnx');
  const r = await runCli(['export', '--state_dict_path', file, '--output', out]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^seqrec: export --format onnx: .*mHC variant \(--mhc_expansion_rate\)[^\n]*\n$/);
  assert.equal(existsSync(out), false);
});

/**
 * The losses through `seqrec train`: each learns a predictable sequence; a model file records its loss,
 * loads back in eval and recommend, and a run with one resumes exactly; contradictory flags are one
 * line naming the flag.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSafetensors } from '../src/engine/safetensors.js';
import { runCli } from './helpers/cli.js';
import { writeRingDataset } from './helpers/datasets.js';
import { testTempDir } from './helpers/tmp.js';
import { epochLosses, runMetrics } from './helpers/run-dir.js';

const dir = testTempDir('seqrec-cli-losses-');
const dataset = writeRingDataset(join(dir, 'ring.txt'), { timed: true });
const tiny = [
  '--maxlen',
  '8',
  '--hidden_units',
  '16',
  '--num_blocks',
  '1',
  '--num_heads',
  '2',
  '--dropout_rate',
  '0.1',
  '--batch_size',
  '16',
  '--threads',
  '1',
];
const resultsOf = (d: string) =>
  JSON.parse(readFileSync(join(d, 'results.json'), 'utf8')) as {
    results: Array<{ protocol: string; split: string; metrics: Record<string, number> }>;
  };
const testNdcg = (d: string, protocol: string) => resultsOf(d).results.find((r) => r.split === 'test' && r.protocol === protocol)!.metrics['NDCG@10'];

test('every loss learns the ring (full-ranking test NDCG@10 well above chance), and its model file says which loss', {
  timeout: 240_000,
}, async () => {
  for (const loss of [
    ['ce'],
    ['bce_k', '--train_negatives', '4'],
    ['gbce', '--train_negatives', '4'],
    ['sampled_softmax', '--train_negatives', '8', '--shared_negatives'],
    ['bpr', '--train_negatives', '2'],
  ]) {
    const d = join(dir, `learn-${loss[0]}`);
    const r = await runCli([
      'train',
      '--model',
      'sasrec',
      '--dataset',
      dataset,
      '--train_dir',
      d,
      '--num_epochs',
      '20',
      '--eval_every',
      '10',
      '--lr',
      '0.01',
      '--eval_protocol',
      'full',
      ...tiny,
      '--loss',
      ...loss,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`SASRec: .*loss ${loss[0]}`));
    // 30 items, history excluded: chance is about 1/25
    assert.ok(testNdcg(d, 'full') > 0.3, `${loss[0]}: full test NDCG@10 ${testNdcg(d, 'full')}`);
    const file = parseSafetensors(new Uint8Array(readFileSync(join(d, 'sasrec.safetensors'))));
    const config = JSON.parse(file.metadata.config);
    assert.equal(config.loss, loss[0]);
    if (loss[0] !== 'ce') assert.equal(config.train_negatives, Number(loss[2]));
  }
  // the default bce writes no loss keys: its files stay as they were
  const b = join(dir, 'learn-bce');
  assert.equal((await runCli(['train', '--model', 'sasrec', '--dataset', dataset, '--train_dir', b, '--num_epochs', '1', ...tiny])).code, 0);
  const bceConfig = JSON.parse(parseSafetensors(new Uint8Array(readFileSync(join(b, 'sasrec.safetensors')))).metadata.config);
  assert.equal(bceConfig.loss, undefined);
  // a gbce model file loads in eval and recommend
  const g = join(dir, 'learn-gbce', 'sasrec.safetensors');
  const e = await runCli(['eval', '--state_dict_path', g, '--dataset', dataset, '--json']);
  assert.equal(e.code, 0, e.stderr);
  assert.equal(JSON.parse(e.stdout).modelSettings.loss, 'gbce');
  const rec = await runCli(['recommend', '--state_dict_path', g, '--history', '1000 1010 1020']);
  assert.equal(rec.code, 0, rec.stderr);
  assert.match(rec.stdout, /^1030\t/);
});

test('TiSASRec trains with --loss ce', async () => {
  const d = join(dir, 'tisasrec-ce');
  const r = await runCli([
    'train',
    '--model',
    'tisasrec',
    '--dataset',
    dataset,
    '--train_dir',
    d,
    '--num_epochs',
    '2',
    '--eval_every',
    '1',
    ...tiny,
    '--loss',
    'ce',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /TiSASRec: .*loss ce/);
});

test('a run with --loss sampled_softmax resumes to exactly the uninterrupted run', async () => {
  const common = ['--model', 'sasrec', '--dataset', dataset, ...tiny, '--train_negatives', '5', '--eval_every', '1', '--seed', '3'];
  const flags = [...common, '--loss', 'sampled_softmax'];
  const full = join(dir, 'ssm-full');
  assert.equal((await runCli(['train', ...flags, '--train_dir', full, '--num_epochs', '4'])).code, 0);
  const part = join(dir, 'ssm-part');
  assert.equal((await runCli(['train', ...flags, '--train_dir', part, '--num_epochs', '2'])).code, 0);
  const r = await runCli(['train', ...flags, '--train_dir', part, '--num_epochs', '4', '--resume']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(epochLosses(part), epochLosses(full));
  assert.deepEqual(runMetrics(part), runMetrics(full));
  // resuming with another loss is refused
  const other = await runCli(['train', ...common, '--loss', 'bce_k', '--train_dir', part, '--num_epochs', '5', '--resume']);
  assert.equal(other.code, 2);
  assert.match(other.stderr, /--resume: --loss is "bce_k" now but "sampled_softmax" in the checkpoint/);
});

test('loss flags that contradict each other are one line naming the flag', async () => {
  const base = ['train', '--model', 'sasrec', '--dataset', dataset, '--train_dir', join(dir, 'never')];
  for (const [flags, why] of [
    [['--train_negatives', '5'], /^seqrec: --train_negatives: --loss bce does not sample K negatives/m],
    [['--loss', 'ce', '--train_negatives', '5'], /^seqrec: --train_negatives: --loss ce does not sample K negatives/m],
    [['--loss', 'bce_k', '--shared_negatives'], /^seqrec: --shared_negatives: only with --loss sampled_softmax$/m],
    [['--loss', 'ce', '--gbce_t', '0.5'], /^seqrec: --gbce_t: only with --loss gbce$/m],
    [['--loss', 'gbce', '--gbce_t', '2'], /^seqrec: --gbce_t: at most 1, got 2$/m],
    [['--loss', 'softmax'], /^seqrec: --loss: expected one of bce, bce_k, gbce, sampled_softmax, ce, bpr, got "softmax"$/m],
  ] as const) {
    const r = await runCli([...base, ...flags]);
    assert.equal(r.code, 2, `${flags.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, why);
  }
  const help = await runCli(['train', '--help']);
  assert.match(help.stdout, /--loss <name> +training loss: bce/);
  assert.match(help.stdout, /--train_negatives <n>/);
});

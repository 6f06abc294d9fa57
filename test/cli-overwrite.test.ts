/**
 * Nothing the user has is lost by a mistyped command: a finished run is not replaced without
 * --overwrite, a refused command leaves the run directory as it was, and no output may be one of the
 * command's own inputs (model file, dataset, convert input).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { writeRingDataset } from './helpers/datasets.js';
import { testTempDir } from './helpers/tmp.js';

const dir = testTempDir('seqrec-overwrite-');
const dataset = writeRingDataset(join(dir, 'ring.txt'), { users: 30 });
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
  '--seed',
  '3',
];

/** Every file of a directory with its bytes. */
const snapshot = (d: string) =>
  new Map(
    readdirSync(d)
      .sort()
      .map((f) => [f, readFileSync(join(d, f)).toString('base64')]),
  );

test('a finished run is kept: refused without --overwrite; refused flags and --resume mismatches change nothing', async () => {
  const run = join(dir, 'finished');
  const first = await runCli(['train', ...tiny, '--num_epochs', '2', '--train_dir', run]);
  assert.equal(first.code, 0, first.stderr);
  const before = snapshot(run);
  assert.ok(before.has('results.json') && before.has('log.jsonl') && before.has('sasrec.safetensors'));

  const again = await runCli(['train', ...tiny, '--num_epochs', '2', '--train_dir', run]);
  assert.equal(again.code, 2, again.stderr);
  assert.match(
    again.stderr,
    /--train_dir .*finished already holds a run \((sasrec\.safetensors|results\.json)\): --resume continues it, --overwrite replaces it/,
  );

  const badFlag = await runCli(['train', ...tiny, '--num_epochs', '2', '--maxlen', '0', '--train_dir', run, '--overwrite']);
  assert.equal(badFlag.code, 2, badFlag.stderr);
  assert.match(badFlag.stderr, /--maxlen: expected an integer ≥ 1, got 0/);

  const noTimes = await runCli([
    'train',
    ...tiny.map((a) => (a === 'sasrec' ? 'tisasrec' : a)),
    '--num_epochs',
    '2',
    '--train_dir',
    run,
    '--overwrite',
  ]);
  assert.equal(noTimes.code, 2, noTimes.stderr);
  assert.match(noTimes.stderr, /no timestamps/);

  const mismatch = await runCli(['train', ...tiny, '--num_epochs', '3', '--hidden_units', '16', '--train_dir', run, '--resume']);
  assert.equal(mismatch.code, 2, mismatch.stderr);
  assert.match(mismatch.stderr, /--resume: --hidden_units is 16 now but 8/);

  assert.deepEqual(snapshot(run), before, 'the finished run is byte for byte as it was');

  // --resume of the finished run with another flag is refused; with its own flags it trains nothing,
  // so its config.json and results.json stay those it was trained with
  const otherFlags = await runCli(['train', ...tiny, '--num_epochs', '2', '--hidden_units', '16', '--train_dir', run, '--resume']);
  assert.equal(otherFlags.code, 2, otherFlags.stderr);
  assert.match(otherFlags.stderr, /--resume: --hidden_units is 16 now but 8/);
  const resumedFinished = await runCli(['train', ...tiny, '--num_epochs', '2', '--train_dir', run, '--resume']);
  assert.equal(resumedFinished.code, 0, resumedFinished.stderr);
  assert.match(resumedFinished.stderr, /had already finished/);
  assert.equal(readFileSync(join(run, 'config.json'), 'base64'), before.get('config.json'));
  assert.equal(readFileSync(join(run, 'results.json'), 'base64'), before.get('results.json'));

  // --inference_only may not replace the training run's results.json (its default --train_dir is that folder)
  const model = join(run, 'sasrec.safetensors');
  const inference = ['train', '--model', 'sasrec', '--dataset', dataset, '--state_dict_path', model, '--inference_only', '--train_dir', run];
  const refused = await runCli(inference);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /--inference_only would replace .*results\.json, the results of a training run/);
  assert.equal(JSON.parse(readFileSync(join(run, 'results.json'), 'utf8')).command, 'train');
  const elsewhere = await runCli([...inference.slice(0, -1), join(dir, 'inference-out')]);
  assert.equal(elsewhere.code, 0, elsewhere.stderr);
  const forced = await runCli([...inference, '--overwrite']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(JSON.parse(readFileSync(join(run, 'results.json'), 'utf8')).command, 'train --inference_only');

  const replaced = await runCli(['train', ...tiny, '--num_epochs', '1', '--train_dir', run, '--overwrite']);
  assert.equal(replaced.code, 0, replaced.stderr);
  assert.equal(readFileSync(join(run, 'log.jsonl'), 'utf8').trim().split('\n').length, 1, 'the new run has one epoch');
});

test('the dataset is never among the files a run writes', async () => {
  const run = join(dir, 'holds-data');
  mkdirSync(run, { recursive: true });
  const inside = join(run, 'summary.txt');
  copyFileSync(dataset, inside);
  const r = await runCli(['train', ...tiny.map((a) => (a === dataset ? inside : a)), '--num_epochs', '1', '--train_dir', run]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /the run would overwrite the dataset .*summary\.txt/);
  assert.equal(readFileSync(inside, 'utf8'), readFileSync(dataset, 'utf8'));
});

test('eval --output and convert --output may not be an input or a directory', async () => {
  const run = join(dir, 'for-eval');
  const t = await runCli(['train', ...tiny, '--num_epochs', '1', '--train_dir', run]);
  assert.equal(t.code, 0, t.stderr);
  const model = join(run, 'sasrec.safetensors');
  const modelBytes = readFileSync(model);
  for (const [output, why] of [
    [model, /--output .* is the --state_dict_path file: refusing to overwrite an input/],
    [dataset, /--output .* is the --dataset file: refusing to overwrite an input/],
    [run, /is a directory/],
  ] as const) {
    const r = await runCli(['eval', '--state_dict_path', model, '--dataset', dataset, '--output', output]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, why);
  }
  assert.deepEqual(readFileSync(model), modelBytes);
  // a new folder for the output is created, as before
  const fresh = join(dir, 'new-dir', 'sub', 'r.json');
  const ok = await runCli(['eval', '--state_dict_path', model, '--dataset', dataset, '--output', fresh]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(readFileSync(fresh, 'utf8')).command, 'eval');

  const input = join(dir, 'input.txt');
  copyFileSync(dataset, input);
  const same = await runCli(['convert', '--input', input, '--output', input]);
  assert.equal(same.code, 2, same.stderr);
  assert.match(same.stderr, /--output .*input\.txt is the --input file/);
  assert.equal(readFileSync(input, 'utf8'), readFileSync(dataset, 'utf8'));

  // an id-map target that is a directory is found before anything is written
  const out = join(dir, 'conv', 'o.txt');
  mkdirSync(`${out}.users.tsv`, { recursive: true });
  writeFileSync(out, 'previous contents\n');
  const blocked = await runCli(['convert', '--input', input, '--output', out]);
  assert.equal(blocked.code, 2, blocked.stderr);
  assert.match(blocked.stderr, /o\.txt\.users\.tsv: is a directory/);
  assert.equal(readFileSync(out, 'utf8'), 'previous contents\n');
});

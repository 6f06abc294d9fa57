/**
 * Nothing the user has is lost by a mistyped command: a finished run is not replaced without
 * --overwrite, a refused command leaves the run directory as it was, and no output may be one of the
 * command's own inputs (model file, dataset, convert input).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { writeRingDataset } from './helpers/datasets.js';
import { testTempDir } from './helpers/tmp.js';

const dir = testTempDir('seqrec-overwrite-');
const dataset = writeRingDataset(join(dir, 'ring.txt'), { users: 30 });
const tiny = ['--model', 'sasrec', '--dataset', dataset, '--maxlen', '6', '--hidden_units', '8', '--num_blocks', '1', '--batch_size', '16', '--threads', '1', '--seed', '3'];

/** Every file of a directory with its bytes. */
const snapshot = (d: string) => new Map(readdirSync(d).sort().map((f) => [f, readFileSync(join(d, f)).toString('base64')]));

test('a finished run is kept: refused without --overwrite; refused flags and --resume mismatches change nothing', async () => {
  const run = join(dir, 'finished');
  const first = await runCli(['train', ...tiny, '--num_epochs', '2', '--train_dir', run]);
  assert.equal(first.code, 0, first.stderr);
  const before = snapshot(run);
  assert.ok(before.has('results.json') && before.has('log.jsonl') && before.has('sasrec.safetensors'));

  const again = await runCli(['train', ...tiny, '--num_epochs', '2', '--train_dir', run]);
  assert.equal(again.code, 2, again.stderr);
  assert.match(again.stderr, /--train_dir .*finished already holds a run \((sasrec\.safetensors|results\.json)\): --resume continues it, --overwrite replaces it/);

  const badFlag = await runCli(['train', ...tiny, '--num_epochs', '2', '--maxlen', '0', '--train_dir', run, '--overwrite']);
  assert.equal(badFlag.code, 2, badFlag.stderr);
  assert.match(badFlag.stderr, /--maxlen: expected a positive integer, got 0/);

  const noTimes = await runCli(['train', ...tiny.map((a) => (a === 'sasrec' ? 'tisasrec' : a)), '--num_epochs', '2', '--train_dir', run, '--overwrite']);
  assert.equal(noTimes.code, 2, noTimes.stderr);
  assert.match(noTimes.stderr, /no timestamps/);

  const mismatch = await runCli(['train', ...tiny, '--num_epochs', '3', '--hidden_units', '16', '--train_dir', run, '--resume']);
  assert.equal(mismatch.code, 2, mismatch.stderr);
  assert.match(mismatch.stderr, /--resume: --hidden_units is 16 now but 8/);

  assert.deepEqual(snapshot(run), before, 'the finished run is byte for byte as it was');

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

test('eval --output and convert --output may not be an input, a directory, or in a missing directory', async () => {
  const run = join(dir, 'for-eval');
  const t = await runCli(['train', ...tiny, '--num_epochs', '1', '--train_dir', run]);
  assert.equal(t.code, 0, t.stderr);
  const model = join(run, 'sasrec.safetensors');
  const modelBytes = readFileSync(model);
  for (const [output, why] of [
    [model, /--output .* is the --state_dict_path file: refusing to overwrite an input/],
    [dataset, /--output .* is the --dataset file: refusing to overwrite an input/],
    [run, /is a directory/],
    [join(dir, 'no-such-dir', 'r.json'), /the directory .*no-such-dir does not exist/],
  ] as const) {
    const r = await runCli(['eval', '--state_dict_path', model, '--dataset', dataset, '--output', output]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, why);
  }
  assert.deepEqual(readFileSync(model), modelBytes);
  assert.equal(existsSync(join(dir, 'no-such-dir')), false);

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

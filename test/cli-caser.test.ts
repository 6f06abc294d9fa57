/**
 * Caser through the CLI: `--help` lists it and its flags, and its training defaults are the authors';
 * it learns the ring (the next item follows from the last ones) far better than PopRec; its model file
 * reloads in `train --inference_only`, `eval` and `recommend` (a known user, and an ad-hoc history with
 * the unknown user); a resumed run equals the uninterrupted one; bad flags are one-line errors; it runs
 * in an experiments grid.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { leaveOneOut, loadDataset } from '../src/data/index.js';
import { Rng } from '../src/engine/rng.js';
import { parseSafetensors } from '../src/engine/safetensors.js';
import { caser } from '../src/models/caser/spec.js';
import { DEFAULT_TRAINING_RECORD } from '../src/models/contract.js';
import { parseTrainRequest } from '../src/train/request.js';
import { runCli } from './helpers/cli.js';
import { writeRingDataset } from './helpers/datasets.js';
import { testTempDir } from './helpers/tmp.js';
import { assertSameRun, epochLosses } from './helpers/run-dir.js';

const dir = testTempDir('seqrec-cli-caser-');
const dataset = writeRingDataset(join(dir, 'ring.txt'));
const tiny = ['--hidden_units', '16', '--batch_size', '16', '--threads', '1'];
const runDir = join(dir, 'run');
const ckpt = join(runDir, 'caser.safetensors');

type Results = { results: Array<{ protocol: string; split: string; metrics: Record<string, number> }> };
const resultsOf = (d: string) => JSON.parse(readFileSync(join(d, 'results.json'), 'utf8')) as Results;
const testNdcg = (d: string) => resultsOf(d).results.find((x) => x.split === 'test' && x.protocol === 'full')!.metrics['NDCG@10'];

test('train --help lists --model caser and its flags with the paper defaults', async () => {
  const r = await runCli(['train', '--help']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /caser/);
  for (const flag of ['--targets', '--n_v', '--n_h', '--l2', '--neg_samples']) assert.match(r.stdout, new RegExp(`${flag} `));
  assert.match(r.stdout, /caser 5/, 'L = maxlen 5');
  // the authors' batches of 512 windows and 50 epochs, unless the flags say otherwise
  const { training } = parseTrainRequest({ model: 'caser' });
  assert.equal(training.batchSize, 512);
  assert.equal(training.numEpochs, 50);
  assert.equal(parseTrainRequest({ model: 'caser', batch_size: '64' }).training.batchSize, 64);
  assert.equal(parseTrainRequest({ model: 'sasrec' }).training.batchSize, 128);
});

test('train --model caser learns the ring (full-ranking test NDCG@10) far better than PopRec; the file holds its tensors and config', async () => {
  const r = await runCli([
    'train',
    '--model',
    'caser',
    '--dataset',
    dataset,
    '--train_dir',
    runDir,
    '--num_epochs',
    '15',
    '--eval_every',
    '5',
    '--lr',
    '0.01',
    '--eval_protocol',
    'full',
    ...tiny,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /Caser: L 5, T 3, d 16, n_v 4, n_h 16, dropout 0\.5, l2 0\.000001, 3 negatives per target, lr 0\.01, batch 16, 15 epochs of 30 steps, 477 windows, 16 per batch/,
  );
  const pop = join(dir, 'pop');
  const p = await runCli(['train', '--model', 'pop', '--dataset', dataset, '--train_dir', pop, '--eval_protocol', 'full']);
  assert.equal(p.code, 0, p.stderr);
  // 30 items on a ring, equally popular, the history excluded: PopRec ranks about at random
  assert.ok(testNdcg(runDir) > 0.6, `Caser full test NDCG@10 ${testNdcg(runDir)}`);
  assert.ok(testNdcg(runDir) > testNdcg(pop) + 0.3, `Caser ${testNdcg(runDir)} vs PopRec ${testNdcg(pop)}`);
  const { tensors, metadata } = parseSafetensors(readFileSync(ckpt));
  assert.deepEqual(tensors.get('item_embeddings.weight')?.shape, [31, 16], '30 items + padding');
  assert.deepEqual(tensors.get('user_embeddings.weight')?.shape, [81, 16], '80 users + the unknown user');
  assert.deepEqual(tensors.get('conv_h.4.weight')?.shape, [16, 1, 5, 16]);
  assert.deepEqual(tensors.get('W2.weight')?.shape, [31, 32]);
  const config = JSON.parse(metadata.config);
  assert.equal(config.model, 'caser');
  assert.equal(config.maxlen, 5);
  assert.equal(config.targets, 3);
  assert.equal(config.neg_samples, 3);
});

test('the Caser file reloads: --inference_only and eval reproduce the metrics, recommend continues the ring', async () => {
  const before = resultsOf(runDir);
  const again = join(dir, 'again');
  const r = await runCli([
    'train',
    '--model',
    'caser',
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
  assert.equal(evaluated.modelSettings.model, 'caser');
  assert.deepEqual(
    evaluated.results.map((x: { metrics: unknown }) => x.metrics),
    before.results.map((x) => x.metrics),
  );
  // an ad-hoc history (the unknown user: the mean user vector): original ids, never the history, and first
  // the ring's next T = 3 items (each a training target of the window, so in no fixed order)
  const rec = await runCli(['recommend', '--state_dict_path', ckpt, '--history', '1000 1010 1020 1030', '--k', '26', '--json']);
  assert.equal(rec.code, 0, rec.stderr);
  const items = JSON.parse(rec.stdout).items.map((x: { item: string }) => x.item) as string[];
  assert.equal(items.length, 26, 'every item but the history');
  for (const it of items) assert.ok(/^1\d\d0$/.test(it) && !['1000', '1010', '1020', '1030'].includes(it), it);
  assert.deepEqual(items.slice(0, 3).sort(), ['1040', '1050', '1060'], items.slice(0, 5).join(' '));
  // a known user: u3 walked the ring from item 7·3 = 21 for 9 steps (1210 … 1290), so 1000, 1010, 1020 come next
  const user = await runCli(['recommend', '--state_dict_path', ckpt, '--user', 'u3', '--k', '3', '--json']);
  assert.equal(user.code, 0, user.stderr);
  const next = JSON.parse(user.stdout).items.map((x: { item: string }) => x.item) as string[];
  assert.deepEqual(next.sort(), ['1000', '1010', '1020']);
});

test('a resumed Caser run equals the uninterrupted run (--num_workers: windows are drawn on the main thread)', async () => {
  const flags = ['--model', 'caser', '--dataset', dataset, ...tiny, '--n_h', '4', '--eval_every', '1', '--seed', '5'];
  const full = join(dir, 'full');
  assert.equal((await runCli(['train', ...flags, '--train_dir', full, '--num_epochs', '4'])).code, 0);
  const part = join(dir, 'part');
  assert.equal((await runCli(['train', ...flags, '--train_dir', part, '--num_epochs', '2'])).code, 0);
  const r = await runCli(['train', ...flags, '--train_dir', part, '--num_epochs', '4', '--resume', '--num_workers', '1']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /--num_workers 1: this model draws its batches on the main thread/);
  assert.equal(epochLosses(full).length, 4);
  assertSameRun(part, full, 'caser.safetensors');
  // another target count is another run
  const other = await runCli(['train', ...flags, '--targets', '2', '--train_dir', part, '--num_epochs', '5', '--resume']);
  assert.equal(other.code, 2);
  assert.match(other.stderr, /--targets is 2 now but 3 in the checkpoint/);
});

test('bad Caser flags are one-line errors naming the flag', async () => {
  // parsed before anything runs: the request refuses them (the CLI prints such an error as one line, below)
  const refused: Array<[Record<string, string>, RegExp]> = [
    [{ targets: '0' }, /^--targets: /],
    [{ n_h: '-1' }, /^--n_h: /],
    [{ neg_samples: 'two' }, /^--neg_samples: /],
    [{ maxlen: '17' }, /^--maxlen: Caser's L is at most 16 \(the paper tries 1 to 9\), got 17$/],
  ];
  for (const [raw, message] of refused) assert.throws(() => parseTrainRequest({ model: 'caser', ...raw }), { name: 'OptionError', message });
  // --user_sampling is the loop's option: Caser refuses anything but shuffle when it builds its sampler
  const split = leaveOneOut(await loadDataset(dataset));
  const { learning } = caser;
  assert.equal(learning.kind, 'gradient');
  const build = () =>
    learning.kind === 'gradient' &&
    learning.build(split, caser.options.parse({}), new Rng(1), { batchSize: 8, userSampling: 'cycle' }, DEFAULT_TRAINING_RECORD);
  assert.throws(build, {
    name: 'UserError',
    message: '--user_sampling cycle: Caser draws shuffled windows, not users (only shuffle applies)',
  });
  const r = await runCli(['train', '--model', 'caser', '--dataset', dataset, '--train_dir', join(dir, 'bad'), '--maxlen', '17']);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr.trim(), "seqrec: --maxlen: Caser's L is at most 16 (the paper tries 1 to 9), got 17");
});

test('caser runs in an experiments grid beside pop', async () => {
  const grid = join(dir, 'grid.yaml');
  writeFileSync(
    grid,
    `${['datasets: [ring.txt]', 'models: [pop, caser]', 'flags: { num_epochs: 1, eval_every: 1, hidden_units: 8, n_h: 2, batch_size: 64, threads: 1 }', 'seeds: [1]', 'out: exp'].join('\n')}\n`,
  );
  const r = await runCli(['experiments', grid]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /2 runs trained/);
  assert.match(readFileSync(join(dir, 'exp', 'results.md'), 'utf8'), /\| ring \| caser \| default \| 1 \|/);
});

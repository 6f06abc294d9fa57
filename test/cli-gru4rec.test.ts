/**
 * GRU4Rec and GRU4Rec+ through the CLI: `--help` lists them and their flags; each learns the ring (the
 * next item follows from the previous one) and beats PopRec on it; a model file reloads in
 * `train --inference_only`, `eval` and `recommend`; a resumed run equals the uninterrupted one; both run
 * in an experiments grid; contradictory flags are one line naming the flag.
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

const dir = testTempDir('seqrec-cli-gru4rec-');
const dataset = writeRingDataset(join(dir, 'ring.txt'), { timed: true });
const tiny = ['--hidden_units', '16', '--threads', '1'];

type Results = { results: Array<{ protocol: string; split: string; metrics: Record<string, number> }> };
const resultsOf = (d: string) => JSON.parse(readFileSync(join(d, 'results.json'), 'utf8')) as Results;
const testNdcg = (d: string) => resultsOf(d).results.find((r) => r.split === 'test' && r.protocol === 'full')!.metrics['NDCG@10'];
const runDir = (model: string) => join(dir, `learn-${model}`);
const fileOf = (model: string) => join(runDir(model), model === 'gru4rec' ? 'gru4rec.safetensors' : 'gru4rec_plus.safetensors');

test('train --help lists gru4rec, gru4rec+ and their flags', async () => {
  const r = await runCli(['train', '--help']);
  assert.equal(r.code, 0, r.stderr);
  const help = r.stdout.replace(/\s+/g, ' ');
  assert.match(help, /gru4rec \| gru4rec\+/);
  assert.match(help, /--gru_loss <name> .*?top1 or bpr \(ICLR 2016\).*?\(default: gru4rec top1, gru4rec\+ bpr_max\)/);
  assert.match(help, /--n_sample <n> .*?\(default: gru4rec 0, gru4rec\+ 2048\)/);
  assert.match(
    help,
    /--batch_size \(gru4rec 50, gru4rec\+ 32\), --num_epochs 10 and Adagrad \(--optimizer adagrad: gru4rec --lr 0\.01, gru4rec\+ --lr 0\.2 --momentum 0\.3\) unless given/,
  );
  assert.match(help, /--optimizer <name> +adam .*? or adagrad .*?gru4rec and gru4rec\+ default to it\) \(default adam\)/);
  assert.match(help, /--hidden_units <n> .*?gru4rec 50, gru4rec\+ 50\b/);
  for (const flag of ['--sample_alpha <x>', '--bpreg <x>', '--final_act <name>']) assert.ok(help.includes(flag), flag);
});

test('gru4rec and gru4rec+ learn the ring and beat PopRec on it (full-ranking test NDCG@10)', { timeout: 240_000 }, async () => {
  const pop = join(dir, 'pop');
  assert.equal((await runCli(['train', '--model', 'pop', '--dataset', dataset, '--train_dir', pop, '--eval_protocol', 'full'])).code, 0);
  const popNdcg = testNdcg(pop);
  for (const [model, summary] of [
    [
      'gru4rec',
      /GRU4Rec: d 16, dropout 0\.5, loss top1, final tanh, maxlen 200, adagrad \(momentum 0\), lr 0\.01, batch 50, 15 epochs of \d+ steps, session-parallel: 80 users, 477 transitions in 15 steps of 50 slots/,
    ],
    [
      'gru4rec+',
      /GRU4Rec\+: d 16, dropout 0, loss bpr_max \(λ 1\), final elu-0\.5, maxlen 200, adagrad \(momentum 0\.3\), lr 0\.01, batch 32, .*, 2048 shared negatives ∝ support\^0/,
    ],
  ] as const) {
    const r = await runCli([
      'train',
      '--model',
      model,
      '--dataset',
      dataset,
      '--train_dir',
      runDir(model),
      '--num_epochs',
      '15',
      '--eval_every',
      '15',
      '--lr',
      '0.01',
      '--eval_protocol',
      'full',
      ...tiny,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, summary);
    // 30 items, the history excluded: PopRec gets about 0.35 here (the ring's walks share their popular stretch)
    assert.ok(testNdcg(runDir(model)) > popNdcg + 0.3, `${model}: full test NDCG@10 ${testNdcg(runDir(model))}, PopRec ${popNdcg}`);
    const { tensors, metadata } = parseSafetensors(readFileSync(fileOf(model)));
    assert.deepEqual(tensors.get('gru.W')?.shape, [31, 48]);
    assert.deepEqual(tensors.get('output.weight')?.shape, [31, 16]);
    const config = JSON.parse(metadata.config);
    assert.equal(config.model, model);
    assert.equal(config.gru_loss, model === 'gru4rec' ? 'top1' : 'bpr_max');
    assert.equal(config.batch_size, model === 'gru4rec' ? 50 : 32);
    assert.equal(config.optimizer, 'adagrad', 'the authors’ optimiser is the default and the model file records it');
    assert.equal(config.momentum, model === 'gru4rec' ? 0 : 0.3);
  }
});

test('gru4rec+ --tied_embedding learns the ring too (its input reads the output table): gru.W_in [3d, d], no one-hot table', {
  timeout: 240_000,
}, async () => {
  const pop = join(dir, 'pop-tied');
  assert.equal((await runCli(['train', '--model', 'pop', '--dataset', dataset, '--train_dir', pop, '--eval_protocol', 'full'])).code, 0);
  const tiedDir = join(dir, 'learn-gru4rec-plus-tied');
  const r = await runCli([
    'train',
    '--model',
    'gru4rec+',
    '--tied_embedding',
    '--dataset',
    dataset,
    '--train_dir',
    tiedDir,
    '--num_epochs',
    '15',
    '--eval_every',
    '15',
    '--lr',
    '0.01',
    '--eval_protocol',
    'full',
    ...tiny,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(testNdcg(tiedDir) > testNdcg(pop) + 0.3, `tied: full test NDCG@10 ${testNdcg(tiedDir)}, PopRec ${testNdcg(pop)}`);
  const { tensors, metadata } = parseSafetensors(readFileSync(join(tiedDir, 'gru4rec_plus.safetensors')));
  assert.deepEqual(tensors.get('gru.W_in')?.shape, [48, 16]);
  assert.equal(tensors.get('gru.W'), undefined);
  assert.equal(JSON.parse(metadata.config).tied_embedding, true);
});

test('the model files reload: --inference_only and eval reproduce the metrics, recommend continues the ring', async () => {
  // the two models' checks side by side (each a chain of CLI runs)
  const check = async (model: string) => {
    const before = resultsOf(runDir(model));
    const again = join(dir, `again-${model}`);
    const r = await runCli([
      'train',
      '--model',
      model,
      '--dataset',
      dataset,
      '--state_dict_path',
      fileOf(model),
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
    // eval finds the model from the file alone
    const e = await runCli(['eval', '--state_dict_path', fileOf(model), '--dataset', dataset, '--eval_protocol', 'full', '--json']);
    assert.equal(e.code, 0, e.stderr);
    const evaluated = JSON.parse(e.stdout);
    assert.equal(evaluated.modelSettings.model, model);
    assert.deepEqual(
      evaluated.results.find((x: { split: string }) => x.split === 'test').metrics,
      before.results.find((x) => x.split === 'test')!.metrics,
    );
    const rec = await runCli(['recommend', '--state_dict_path', fileOf(model), '--history', '1000 1010 1020 1030', '--k', '26', '--json']);
    assert.equal(rec.code, 0, rec.stderr);
    const items = JSON.parse(rec.stdout).items.map((x: { item: string }) => x.item) as string[];
    assert.equal(items.length, 26, 'every item but the history');
    assert.equal(items[0], '1040', `${model}: ${items.slice(0, 5).join(' ')}`);
    const user = await runCli(['recommend', '--state_dict_path', fileOf(model), '--user', 'u3', '--k', '3']);
    assert.equal(user.code, 0, user.stderr);
    assert.equal(user.stdout.trim().split('\n').length, 3);
  };
  await Promise.all(['gru4rec', 'gru4rec+'].map(check));
});

test('a resumed gru4rec+ run (dropout, shared samples) equals the uninterrupted run', async () => {
  const flags = [
    '--model',
    'gru4rec+',
    '--dataset',
    dataset,
    ...tiny,
    '--dropout_rate',
    '0.2',
    '--n_sample',
    '8',
    '--eval_every',
    '1',
    '--seed',
    '4',
  ];
  const full = join(dir, 'full');
  assert.equal((await runCli(['train', ...flags, '--train_dir', full, '--num_epochs', '4'])).code, 0);
  const part = join(dir, 'part');
  assert.equal((await runCli(['train', ...flags, '--train_dir', part, '--num_epochs', '2'])).code, 0);
  const r = await runCli(['train', ...flags, '--train_dir', part, '--num_epochs', '4', '--resume', '--num_workers', '1']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /resumed after epoch 2/);
  assert.equal(epochLosses(full).length, 4);
  assertSameRun(part, full, 'gru4rec_plus.safetensors');
  // other samples are another run
  const other = await runCli(['train', ...flags, '--n_sample', '9', '--train_dir', part, '--num_epochs', '5', '--resume']);
  assert.equal(other.code, 2);
  assert.match(other.stderr, /--resume: --n_sample is 9 now but 8 in the checkpoint/);
});

test('gru4rec and gru4rec+ run in an experiments grid beside sasrec', async () => {
  const grid = join(dir, 'grid.yaml');
  writeFileSync(
    grid,
    `${[
      'datasets: [ring.txt]',
      'models: [sasrec, gru4rec, gru4rec+]',
      'flags: { num_epochs: 1, eval_every: 1, maxlen: 8, hidden_units: 8, num_blocks: 1, batch_size: 16, n_sample: 4, threads: 1 }',
      'seeds: [1]',
      'out: exp',
    ].join('\n')}\n`,
  );
  const r = await runCli(['experiments', grid]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /3 runs trained/);
  const report = readFileSync(join(dir, 'exp', 'results.md'), 'utf8');
  assert.match(report, /\| ring \| gru4rec \| default \| 1 \|/);
  assert.match(report, /\| ring \| gru4rec\+ \| default \| 1 \|/);
});

test('GRU4Rec flags that contradict each other are one line naming the flag', async () => {
  const base = ['train', '--dataset', dataset, '--train_dir', join(dir, 'never')];
  const cases = [
    [['--model', 'gru4rec', '--bpreg', '0.5'], /^seqrec: --bpreg: only with --gru_loss bpr_max$/],
    [['--model', 'gru4rec', '--sample_alpha', '1'], /^seqrec: --sample_alpha: only with --n_sample above 0$/],
    [['--model', 'gru4rec+', '--gru_loss', 'ce'], /^seqrec: --gru_loss: expected one of top1, bpr, bpr_max, got "ce"$/],
    [['--model', 'gru4rec+', '--final_act', 'elu'], /^seqrec: --final_act: expected one of linear, tanh, elu-0\.5, elu-1, got "elu"$/],
  ] as const;
  const runs = await Promise.all(cases.map(([flags]) => runCli([...base, ...flags])));
  for (const [i, [flags, why]] of cases.entries()) {
    const r = runs[i];
    assert.equal(r.code, 2, `${flags.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr.trimEnd(), why, 'one line, nothing else');
  }
});

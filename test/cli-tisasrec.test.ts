import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { tisasrec } from '../src/models/tisasrec/spec.js';
import { sasrec } from '../src/models/sasrec/spec.js';
import { parseSafetensors } from '../src/engine/safetensors.js';
import type { TiSASRec } from '../src/models/tisasrec/tisasrec.js';
import { SHARED_FIXTURES_URL, NEEDS_SHARED } from './helpers/shared.js';

const dir = mkdtempSync(join(tmpdir(), 'seqrec-tisasrec-cli-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

// 80 users walking a ring of 30 items (original ids 1000, 1010, …) with irregular unix timestamps
const dataset = join(dir, 'ring-ts.txt');
const plain = join(dir, 'ring.txt');
{
  const lines: string[] = [];
  const untimed: string[] = [];
  for (let u = 1; u <= 80; u++) {
    const len = 6 + (u % 7);
    let time = 1_600_000_000 + 3600 * u;
    for (let t = 0; t < len; t++) {
      const item = 1000 + 10 * ((u * 7 + t) % 30);
      lines.push(`u${u} ${item} ${time}`);
      untimed.push(`u${u} ${item}`);
      time += 60 * (1 + ((u + t) % 4)) * (t % 3 === 2 ? 30 : 1);
    }
  }
  writeFileSync(dataset, `${lines.join('\n')}\n`);
  writeFileSync(plain, `${untimed.join('\n')}\n`);
}
const runDir = join(dir, 'run');
const ckpt = join(runDir, 'tisasrec.safetensors');
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
  '--time_span',
  '16',
];

test('train --model tisasrec learns a predictable sequence and writes a reference-named checkpoint', async () => {
  const r = await runCli([
    'train',
    '--model',
    'tisasrec',
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
  assert.match(r.stderr, /TiSASRec: d 16, 1 blocks, 2 heads, maxlen 8, time_span 16, time_unit none/);
  assert.match(r.stderr, /epoch 10: valid NDCG@10/);
  const results = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8'));
  assert.equal(results.model, 'tisasrec');
  const test = results.results.find((row: { split: string }) => row.split === 'test');
  assert.ok(test.metrics['HR@10'] > 0.6, `test HR@10 ${test.metrics['HR@10']}`);
  const { tensors, metadata } = parseSafetensors(readFileSync(ckpt));
  assert.deepEqual(tensors.get('abs_pos_K_emb.weight')?.shape, [8, 16]);
  assert.deepEqual(tensors.get('time_matrix_V_emb.weight')?.shape, [17, 16]);
  assert.deepEqual(tensors.get('attention_layers.0.Q_w.weight')?.shape, [16, 16]);
  assert.deepEqual(tensors.get('forward_layers.0.conv1.weight')?.shape, [16, 16, 1]);
  const config = JSON.parse(metadata.config);
  assert.equal(config.model, 'tisasrec');
  assert.equal(config.time_span, 16);
  assert.equal(config.time_unit, 'none');
  const scaling = JSON.parse(metadata.time_scaling);
  assert.equal(scaling.user_scale.length, 81);
  assert.equal(JSON.parse(metadata.user_times)[1][0], 1_600_003_600);
});

test('--inference_only and eval reproduce the reported metrics', async () => {
  const before = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8'));
  const out = join(dir, 'again');
  const r = await runCli(['train', '--model', 'tisasrec', '--dataset', dataset, '--state_dict_path', ckpt, '--inference_only', '--train_dir', out]);
  assert.equal(r.code, 0, r.stderr);
  const after = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  assert.deepEqual(
    after.results.map((x: { metrics: unknown }) => x.metrics),
    before.results.map((x: { metrics: unknown }) => x.metrics),
  );
  // eval detects the model from the file
  const e = await runCli(['eval', '--state_dict_path', ckpt, '--dataset', dataset, '--json']);
  assert.equal(e.code, 0, e.stderr);
  assert.deepEqual(
    JSON.parse(e.stdout).results.map((x: { metrics: unknown }) => x.metrics),
    before.results.map((x: { metrics: unknown }) => x.metrics),
  );
});

test('recommend: timed and untimed ad-hoc histories, known users', async () => {
  const timed = await runCli([
    'recommend',
    '--state_dict_path',
    ckpt,
    '--history',
    '1000@1600000000 1010@1600000060 1020@1600000180',
    '--k',
    '3',
    '--json',
  ]);
  assert.equal(timed.code, 0, timed.stderr);
  const out = JSON.parse(timed.stdout);
  assert.equal(out.items.length, 3);
  assert.deepEqual(out.history, ['1000', '1010', '1020']);
  for (const { item } of out.items) assert.ok(!['1000', '1010', '1020'].includes(item));
  assert.equal(out.items[0].item, '1030', 'the ring continues');
  // without times: equally spaced
  const untimed = await runCli(['recommend', '--state_dict_path', ckpt, '--history', '1000 1010 1020', '--k', '3', '--json']);
  assert.equal(untimed.code, 0, untimed.stderr);
  assert.equal(JSON.parse(untimed.stdout).items[0].item, '1030');
  // the times reach the model: other gaps, other scores
  const bursty = await runCli(['recommend', '--state_dict_path', ckpt, '--history', '1000@0 1010@1 1020@100000', '--k', '3', '--json']);
  assert.equal(bursty.code, 0, bursty.stderr);
  assert.notDeepEqual(
    JSON.parse(bursty.stdout).items.map((x: { score: number }) => x.score),
    out.items.map((x: { score: number }) => x.score),
  );
  const user = await runCli(['recommend', '--state_dict_path', ckpt, '--user', 'u3', '--k', '2']);
  assert.equal(user.code, 0, user.stderr);
  assert.equal(user.stdout.trim().split('\n').length, 2);
  const viaData = await runCli(['recommend', '--state_dict_path', ckpt, '--user', 'u3', '--k', '2', '--dataset', dataset]);
  assert.equal(viaData.code, 0, viaData.stderr);
  assert.equal(viaData.stdout, user.stdout, 'the user history from the file = the one in the model file');
  for (const bad of ['1000@5 1010', '1000@x 1010@3', '1000@9 1010@3']) {
    const r = await runCli(['recommend', '--state_dict_path', ckpt, '--history', bad]);
    assert.equal(r.code, 2, bad);
    assert.match(r.stderr, /--history/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
});

test('a file without timestamps is refused with one line; --use_time with sasrec points to tisasrec', async () => {
  const r = await runCli(['train', '--model', 'tisasrec', '--dataset', plain, '--train_dir', join(dir, 'none'), '--num_epochs', '1', ...tiny]);
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('seqrec:')).length,
    1,
  );
  assert.match(r.stderr, /seqrec: .*no timestamps/);
  const s = await runCli(['train', '--model', 'sasrec', '--use_time', '--dataset', dataset, '--train_dir', join(dir, 'none'), '--num_epochs', '1']);
  assert.equal(s.code, 2);
  assert.match(s.stderr, /--use_time.*--model tisasrec/);
  const nf = await runCli([
    'train',
    '--model',
    'tisasrec',
    '--norm_first',
    '--dataset',
    dataset,
    '--train_dir',
    join(dir, 'none'),
    '--num_epochs',
    '1',
  ]);
  assert.equal(nf.code, 2);
  assert.match(nf.stderr, /--norm_first: TiSASRec has no pre-LN variant/);
  const u = await runCli([
    'train',
    '--model',
    'tisasrec',
    '--time_unit',
    'weeks',
    '--dataset',
    dataset,
    '--train_dir',
    join(dir, 'none'),
    '--num_epochs',
    '1',
  ]);
  assert.equal(u.code, 2);
  assert.match(u.stderr, /--time_unit: expected one of none, seconds, minutes, hours, days/);
});

test('--time_unit days trains and is recorded; --user_sampling uniform is reported in the plan line', async () => {
  const out = join(dir, 'days');
  const r = await runCli([
    'train',
    '--model',
    'tisasrec',
    '--time_unit',
    'days',
    '--user_sampling',
    'uniform',
    '--dataset',
    dataset,
    '--train_dir',
    out,
    '--num_epochs',
    '2',
    ...tiny,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout + r.stderr, /TiSASRec: d 16,.* 2 epochs of \d+ steps, user sampling uniform/);
  const { metadata } = parseSafetensors(readFileSync(join(out, 'tisasrec.safetensors')));
  assert.equal(JSON.parse(metadata.config).time_unit, 'days');
  assert.equal(JSON.parse(metadata.time_scaling).unit, 86400);
});

test('a PyTorch TiSASRec state_dict saved as safetensors is detected, loads and predicts like PyTorch', { skip: NEEDS_SHARED }, () => {
  const fixture = new URL('tisasrec/', SHARED_FIXTURES_URL);
  const bytes = readFileSync(new URL('weights.safetensors', fixture));
  assert.ok(tisasrec.sniff(bytes));
  assert.ok(!sasrec.sniff(bytes));
  const loaded = tisasrec.load(bytes, { numHeads: 2 });
  const model = loaded.scorer as TiSASRec;
  assert.equal(model.config.timeSpan, 16);
  assert.equal(model.maxlen, 10);
  const inputs = JSON.parse(readFileSync(new URL('inputs.json', fixture), 'utf8'));
  const expected = parseSafetensors(readFileSync(new URL('expected.safetensors', fixture))).tensors.get('predict_logits')!;
  const B = inputs.log_seqs.length;
  const C = inputs.item_indices[0].length;
  const scores = model.predict(
    { batchSize: B, seqs: Int32Array.from(inputs.log_seqs.flat()), times: Float64Array.from(inputs.time_seqs.flat()) },
    Int32Array.from(inputs.item_indices.flat()),
    C,
  );
  for (let i = 0; i < B * C; i++) {
    assert.ok(Math.abs(scores[i] - expected.data[i]) <= 1e-4 * Math.abs(expected.data[i]) + 1e-5, `score ${i}: ${scores[i]} vs ${expected.data[i]}`);
  }
});

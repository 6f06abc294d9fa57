/** explain's averaging (a hand computation on a toy) and `seqrec explain` on a tiny trained model. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { categoryFigure, readCategories, readRecency, recencyFigure } from '../src/experiments/attention-maps.js';
import type { AttentionMap } from '../src/models/contract.js';
import { runCli } from './helpers/cli.js';
import { writeRingDataset } from './helpers/datasets.js';
import { testTempDir } from './helpers/tmp.js';

const f = (...xs: number[]) => Float32Array.from(xs);
// one layer, two heads; user A: 3 items, no padding; user B: 2 items after padding; user C: 1 item
const maps: AttentionMap[] = [
  {
    length: 3,
    items: [[f(1, 0, 0, 0.5, 0.5, 0, 0.2, 0.3, 0.5), f(1, 0, 0, 0.1, 0.9, 0, 0.6, 0.2, 0.2)]],
    padding: [[f(0, 0, 0), f(0, 0, 0)]],
  },
  { length: 2, items: [[f(0.5, 0, 0.2, 0.4), f(0.7, 0, 0.4, 0.4)]], padding: [[f(0.5, 0.4), f(0.3, 0.2)]] },
  { length: 1, items: [[f(0.2), f(0.4)]], padding: [[f(0.8), f(0.6)]] },
];
const histories = [Int32Array.of(9, 1, 2, 3), Int32Array.of(2, 4), Int32Array.of(4)];
const near = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-6, `${a} vs ${b}`);

test('recency: heads averaged, the last window of each long-enough history averaged over users', () => {
  const r = recencyFigure(maps, 2);
  assert.equal(r.users, 2, 'the 1-item history is shorter than the window');
  // head means: A = [1; .3 .7; .4 .25 .35], B = [.6; .3 .4]; last 2 × 2 of each, averaged
  const m = r.layers[0].matrix;
  near(m[0][0], (0.7 + 0.6) / 2);
  near(m[0][1], 0);
  near(m[1][0], (0.25 + 0.3) / 2);
  near(m[1][1], (0.35 + 0.4) / 2);
  near(r.layers[0].lastQuery.lastWindow, (0.6 + 0.7) / 2);
  near(r.layers[0].lastQuery.padding, (0 + 0.3) / 2);
  assert.match(readRecency(r)[0], /^layer 1: 65% of the last query's weight on the last 2 items, 65% on the last 3, 15% on padding \(2 users\)$/);
});

test('categories: mean weight per (query category, key category) pair, same over cross', () => {
  // item 1: X, 2: Y, 3: X and Y, 4: none; A's history is its last 3 items (1, 2, 3)
  const cats: Record<number, number[]> = { 1: [0], 2: [1], 3: [0, 1], 4: [], 9: [0] };
  const c = categoryFigure(maps, histories, ['X', 'Y'], (i) => cats[i]);
  const m = c.layers[0].matrix;
  near(m[0][0], (1 + 0.4 + 0.35) / 3);
  near(m[0][1], (0.25 + 0.35) / 2);
  near(m[1][0], (0.3 + 0.4 + 0.35) / 3);
  near(m[1][1], (0.7 + 0.25 + 0.35 + 0.6) / 4);
  near(c.layers[0].sameOverCross, 3.65 / 7 / (1.65 / 5));
  assert.equal(readCategories(c)[0], 'layer 1: same-category attention is 1.58× cross-category (X, Y)');
});

test('seqrec explain: JSON, SVGs and readings for a trained SASRec; a model without attention is refused in one line', async () => {
  const dir = testTempDir('seqrec-explain-');
  const dataset = writeRingDataset(join(dir, 'ring.txt'));
  const runDir = join(dir, 'run');
  const tiny = ['--maxlen', '8', '--hidden_units', '16', '--num_blocks', '2', '--num_heads', '2', '--batch_size', '16'];
  const t = await runCli(['train', '--model', 'sasrec', '--dataset', dataset, '--train_dir', runDir, '--num_epochs', '3', ...tiny]);
  assert.equal(t.code, 0, t.stderr);
  const out = join(dir, 'explain.json');
  const svgDir = join(dir, 'svg');
  const r = await runCli(['explain', '--model_dir', runDir, '--window', '4', '--max_users', '30', '--output', out, '--svg_dir', svgDir]);
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(json.users, 30);
  assert.equal(json.recency.window, 4);
  assert.equal(json.recency.layers.length, 2);
  for (const layer of json.recency.layers) {
    assert.equal(layer.matrix.length, 4);
    // each query row of the window plus what it gives to earlier items and padding is at most 1
    for (const row of layer.matrix) assert.ok(row.reduce((a: number, b: number) => a + b, 0) <= 1 + 1e-6);
  }
  assert.deepEqual(r.stdout.trim().split('\n').length, 2);
  assert.match(r.stdout, /^layer 1: \d+% of the last query's weight on the last 4 items/);
  for (const l of [1, 2]) assert.match(readFileSync(join(svgDir, `recency-layer${l}.svg`), 'utf8'), /^<svg [\s\S]*<\/svg>\n$/);

  // --state_dict_path with the dataset it was trained on: the same users' histories, the same figures
  const out2 = join(dir, 'explain-dataset.json');
  const d = await runCli([
    'explain',
    '--state_dict_path',
    join(runDir, 'sasrec.safetensors'),
    '--dataset',
    dataset,
    '--window',
    '4',
    '--max_users',
    '30',
    '--output',
    out2,
  ]);
  assert.equal(d.code, 0, d.stderr);
  assert.deepEqual(JSON.parse(readFileSync(out2, 'utf8')).recency, json.recency);
  const other = writeRingDataset(join(dir, 'other.txt'), { items: 12 });
  const mismatch = await runCli(['explain', '--state_dict_path', join(runDir, 'sasrec.safetensors'), '--dataset', other]);
  assert.equal(mismatch.code, 2);
  assert.match(mismatch.stderr, /--dataset .*other\.txt: 12 items, the model was trained on 30/);

  const popDir = join(dir, 'pop');
  assert.equal((await runCli(['train', '--model', 'pop', '--dataset', dataset, '--train_dir', popDir])).code, 0);
  const refused = await runCli(['explain', '--model_dir', popDir]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr.trim(), /^[^\n]*has no self-attention weights[^\n]*$/);
  assert.ok(!existsSync(join(popDir, 'explain.json')));
});

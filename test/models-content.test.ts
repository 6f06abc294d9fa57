/**
 * The content-based model (issue 19): items as unit vectors of their side features (each field alike),
 * a history scoring items by the mean of cosine similarities, learning nothing from the interactions
 * but popularity for ties; save/load; the CLI with MovieLens-100k's item file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../src/core/errors.js';
import type { FeatureRecords } from '../src/data/feature-files.js';
import { featureMatrix } from '../src/data/features.js';
import { leaveOneOut } from '../src/data/split.js';
import { fromEvents, type Model } from '../src/index.js';
import { ContentModel, itemVectors } from '../src/models/content/content.js';
import { getModel } from '../src/models/registry.js';
import { PopRecModel } from '../src/models/pop/pop.js';
import { runCli } from './helpers/cli.js';
import { NEEDS_SHARED, sharedPath } from './helpers/shared.js';
import { groupEvents, testNdcg } from './helpers/tastes.js';
import { testTempDir } from './helpers/tmp.js';

const dir = testTempDir('seqrec-content-');

const records = (rows: Array<[string, ...string[]]>, columns: FeatureRecords['columns']): FeatureRecords => ({
  source: 'items.csv',
  layout: 'csv',
  columns,
  records: rows.map(([id, ...values], k) => ({ id, line: k + 2, values })),
});

test('item vectors: unit length, each field weighted alike; cosine similarity by hand', () => {
  const rec = records(
    [
      ['a', 'x|y', 'red'],
      ['b', 'x', ''],
      ['c', '', ''],
    ],
    [
      { name: 'genres', kind: 'multi' },
      { name: 'colour', kind: 'categorical' },
    ],
  );
  const m = featureMatrix(rec, {
    toIndex: new Map([
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ]),
    toRaw: ['', 'a', 'b', 'c'],
  });
  const v = itemVectors(m, []);
  const norm = (i: number) => Math.hypot(...Array.from(v.val.subarray(v.rowPtr[i], v.rowPtr[i + 1])));
  assert.ok(Math.abs(norm(1) - 1) < 1e-6 && Math.abs(norm(2) - 1) < 1e-6);
  assert.equal(v.rowPtr[4] - v.rowPtr[3], 0, 'an item without features has an empty vector');
  // a = (x, y)/√2 in genres and red in colour, each field then /√2; b = x
  const expected = (1 / Math.SQRT2) * (1 / Math.SQRT2);
  const model = ContentModel.fit(
    {
      ...leaveOneOut(
        fromEvents([
          { user: 'u', item: 'a' },
          { user: 'u', item: 'b' },
          { user: 'u', item: 'c' },
        ]),
        3,
      ),
      features: { items: m },
    },
    { fields: [] },
  );
  assert.ok(Math.abs(model.scorer.similarity(1, 2) - expected) < 1e-6);
  const genresOnly = itemVectors(m, ['genres']);
  assert.equal(genresOnly.rowPtr[2] - genresOnly.rowPtr[1], 2, 'colour left out');
  assert.throws(
    () => itemVectors(m, ['genre']),
    (e: unknown) => e instanceof UserError && /no field "genre" in items\.csv \(it has genres, colour\)/.test(e.message),
  );
});

test('exact ties far from 0 (a 30-item history, items alike) keep the popularity order through float32: no two scores equal', () => {
  // items i1..i40 share one feature; user k touches i1..ik, so i_j's popularity falls with j
  const events = [];
  for (let k = 1; k <= 39; k++) for (let j = 1; j <= k; j++) events.push({ user: `u${k}`, item: `i${j}` });
  events.push({ user: 'u40', item: 'i40' }, { user: 'u40', item: 'i1' });
  const data = fromEvents(events);
  const ids = data.items.toRaw;
  const m = featureMatrix(
    records(
      ids.slice(1).map((id): [string, string] => [id, '1997']),
      [{ name: 'year', kind: 'categorical' }],
    ),
    data.items,
  );
  const model = ContentModel.fit({ ...leaveOneOut(data, 40), features: { items: m } }, { fields: [] });
  const history = Array.from({ length: 30 }, (_, k) => data.items.toIndex.get(`i${k + 10}`) as number);
  const scores = model.scorer.scoreAll({ batchSize: 1, maxlen: 30, users: new Int32Array(1), seqs: Int32Array.from(history) });
  const rest = ['i1', 'i2', 'i3', 'i4', 'i5', 'i6', 'i7', 'i8', 'i9'].map((id) => scores[data.items.toIndex.get(id) as number]);
  for (let k = 1; k < rest.length; k++)
    assert.ok(rest[k - 1] > rest[k], `i${k} ${rest[k - 1]} vs i${k + 1} ${rest[k]}: the more popular must score higher`);
  assert.ok(Math.abs(rest[0] - 1) < 1e-3, `the mean similarity of alike items is 1, got ${rest[0]}`);
});

/** groupEvents' items, each with its taste group as a feature and a feature shared by every item. */
function groupFeatures(items: readonly string[]): FeatureRecords {
  return records(
    items.map((id): [string, string, string] => [id, `g${Math.floor((Number(id) - 3000) / 100)}`, 'film']),
    [
      { name: 'group', kind: 'categorical' },
      { name: 'kind', kind: 'categorical' },
    ],
  );
}

test('content-based recommendation learns the taste groups from features alone: far above PopRec', async () => {
  const data = fromEvents(groupEvents());
  const split = leaveOneOut(data, 3);
  const m = featureMatrix(groupFeatures(data.items.toRaw.slice(1)), data.items);
  assert.equal(m.covered, data.itemNum);
  const content = ContentModel.fit({ ...split, features: { items: m } }, { fields: [] });
  const pop: Model = PopRecModel.fit(split, 'train');
  const [c, p] = [await testNdcg(content, data), await testNdcg(pop, data)];
  assert.ok(c > p + 0.1, `content NDCG@10 ${c.toFixed(3)} vs PopRec ${p.toFixed(3)}`);
  // the round trip keeps the scores and the catalogue; the registry tells the file from the others
  const bytes = content.serialize();
  assert.equal(getModel('content')?.sniff(bytes), true);
  assert.equal(getModel('slim')?.sniff(bytes), false);
  const back = ContentModel.parse(bytes);
  assert.equal(await testNdcg(back, data), c);
  assert.deepEqual(back.featureNames, content.featureNames);
  assert.throws(() => ContentModel.parse(bytes.subarray(0, 50)), UserError);
  assert.throws(() => ContentModel.fit(split, { fields: [] }), /--model content needs --item_features/);
});

test('--content_pop_weight w: (1 − w)·mean similarity + w·ln(1 + pop)/ln(1 + max pop) by hand; w = 1 ranks as PopRec; the file keeps w', () => {
  const data = fromEvents(groupEvents());
  const split = leaveOneOut(data, 3);
  const m = featureMatrix(groupFeatures(data.items.toRaw.slice(1)), data.items);
  const plain = ContentModel.fit({ ...split, features: { items: m } }, { fields: [] });
  const w = 0.7;
  const blended = ContentModel.fit({ ...split, features: { items: m } }, { fields: [], popWeight: w });
  const history = Int32Array.from([0, 1, 2, 5]);
  const batch = { batchSize: 1, maxlen: history.length, users: new Int32Array(1), seqs: history };
  const pop = plain.scorer.popularity;
  const maxPop = Math.max(...pop);
  const distinct = new Set(Array.from(history).filter((i) => i > 0)).size;
  const got = blended.scorer.scoreAll(batch);
  for (const j of [1, 3, 7, 40, data.itemNum]) {
    let similarity = 0;
    for (const i of new Set(Array.from(history).filter((x) => x > 0))) similarity += plain.scorer.similarity(i, j);
    const want = ((1 - w) * similarity) / distinct + (w * Math.log1p(pop[j])) / Math.log1p(maxPop);
    assert.ok(Math.abs(got[j] - want) < 2 ** -11, `item ${j}: ${got[j]} vs ${want}`);
  }
  const onlyPop = ContentModel.fit({ ...split, features: { items: m } }, { fields: [], popWeight: 1 }).scorer.scoreAll(batch);
  const order = (xs: Float32Array) => Array.from({ length: data.itemNum }, (_, k) => k + 1).sort((a, b) => xs[b] - xs[a] || a - b);
  assert.deepEqual(order(onlyPop).slice(0, 20), order(pop).slice(0, 20), 'w = 1: the PopRec order');
  const back = ContentModel.parse(blended.serialize());
  assert.equal(back.scorer.popWeight, w);
  assert.deepEqual(Array.from(back.scorer.scoreAll(batch)), Array.from(got));
  assert.throws(() => ContentModel.fit({ ...split, features: { items: m } }, { fields: [], popWeight: 1.5 }), /content_pop_weight/);
});

test('seqrec train --model content with MovieLens-100k u.item; eval and recommend read its file', { skip: NEEDS_SHARED }, async () => {
  const run = join(dir, 'run');
  const t = await runCli([
    'train', '--model', 'content', '--dataset', sharedPath('data/ml-100k/u.data'),
    '--item_features', sharedPath('data/ml-100k/u.item'), '--content_fields', 'genres,year', '--train_dir', run,
  ]); // biome-ignore format: one command
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stderr, /content: 1682 items over \d+ features/);
  const file = join(run, 'content.safetensors');
  assert.ok(existsSync(file));
  const r = await runCli(['recommend', '--state_dict_path', file, '--history', '1 2 3', '--k', '5']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n').length >= 5, true, r.stdout);
  const missing = await runCli(['train', '--model', 'content', '--dataset', sharedPath('data/ml-100k/u.data'), '--train_dir', join(dir, 'none')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^seqrec: --model content needs --item_features/m);
  assert.ok(!existsSync(join(dir, 'none')), 'the refused run left no folder');
  const ignored = join(dir, 'pop.csv');
  writeFileSync(ignored, 'not read\n');
  const pop = await runCli([
    'train',
    '--model',
    'pop',
    '--dataset',
    sharedPath('data/ml-100k/u.data'),
    '--item_features',
    ignored,
    '--train_dir',
    join(dir, 'pop'),
  ]);
  assert.equal(pop.code, 0, pop.stderr);
  assert.match(pop.stderr, /note: --model pop does not use --item_features; ignored/);
});

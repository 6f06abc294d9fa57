/**
 * The id maps and user histories a checkpoint carries are checked against the model on load: a
 * damaged list is one clear error, not an "index out of range" or `undefined` ids at recommend time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadedCheckpoint } from '../src/models/common/checkpoint-format.js';
import { catalogFromCheckpoint } from '../src/models/common/catalog.js';
import { encodeCheckpointBytes } from '../src/models/common/checkpoint-format.js';
import { SASRec } from '../src/models/sasrec/sasrec.js';
import { sasrec } from '../src/models/sasrec/spec.js';

const ITEMS = 4;
const ckpt = (extra: Record<string, string>, items = ['', 'a', 'b', 'c', 'd'], users = ['', 'u1', 'u2']): LoadedCheckpoint => ({
  tensors: new Map(),
  config: undefined,
  extra,
  idMaps: { users, items },
});

test('valid extras load: id maps, histories and times', () => {
  const x = catalogFromCheckpoint(ckpt({ user_histories: '[[],[1,2],[4]]', user_times: '[[],[10,20],[5]]' }), ITEMS);
  assert.equal(x.items.toRaw[4], 'd');
  assert.equal(x.users!.toRaw[2], 'u2');
  assert.deepEqual(
    x.histories!.map((h) => [...h]),
    [[], [1, 2], [4]],
  );
  assert.deepEqual(
    x.historyTimes!.map((t) => [...t]),
    [[], [10, 20], [5]],
  );
  const bare = catalogFromCheckpoint({ tensors: new Map(), config: undefined, extra: {} }, ITEMS);
  assert.deepEqual(bare.items.toRaw, ['', '1', '2', '3', '4']);
  assert.equal(bare.histories, undefined);
});

test('damaged extras are refused with the metadata key and what is wrong', () => {
  const cases: Array<[LoadedCheckpoint, RegExp]> = [
    [ckpt({}, ['', 'a', 'b']), /"item_ids" lists 2 items but item_emb.weight has 4/],
    [ckpt({}, ['', 'a', 'b', 'c', 'd', 'e']), /"item_ids" lists 5 items but item_emb.weight has 4/],
    [ckpt({ user_histories: 'not json' }), /"user_histories" is not valid JSON/],
    [ckpt({ user_histories: '{"a":1}' }), /"user_histories" is not a list of lists/],
    [ckpt({ user_histories: '[1,2,3]' }), /"user_histories" is not a list of lists/],
    [ckpt({ user_histories: '[[],[1]]' }), /"user_histories" has 1 users but "user_ids" 2/],
    [ckpt({ user_histories: '[[],[1],[99999]]' }), /user 2 has item 99999, not in 1\.\.4/],
    [ckpt({ user_histories: '[[],[0],[1]]' }), /user 1 has item 0/],
    [ckpt({ user_histories: '[[],[1.5],[1]]' }), /user 1 has item 1\.5/],
    [ckpt({ user_histories: '[[],[1],[2]]', user_times: '[[],[1],[null]]' }), /"user_times": user 2 has time null/],
    [ckpt({ user_histories: '[[],[1],[2]]', user_times: '[[],[1]]' }), /"user_times" does not match "user_histories"/],
    [ckpt({ user_times: '[[],[1],[2]]' }), /"user_times" does not match "user_histories"/],
  ];
  for (const [c, why] of cases) assert.throws(() => catalogFromCheckpoint(c, ITEMS), { name: 'CheckpointError', message: why });
});

test("a bad value in a checkpoint's config metadata is reported as the file's, not as a flag", () => {
  const model = new SASRec({ itemNum: 5, maxlen: 4, hiddenUnits: 4, numBlocks: 1, numHeads: 1, dropoutRate: 0.2 }, { seed: 1 });
  const config = {
    model: 'sasrec',
    item_num: 5,
    maxlen: 4,
    hidden_units: 4,
    num_blocks: 1,
    num_heads: 1,
    dropout_rate: 5,
    norm_first: false,
    l2_emb: 0,
    batch_size: 8,
    lr: 0.001,
    num_epochs: 1,
  };
  const bytes = encodeCheckpointBytes({ tensors: model.stateDict(), config });
  assert.throws(() => sasrec.load(bytes), {
    name: 'CheckpointError',
    message: /^metadata "config": dropout_rate: expected a number in \[0, 1\), got 5$/,
  });
  assert.equal(sasrec.load(encodeCheckpointBytes({ tensors: model.stateDict(), config: { ...config, dropout_rate: 0.2 } })).name, 'sasrec');
});

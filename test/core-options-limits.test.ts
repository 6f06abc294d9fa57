/**
 * Sizes far past anything trainable are refused with the flag's name, before any allocation: an
 * allocator's "wasm alloc: length must be a non-negative integer, got 5e+21" names nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { sasrec } from '../src/models/sasrec/spec.js';
import { tisasrec } from '../src/models/tisasrec/spec.js';
import { encodeCheckpointBytes } from '../src/models/common/checkpoint-format.js';
import { SASRec } from '../src/models/sasrec/sasrec.js';
import { evalOptions, seedOptions } from '../src/eval/options.js';
import { trainingOptions } from '../src/learn/options.js';
import { parseTrainRequest } from '../src/train/request.js';
import { testTempDir } from './helpers/tmp.js';
import { runCli } from './helpers/cli.js';

const dir = testTempDir('seqrec-config-limits-');

test('huge hyper-parameters name their flag and the limit', () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ maxlen: 1e20 }, /^--maxlen: at most 8192, got 100000000000000000000$/],
    [{ hiddenUnits: 100000 }, /^--hidden_units: at most 4096/],
    [{ numBlocks: 1000 }, /^--num_blocks: at most 64/],
    [{ mhcExpansionRate: 100000 }, /^--mhc_expansion_rate: at most 64/],
    [{ mhc: true, mhcSinkhornIter: 1e9 }, /^--mhc_sinkhorn_iter: at most 10000/],
  ];
  for (const [opts, why] of cases) {
    assert.throws(() => sasrec.options.parse(opts), { name: 'OptionError', message: why }, JSON.stringify(opts));
  }
  assert.throws(() => trainingOptions.parse({ batchSize: 1e7 }), { message: /^--batch_size: at most 65536/ });
  assert.throws(() => trainingOptions.parse({ numEpochs: 1e9 }), { message: /^--num_epochs: at most 1000000/ });
  assert.throws(() => tisasrec.options.parse({ timeSpan: 1e9 }), { name: 'OptionError', message: /^--time_span: at most 1000000/ });
  // the limits are far from the paper settings
  assert.equal(sasrec.options.parse({ maxlen: 200, hiddenUnits: 50 }).maxlen, 200);
});

test('the training limits do not apply to loading a model file (a huge --num_epochs left to early stopping)', () => {
  const model = new SASRec({ itemNum: 5, maxlen: 4, hiddenUnits: 4, numBlocks: 1, numHeads: 1, dropoutRate: 0.2 }, { seed: 1 });
  const config = {
    model: 'sasrec',
    item_num: 5,
    maxlen: 4,
    hidden_units: 4,
    num_blocks: 1,
    num_heads: 1,
    dropout_rate: 0.2,
    norm_first: false,
    l2_emb: 0,
    batch_size: 8,
    lr: 0.001,
    num_epochs: 100_000_000,
  };
  const loaded = sasrec.load(encodeCheckpointBytes({ tensors: model.stateDict(), config }));
  assert.equal(loaded.name, 'sasrec');
  assert.equal(loaded.describe().num_epochs, 100_000_000);
  loaded.dispose();
  model.dispose();
});

test('--seed takes any uint32 (the Rng seed), and no more', () => {
  assert.equal(seedOptions.parse({ seed: '3000000000' }).seed, 3_000_000_000);
  assert.throws(() => seedOptions.parse({ seed: String(2 ** 32) }), { name: 'OptionError', message: /^--seed: at most 4294967295/ });
});

test('evaluation sizes: --num_negatives and --eval_batch_size are bounded, integers past 2^31 refused', () => {
  assert.throws(() => evalOptions.parse({ num_negatives: '999999' }), {
    name: 'OptionError',
    message: /^--num_negatives: at most 100000, got 999999$/,
  });
  assert.throws(() => evalOptions.parse({ num_negatives: '99999999999' }), { name: 'OptionError', message: /^--num_negatives: at most 100000/ });
  assert.throws(() => evalOptions.parse({ eval_users: '99999999999' }), { name: 'OptionError', message: /^--eval_users: at most 2147483647/ });
  assert.throws(() => evalOptions.parse({ eval_batch_size: '100000' }), { name: 'OptionError', message: /^--eval_batch_size: at most 65536/ });
  assert.equal(evalOptions.parse({ num_negatives: '100' }).numNegatives, 100);
});

test('--threads above 256 is refused before any worker starts', async () => {
  const r = await runCli([
    'train',
    '--model',
    'pop',
    '--dataset',
    'test/fixtures/data/tiny.txt',
    '--threads',
    '300',
    '--train_dir',
    join(dir, 'unused'),
  ]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^seqrec: --threads: at most 256, got 300$/m);
});

test('flags a model does not read are named (a note, not an error: grids cross models with common flags)', async () => {
  const ignored = (raw: Record<string, unknown>) => parseTrainRequest(raw).ignored;
  assert.deepEqual(ignored({ model: 'sasrec', time_span: '10', time_unit: 'days', maxlen: '50', pop_count_on: 'all' }), [
    'time_span',
    'time_unit',
    'pop_count_on',
  ]);
  assert.deepEqual(ignored({ model: 'tisasrec', time_span: '10', maxlen: '50', eval_every: '5' }), []);
  assert.deepEqual(ignored({ model: 'pop', maxlen: '50', num_epochs: '3', pop_count_on: 'train', patience: '2' }), ['maxlen', 'num_epochs']);
  const r = await runCli([
    'train',
    '--model',
    'pop',
    '--dataset',
    'test/fixtures/data/tiny.txt',
    '--maxlen',
    '10',
    '--train_dir',
    join(dir, 'pop-note'),
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^note: --model pop does not use --maxlen; ignored$/m);
});

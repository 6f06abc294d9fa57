/**
 * One option given in two spellings with different values is refused, not silently resolved; and a
 * header line in the space-separated format says what is wrong (issue 23, finding 11).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { asKey } from '../src/core/options.js';
import { trainingOptions } from '../src/learn/options.js';
import { runCli } from './helpers/cli.js';
import { writeRingDataset } from './helpers/datasets.js';
import { testTempDir } from './helpers/tmp.js';

test('parse refuses an option given twice in two spellings with different values; the same value is fine', () => {
  assert.throws(() => trainingOptions.parse({ batch_size: '40', 'batch-size': '50' }), {
    message: /^--batch_size: given twice with different values \("40" and "50"\)$/,
  });
  assert.throws(() => trainingOptions.parse({ batchSize: 40, batch_size: 50 }, asKey), { message: /^batchSize: given twice/ });
  assert.equal(trainingOptions.parse({ batch_size: '40', 'batch-size': '40' }).batchSize, 40);
});

const dir = testTempDir('seqrec-twice-');
const dataset = writeRingDataset(join(dir, 'ring.txt'), { users: 20 });

test('`seqrec train --hidden-units 40 --hidden_units 50` is refused with one line (exit 2)', async () => {
  const r = await runCli([
    'train',
    '--model',
    'sasrec',
    '--dataset',
    dataset,
    '--hidden-units',
    '40',
    '--hidden_units',
    '50',
    '--train_dir',
    join(dir, 'run'),
  ]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^seqrec: --hidden_units: given twice with different values \("(40|50)" and "(40|50)"\)\n$/);
});

test('a header in the space-separated format is named as such, not "expected X, got X"', async () => {
  const file = join(dir, 'header.txt');
  writeFileSync(file, 'user item timestamp\nu1 i1 5\n');
  const r = await runCli(['data', 'stats', '--dataset', file]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /header\.txt:1: the timestamp "timestamp" is not a finite number \(a header line\? this format has none/);
  assert.doesNotMatch(r.stderr, /expected "user item timestamp".*got "user item timestamp"/);
});

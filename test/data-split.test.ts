import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluableUserCount, leaveOneOut, readInteractions, requireEvaluableUsers } from '../src/data/index.js';
import { UserError } from '../src/core/errors.js';
import { idMapFromSorted } from '../src/data/ids.js';
import type { Interactions } from '../src/data/types.js';

const repoRoot = path.resolve(fileURLToPath(import.meta.url), '../..');

// user 1: 5 events, user 2: 3 events, user 3: 2 events, user 4: 1 event
const lists = [[5, 3, 1, 2, 4], [2, 1, 6], [3, 4], [6]];
const data: Interactions = {
  userNum: 4,
  itemNum: 6,
  seqs: [new Int32Array(0), ...lists.map((l) => Int32Array.from(l))],
  times: [new Float64Array(0), ...lists.map((l) => Float64Array.from(l, (_, k) => 10 * k + l.length))],
  users: idMapFromSorted(['1', '2', '3', '4']),
  items: idMapFromSorted(['1', '2', '3', '4', '5', '6']),
};

test('leave-one-out: last → test, second-last → valid, rest → train; < 3 events → all train, not evaluated', () => {
  const s = leaveOneOut(data);
  assert.deepEqual(
    s.train.map((t) => Array.from(t)),
    [[], [5, 3, 1], [2], [3, 4], [6]],
  );
  assert.deepEqual(Array.from(s.valid), [0, 2, 1, 0, 0]);
  assert.deepEqual(Array.from(s.test), [0, 4, 6, 0, 0]);
  assert.deepEqual(
    s.trainTimes!.map((t) => Array.from(t)),
    [[], [5, 15, 25], [3], [2, 12], [1]],
  );
  assert.deepEqual(Array.from(s.validTimes!), [0, 35, 13, 0, 0]);
  assert.deepEqual(Array.from(s.testTimes!), [0, 45, 23, 0, 0]);
  assert.equal(evaluableUserCount(s), 2);
  assert.equal(s.data, data);
});

test('threshold is a parameter: 4 reproduces the SASRec.pytorch reference (nfeedback < 4)', () => {
  const s = leaveOneOut(data, 4);
  assert.deepEqual(
    s.train.map((t) => Array.from(t)),
    [[], [5, 3, 1], [2, 1, 6], [3, 4], [6]],
  );
  assert.deepEqual(Array.from(s.test), [0, 4, 0, 0, 0]);
  assert.throws(() => leaveOneOut(data, 2), RangeError);
});

test('without timestamps the split has no time arrays', async () => {
  const d = await readInteractions(path.join(repoRoot, 'test/fixtures/data/tiny.txt'));
  const s = leaveOneOut(d);
  assert.equal(s.trainTimes, undefined);
  assert.deepEqual(Array.from(s.test), [0, 3, 3, 0]);
});

test('requireEvaluableUsers: one-line UserError when nobody has 3 events', async () => {
  const file = path.join(repoRoot, 'test/fixtures/data/few.txt');
  const s = leaveOneOut(await readInteractions(file));
  assert.throws(
    () => requireEvaluableUsers(s, file),
    (err: unknown) => err instanceof UserError && /few\.txt: no user has 3 or more interactions/.test(err.message) && !err.message.includes('\n'),
  );
  assert.doesNotThrow(() => requireEvaluableUsers(leaveOneOut(data)));
  assert.throws(() => requireEvaluableUsers(leaveOneOut(data, 6)), /no user has 6 or more interactions/);
});

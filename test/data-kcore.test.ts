import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { datasetStats, kcore, leaveOneOut, leftPad, loadDataset, readInteractions, relationMatrix, scaleTimes } from '../src/data/index.js';
import { idMapFromSorted } from '../src/data/ids.js';
import type { Interactions } from '../src/data/types.js';
import { sharedPath, NEEDS_SHARED } from './helpers/shared.js';

const shared = (p: string) => sharedPath(p);

function fromLists(lists: number[][]): Interactions {
  let maxItem = 0;
  for (const l of lists) for (const i of l) maxItem = Math.max(maxItem, i);
  return {
    userNum: lists.length,
    itemNum: maxItem,
    seqs: [new Int32Array(0), ...lists.map((l) => Int32Array.from(l))],
    users: idMapFromSorted(lists.map((_, u) => `u${u + 1}`)),
    items: idMapFromSorted(Array.from({ length: maxItem }, (_, i) => `i${i + 1}`)),
  };
}

test('ml-100k u.data, 5/5 one-pass: 943 users, 1,349 items, 99,287 actions; iterative gives the same', { skip: NEEDS_SHARED }, async () => {
  const raw = await readInteractions(shared('data/ml-100k/u.data'));
  assert.deepEqual([raw.userNum, raw.itemNum], [943, 1682]);
  for (const mode of ['one-pass', 'iterative'] as const) {
    const s = datasetStats(kcore(raw, { minUserCount: 5, minItemCount: 5, mode }));
    assert.deepEqual([s.users, s.items, s.actions], [943, 1349, 99287], mode);
  }
  // 20/20 is where the two modes differ on this file
  const one = datasetStats(kcore(raw, { minUserCount: 20, minItemCount: 20 }));
  const it = datasetStats(kcore(raw, { minUserCount: 20, minItemCount: 20, mode: 'iterative' }));
  assert.deepEqual([one.users, one.items, one.actions], [943, 939, 94968]);
  assert.deepEqual([it.users, it.items, it.actions], [917, 937, 94443]);
  assert.ok(it.minLength >= 20);
});

test('one-pass uses raw counts only; iterative repeats until stable; ids re-densified in raw order', () => {
  // item 3 is rare (1 event); user 3 has 2 events. min 2/2:
  const d = fromLists([[1, 2, 3], [1, 2], [2, 4], [4]]);
  const one = kcore(d, { minUserCount: 2, minItemCount: 2 });
  // raw counts: users 3,2,2,1 ; items 1:2, 2:3, 3:1, 4:2 → drop user 4 and item 3, keep item 4 (raw count 2)
  assert.equal(one.userNum, 3);
  assert.deepEqual(one.users.toRaw, ['', 'u1', 'u2', 'u3']);
  assert.deepEqual(one.items.toRaw, ['', 'i1', 'i2', 'i4']);
  assert.deepEqual(
    one.seqs.slice(1).map((s) => Array.from(s)),
    [
      [1, 2],
      [1, 2],
      [2, 3],
    ],
  );
  const iter = kcore(d, { minUserCount: 2, minItemCount: 2, mode: 'iterative' });
  // after pass 1 item i4 has 1 event → dropped; then user u3 has 1 event → dropped
  assert.deepEqual(iter.users.toRaw, ['', 'u1', 'u2']);
  assert.deepEqual(iter.items.toRaw, ['', 'i1', 'i2']);
  assert.deepEqual(
    iter.seqs.slice(1).map((s) => Array.from(s)),
    [
      [1, 2],
      [1, 2],
    ],
  );
  assert.equal(kcore(d, { minUserCount: 0, minItemCount: 0 }), d);
});

test('loadDataset applies the k-core and keeps timestamps aligned', { skip: NEEDS_SHARED }, async () => {
  const d = await loadDataset(shared('data/ml-100k/u.data'), { minUserCount: 5, minItemCount: 5 });
  assert.equal(d.itemNum, 1349);
  for (let u = 1; u <= d.userNum; u += 97) {
    assert.equal(d.times![u].length, d.seqs[u].length);
    for (let k = 1; k < d.times![u].length; k++) assert.ok(d.times![u][k - 1] <= d.times![u][k]);
  }
});

interface Expected {
  sequences: Record<string, [number, number][]>;
  maxlen: number;
  time_span: number;
  user1_train_time_seq: number[];
  user1_relation_matrix: number[][];
}

test('TiSASRec preprocessing fixture: reader + one-pass 5-core + dense ids + time scaling reproduce expected.json', {
  skip: NEEDS_SHARED,
}, async () => {
  const dir = shared('fixtures/tisasrec-preprocessing');
  const exp = JSON.parse(readFileSync(path.join(dir, 'expected.json'), 'utf8')) as Expected;
  const data = kcore(await readInteractions(path.join(dir, 'raw.txt')), { minUserCount: 5, minItemCount: 5 });
  assert.equal(data.userNum, Object.keys(exp.sequences).length);
  for (const [u, seq] of Object.entries(exp.sequences)) {
    assert.deepEqual(
      Array.from(data.seqs[Number(u)]),
      seq.map((p) => p[0]),
      `items of user ${u}`,
    );
  }
  const scaled = scaleTimes(data);
  for (const [u, seq] of Object.entries(exp.sequences)) {
    assert.deepEqual(
      Array.from(scaled.times![Number(u)]),
      seq.map((p) => p[1]),
      `times of user ${u}`,
    );
  }
  // the relation matrix of user 1's training input (train[:-1], left-padded)
  const split = leaveOneOut(scaled);
  const t = split.trainTimes![1];
  const timeSeq = leftPad(t.subarray(0, t.length - 1), exp.maxlen);
  assert.deepEqual(Array.from(timeSeq), exp.user1_train_time_seq);
  assert.deepEqual(Array.from(relationMatrix(timeSeq, exp.time_span)), exp.user1_relation_matrix.flat());
});

test('relationMatrix clips at time_span; scaleTimes uses Python rounding (half to even)', () => {
  assert.deepEqual(Array.from(relationMatrix([0, 3, 10], 5)), [0, 3, 5, 3, 0, 5, 5, 5, 0]);
  const d: Interactions = {
    ...fromLists([
      [1, 2, 3],
      [1, 2],
    ]),
    // user 1 gaps 2 and 5 → scale 2: (0, 2, 7)/2 = 0, 1, 3.5 → round half even 4 → +1
    // user 2 equal times → scale 1
    times: [new Float64Array(0), Float64Array.from([100, 102, 107]), Float64Array.from([200, 200])],
  };
  const s = scaleTimes(d);
  assert.deepEqual(Array.from(s.times![1]), [1, 2, 5]);
  assert.deepEqual(Array.from(s.times![2]), [1, 1]);
  const half: Interactions = { ...d, times: [new Float64Array(0), Float64Array.from([100, 104, 109]), Float64Array.from([0, 0])] };
  // user 1: gaps 4, 5 → scale 4: 0, 1, 2.25 → 0,1,2 → +1
  assert.deepEqual(Array.from(scaleTimes(half).times![1]), [1, 2, 3]);
  const even: Interactions = { ...d, times: [new Float64Array(0), Float64Array.from([0, 2, 5]), Float64Array.from([0, 0])] };
  // gaps 2, 3 → scale 2: 0, 1, 2.5 → round(2.5) = 2 in Python → 3
  assert.deepEqual(Array.from(scaleTimes(even).times![1]), [1, 2, 3]);
});

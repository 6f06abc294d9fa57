import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomSplit, ratioCounts } from '../src/data/split.js';
import { idMapFromSorted } from '../src/data/ids.js';
import { parseSplitRatio } from '../src/data/options.js';
import { Rng } from '../src/engine/rng.js';
import type { Interactions } from '../src/data/types.js';

function randomLog(users: number, items: number, seed: number): Interactions {
  const rng = new Rng(seed);
  const seqs = [new Int32Array(0)];
  for (let u = 1; u <= users; u++) seqs.push(Int32Array.from({ length: 1 + rng.nextInt(30) }, () => 1 + rng.nextInt(items)));
  return {
    userNum: users,
    itemNum: items,
    seqs,
    users: idMapFromSorted(Array.from({ length: users }, (_, i) => String(i + 1))),
    items: idMapFromSorted(Array.from({ length: items }, (_, i) => String(i + 1))),
  };
}

/** true when `part` is a subsequence of `s` (so it keeps the log's time order). */
function isSubsequence(part: ArrayLike<number>, s: ArrayLike<number>): boolean {
  let j = 0;
  for (let i = 0; i < s.length && j < part.length; i++) if (s[i] === part[j]) j++;
  return j === part.length;
}

const sorted = (a: ArrayLike<number>) => Array.from(a).sort((x, y) => x - y);

test("ratioCounts rounds as RecBole's _calcu_split_ids", () => {
  const r = [0.8, 0.1, 0.1];
  assert.deepEqual(ratioCounts(10, r), [8, 1, 1]);
  assert.deepEqual(ratioCounts(5, r), [3, 1, 1]);
  assert.deepEqual(ratioCounts(3, r), [1, 1, 1]);
  assert.deepEqual(ratioCounts(2, r), [1, 0, 1]);
  assert.deepEqual(ratioCounts(1, r), [1, 0, 0]);
  assert.deepEqual(ratioCounts(25, r), [21, 2, 2]);
});

test('random split: per user, parts are disjoint, sized by ratioCounts, in time order, and cover every interaction', () => {
  const data = randomLog(60, 40, 7);
  const s = randomSplit(data, [0.8, 0.1, 0.1], 3);
  const r = s.random!;
  for (let u = 1; u <= data.userNum; u++) {
    const seq = data.seqs[u];
    const [a, b, c] = ratioCounts(seq.length, [0.8, 0.1, 0.1]);
    assert.equal(s.train[u].length, a);
    assert.equal(r.validSets[u].length, b);
    assert.equal(r.testSets[u].length, c);
    // every interaction in exactly one part (as a multiset)
    assert.deepEqual(sorted([...s.train[u], ...r.validSets[u], ...r.testSets[u]]), sorted(seq));
    for (const part of [s.train[u], r.validSets[u], r.testSets[u], r.validHistory[u]]) assert.ok(isSubsequence(part, seq), `user ${u}`);
    assert.deepEqual(sorted(r.validHistory[u]), sorted([...s.train[u], ...r.validSets[u]]));
    assert.equal(s.valid[u], b > 0 ? r.validSets[u][b - 1] : 0);
    assert.equal(s.test[u], c > 0 ? r.testSets[u][c - 1] : 0);
  }
});

test('random split: the same seed gives the same split, another seed another one', () => {
  const data = randomLog(40, 30, 11);
  const parts = (seed: number) => {
    const s = randomSplit(data, [0.8, 0.1, 0.1], seed);
    return JSON.stringify([s.train.map((t) => Array.from(t)), s.random!.testSets.map((t) => Array.from(t))]);
  };
  assert.equal(parts(5), parts(5));
  assert.notEqual(parts(5), parts(6));
});

test('random split: positions are shuffled, not the tail (held-out items are not always the last ones)', () => {
  const seqs = [new Int32Array(0)];
  for (let u = 1; u <= 50; u++) seqs.push(Int32Array.from({ length: 10 }, (_, k) => k + 1));
  const data: Interactions = {
    userNum: 50,
    itemNum: 10,
    seqs,
    users: idMapFromSorted(seqs.slice(1).map((_, i) => String(i + 1))),
    items: idMapFromSorted(Array.from({ length: 10 }, (_, i) => String(i + 1))),
  };
  const s = randomSplit(data, [0.8, 0.1, 0.1], 1);
  const tests = new Set(s.random!.testSets.slice(1).map((t) => t[0]));
  assert.ok(tests.size >= 5, `test items seen: ${[...tests]}`);
});

test('--split_ratio parsing', () => {
  assert.deepEqual(parseSplitRatio('0.8,0.1,0.1'), [0.8, 0.1, 0.1]);
  assert.deepEqual(parseSplitRatio('8, 1, 1'), [8, 1, 1]);
  for (const bad of ['0.8,0.2', '0,0.5,0.5', 'a,b,c', '0.8,-0.1,0.3', '0.8,,0.2']) assert.equal(parseSplitRatio(bad), undefined, bad);
});

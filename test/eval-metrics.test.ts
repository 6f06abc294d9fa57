import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RankMetrics, checkKs, hitAt, metricNames, metricsFromRanks, ndcgAt, rankFirst, reciprocalRank } from '../src/eval/metrics.js';

const close = (a: number, b: number, eps = 1e-12) => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

test('rankFirst counts only strictly higher candidates (ties with later candidates do not rank above)', () => {
  // held-out item first, as in the reference's item_idx
  assert.equal(rankFirst([0.5, 0.1, 0.2], 0, 3), 0);
  assert.equal(rankFirst([0.5, 0.9, 0.2, 0.7], 0, 4), 2);
  // ties: argsort of -scores with a stable sort keeps index 0 first among equals
  assert.equal(rankFirst([0.5, 0.5, 0.5, 0.5], 0, 4), 0);
  assert.equal(rankFirst([0.5, 0.5, 0.7, 0.5], 0, 4), 1);
  // offset and n select one row of a batch
  const scores = Float32Array.from([9, 9, 9, /* row 2 */ 1, 2, 3, 1]);
  assert.equal(rankFirst(scores, 3, 4), 2);
  assert.equal(rankFirst(scores, 0, 3), 0);
});

test('rankFirst matches a stable argsort().argsort() of -scores on random rows with many ties', () => {
  // an independent implementation of the reference's formula
  const refRank = (s: number[]): number => {
    const order = s.map((v, i) => ({ v: -v, i })).sort((a, b) => a.v - b.v || a.i - b.i);
    return order.findIndex((o) => o.i === 0);
  };
  let seed = 12345;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  for (let trial = 0; trial < 500; trial++) {
    const n = 2 + Math.floor(rnd() * 30);
    const s = Array.from({ length: n }, () => Math.floor(rnd() * 5)); // few distinct values → ties
    assert.equal(rankFirst(s, 0, n), refRank(s), JSON.stringify(s));
  }
});

test('rankFirst with NaN: NaN candidates never rank above, a NaN target ranks below every number', () => {
  assert.equal(rankFirst([0.5, NaN, 0.7, NaN], 0, 4), 1);
  assert.equal(rankFirst([NaN, 0.1, NaN, -3], 0, 4), 2);
});

test('HR, NDCG, MRR of single ranks', () => {
  assert.equal(hitAt(0, 10), 1);
  assert.equal(hitAt(9, 10), 1);
  assert.equal(hitAt(10, 10), 0);
  close(ndcgAt(0, 10), 1);
  close(ndcgAt(1, 10), 1 / Math.log2(3));
  close(ndcgAt(9, 10), 1 / Math.log2(11));
  assert.equal(ndcgAt(10, 10), 0);
  close(reciprocalRank(0), 1);
  close(reciprocalRank(4), 0.2);
});

test('RankMetrics averages over ranks for several K', () => {
  const ranks = [0, 3, 12, 25];
  const m = metricsFromRanks(ranks, [5, 20]);
  assert.deepEqual(Object.keys(m), ['HR@5', 'NDCG@5', 'HR@20', 'NDCG@20', 'MRR']);
  close(m['HR@5'], 2 / 4);
  close(m['NDCG@5'], (1 + 1 / Math.log2(5)) / 4);
  close(m['HR@20'], 3 / 4);
  close(m['NDCG@20'], (1 + 1 / Math.log2(5) + 1 / Math.log2(14)) / 4);
  close(m.MRR, (1 + 1 / 4 + 1 / 13 + 1 / 26) / 4);
  const acc = new RankMetrics();
  assert.deepEqual(Object.keys(acc.summary()), ['HR@10', 'NDCG@10', 'MRR']);
  acc.add(10);
  assert.equal(acc.count, 1);
  assert.equal(acc.summary()['HR@10'], 0);
});

test('metricNames and checkKs', () => {
  assert.deepEqual(metricNames([10, 20]), ['HR@10', 'NDCG@10', 'HR@20', 'NDCG@20', 'MRR']);
  assert.throws(() => checkKs([]), RangeError);
  assert.throws(() => checkKs([0]), RangeError);
  assert.throws(() => checkKs([10, 10]), RangeError);
  assert.throws(() => checkKs([2.5]), RangeError);
  checkKs([1, 5, 10]);
});

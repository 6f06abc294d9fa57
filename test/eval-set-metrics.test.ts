import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SetMetrics, setMetricNames } from '../src/eval/set-metrics.js';
import { evaluateFullRanking, evaluateFullRankingShared, evaluateSampled } from '../src/eval/protocols.js';
import { idMapFromSorted } from '../src/data/ids.js';
import { Rng } from '../src/engine/rng.js';
import { UserError } from '../src/core/errors.js';
import type { Interactions, Split } from '../src/data/types.js';
import type { HistoryBatch, Scorer } from '../src/eval/types.js';

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-12, `${what}: ${a} != ${b}`);
const g = (p: number) => 1 / Math.log2(p + 2); // gain of 0-based position p

test('set metrics of one user, by hand: truth at positions 0 and 3 of 2 items, K = 2 and 4', () => {
  const m = new SetMetrics([2, 4]);
  m.add([3, 0]);
  const s = m.summary();
  close(s['Recall@2'], 1 / 2, 'Recall@2');
  close(s['Precision@2'], 1 / 2, 'Precision@2');
  close(s['Hit@2'], 1, 'Hit@2');
  close(s['MRR@2'], 1, 'MRR@2');
  close(s['NDCG@2'], g(0) / (g(0) + g(1)), 'NDCG@2');
  close(s['Recall@4'], 1, 'Recall@4');
  close(s['Precision@4'], 2 / 4, 'Precision@4');
  close(s['NDCG@4'], (g(0) + g(3)) / (g(0) + g(1)), 'NDCG@4');
});

test('set metrics with K smaller than |truth|: ideal DCG over min(|truth|, K) items; MRR is the first hit; a user with no hit scores 0', () => {
  const m = new SetMetrics([2]);
  m.add([1, 2, 3]); // 3 truth items, K = 2: one hit at position 1
  m.add([5, 9]); // no hit
  const s = m.summary();
  close(s['Recall@2'], (1 / 3 + 0) / 2, 'Recall@2');
  close(s['Precision@2'], (1 / 2 + 0) / 2, 'Precision@2');
  close(s['Hit@2'], 1 / 2, 'Hit@2');
  close(s['MRR@2'], 1 / 2 / 2, 'MRR@2');
  close(s['NDCG@2'], g(1) / (g(0) + g(1)) / 2, 'NDCG@2');
  // a perfect list of 3 truth items at K = 2 has NDCG 1, not less
  const p = new SetMetrics([2]);
  p.add([0, 1, 2]);
  close(p.summary()['NDCG@2'], 1, 'perfect NDCG@2');
  close(p.summary()['Recall@2'], 2 / 3, 'perfect Recall@2');
  assert.deepEqual(setMetricNames([2]), ['Recall@2', 'NDCG@2', 'Hit@2', 'MRR@2', 'Precision@2']);
});

// A PopRec-like fixed scorer: every history gets the same scores, item i scoring i (6 best, 1 worst).
const popScorer: Scorer = {
  maxlen: 4,
  itemNum: 6,
  scoreCandidates: () => {
    throw new Error('not used');
  },
  scoreAll(batch: HistoryBatch): Float32Array {
    const out = new Float32Array(batch.batchSize * 7);
    for (let b = 0; b < batch.batchSize; b++) for (let i = 1; i <= 6; i++) out[b * 7 + i] = i;
    return out;
  },
};

const data: Interactions = {
  userNum: 2,
  itemNum: 6,
  seqs: [new Int32Array(0), Int32Array.of(6, 5, 2, 4), Int32Array.of(1, 3, 2, 5, 4)],
  users: idMapFromSorted(['1', '2']),
  items: idMapFromSorted(['1', '2', '3', '4', '5', '6']),
};
const I = (...xs: number[]) => Int32Array.from(xs);
// user 1: train [6], valid {5, 2}, test {4}; user 2: train [1], valid {3}, test {2, 5, 4}
const split: Split = {
  data,
  train: [I(), I(6), I(1)],
  valid: I(0, 2, 3),
  test: I(0, 4, 4),
  minInteractions: 1,
  random: {
    ratios: [0.8, 0.1, 0.1],
    validSets: [I(), I(5, 2), I(3)],
    testSets: [I(), I(4), I(2, 5, 4)],
    validHistory: [I(), I(6, 5, 2), I(1, 3)],
  },
};

test('random-split full ranking end to end with a popularity scorer, by hand', async () => {
  // valid, user 1: 6 excluded → ranked 5,4,3,2,1: truth 5 at 0, 2 at 3; user 2: 1 excluded → 6,5,4,3,2: truth 3 at 3
  const valid = await evaluateFullRanking(popScorer, split, { which: 'valid', ks: [2, 4] });
  assert.equal(valid.users, 2);
  const v = valid.metrics;
  close(v['Recall@2'], (1 / 2 + 0) / 2, 'valid Recall@2');
  close(v['NDCG@2'], (g(0) / (g(0) + g(1)) + 0) / 2, 'valid NDCG@2');
  close(v['Recall@4'], (1 + 1) / 2, 'valid Recall@4');
  close(v['NDCG@4'], ((g(0) + g(3)) / (g(0) + g(1)) + g(3)) / 2, 'valid NDCG@4');
  close(v['MRR@4'], (1 + 1 / 4) / 2, 'valid MRR@4');
  close(v['Hit@2'], 1 / 2, 'valid Hit@2');
  close(v['Precision@4'], (2 / 4 + 1 / 4) / 2, 'valid Precision@4');
  // test, user 1: 6,5,2 excluded → 4,3,1: truth 4 at 0; user 2: 1,3 excluded → 6,5,4,2: truth 5,4,2 at 1,2,3
  const t = (await evaluateFullRanking(popScorer, split, { which: 'test', ks: [2, 4] })).metrics;
  close(t['Recall@2'], (1 + 1 / 3) / 2, 'test Recall@2');
  close(t['NDCG@2'], (1 + g(1) / (g(0) + g(1))) / 2, 'test NDCG@2');
  close(t['MRR@2'], (1 + 1 / 2) / 2, 'test MRR@2');
  close(t['Precision@2'], (1 / 2 + 1 / 2) / 2, 'test Precision@2');
  close(t['NDCG@4'], (1 + (g(1) + g(2) + g(3)) / (g(0) + g(1) + g(2))) / 2, 'test NDCG@4');
  close(t['Recall@4'], 1, 'test Recall@4');
});

test('random-split histories: valid reads train, test reads train + valid in time order', async () => {
  const seen: number[][] = [];
  const spy: Scorer = {
    ...popScorer,
    scoreAll(batch) {
      for (let b = 0; b < batch.batchSize; b++) seen.push(Array.from(batch.seqs.subarray(b * 4, b * 4 + 4)));
      return popScorer.scoreAll(batch);
    },
  };
  await evaluateFullRanking(spy, split, { which: 'valid', ks: [2] });
  await evaluateFullRanking(spy, split, { which: 'test', ks: [2] });
  assert.deepEqual(seen, [
    [0, 0, 0, 6],
    [0, 0, 0, 1],
    [0, 6, 5, 2],
    [0, 0, 1, 3],
  ]);
});

test('ties go to the truth items, as in the one-item protocols', async () => {
  const flat: Scorer = { ...popScorer, scoreAll: (b) => new Float32Array(b.batchSize * 7).fill(1) };
  const t = (await evaluateFullRanking(flat, split, { which: 'test', ks: [2] })).metrics;
  close(t['NDCG@2'], 1, 'NDCG@2 with all scores tied');
});

test('the sampled protocol refuses a random split with a one-line UserError', async () => {
  await assert.rejects(
    evaluateSampled(popScorer, split, { which: 'test', rng: new Rng(1) }),
    (e: unknown) => e instanceof UserError && !String((e as Error).message).includes('\n'),
  );
});

test('random split: valid and test shared by a history-free scorer equal the two separate evaluations', async () => {
  let calls = 0;
  const free: Scorer = {
    ...popScorer,
    historyFree: true,
    scoreAll(batch: HistoryBatch): Float32Array {
      calls++;
      return popScorer.scoreAll(batch);
    },
  };
  const both = await evaluateFullRankingShared(free, split, { which: 'valid', ks: [2, 4] }, { which: 'test', ks: [2, 4] });
  assert.ok(both);
  assert.equal(calls, 1);
  assert.deepEqual(both.valid, await evaluateFullRanking(popScorer, split, { which: 'valid', ks: [2, 4] }));
  assert.deepEqual(both.test, await evaluateFullRanking(popScorer, split, { which: 'test', ks: [2, 4] }));
});

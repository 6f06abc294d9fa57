import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Interactions, Split } from '../src/data/types.js';
import type { HistoryBatch, Scorer } from '../src/eval/types.js';
import { Rng } from '../src/engine/rng.js';
import { evaluateFullRanking, evaluateFullRankingShared, evaluateSampled, selectEvalUsers, topK } from '../src/eval/protocols.js';
import { buildEvalBatch } from '../src/eval/history.js';
import type { EvalConfig } from '../src/eval/options.js';
import type { RankList } from '../src/eval/ranks.js';
import type { EvalRow } from '../src/eval/results.js';
import { runEvaluations } from '../src/eval/run.js';
import { SASRec } from '../src/models/sasrec/sasrec.js';
import { referenceKernels, setKernels } from '../src/kernels/index.js';
import { createWasmKernelsSync } from '../src/kernels/wasm/index.js';

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

/** Hand-made split: seqs[u-1] is user u's full sequence; users with ≥ 3 items: last → test, second-last → valid. */
function makeSplit(seqs: number[][], itemNum: number): Split {
  const userNum = seqs.length;
  const all = [new Int32Array(0), ...seqs.map((s) => Int32Array.from(s))];
  const train: Int32Array[] = [new Int32Array(0)];
  const valid = new Int32Array(userNum + 1);
  const test = new Int32Array(userNum + 1);
  for (let u = 1; u <= userNum; u++) {
    const s = all[u];
    if (s.length < 3) train.push(s.slice());
    else {
      train.push(s.slice(0, s.length - 2));
      valid[u] = s[s.length - 2];
      test[u] = s[s.length - 1];
    }
  }
  const raw = (n: number, p: string) => ['', ...Array.from({ length: n }, (_, i) => `${p}${i + 1}`)];
  const ids = (toRaw: string[]) => ({ toRaw, toIndex: new Map(toRaw.slice(1).map((r, i) => [r, i + 1] as [string, number])) });
  const data: Interactions = { userNum, itemNum, seqs: all, users: ids(raw(userNum, 'u')), items: ids(raw(itemNum, 'i')) };
  return { data, train, valid, test };
}

/** A fake model: score = table(user, item); records every batch and candidate list it is given. */
class TableScorer implements Scorer {
  calls: Array<{ batch: HistoryBatch; candidates?: Int32Array; numCandidates?: number }> = [];
  constructor(
    readonly itemNum: number,
    readonly maxlen: number,
    private readonly score: (user: number, item: number) => number,
  ) {}
  scoreCandidates(batch: HistoryBatch, candidates: Int32Array, numCandidates: number): Float32Array {
    this.calls.push({ batch, candidates: candidates.slice(), numCandidates });
    const out = new Float32Array(batch.batchSize * numCandidates);
    for (let b = 0; b < batch.batchSize; b++)
      for (let c = 0; c < numCandidates; c++) out[b * numCandidates + c] = this.score(batch.users[b], candidates[b * numCandidates + c]);
    return out;
  }
  scoreAll(batch: HistoryBatch): Float32Array {
    this.calls.push({ batch });
    const N1 = this.itemNum + 1;
    const out = new Float32Array(batch.batchSize * N1);
    for (let b = 0; b < batch.batchSize; b++) for (let i = 0; i < N1; i++) out[b * N1 + i] = this.score(batch.users[b], i);
    return out;
  }
}

test('histories are built like the reference: left-padded train (+ valid for test), oldest cut', () => {
  const split = makeSplit(
    [
      [1, 2, 3, 4, 5, 6],
      [7, 8, 9],
    ],
    9,
  );
  const v = buildEvalBatch(split, [1, 2], 3, 'valid');
  assert.deepEqual([...v.seqs], [2, 3, 4, /* user 2 */ 0, 0, 7]);
  assert.deepEqual([...v.users], [1, 2]);
  const t = buildEvalBatch(split, [1, 2], 3, 'test');
  assert.deepEqual([...t.seqs], [3, 4, 5, /* user 2 */ 0, 7, 8]);
  assert.equal(t.times, undefined);
});

test('sampled: hand-computed ranks with forced negatives (held-out item is a repeat, one free item)', async () => {
  // itemNum 6; user 1's train covers 1..5, valid = 3 (a repeat), test = 6 → valid negatives can only be 6
  // user 2: train [1..5], valid 6, test 2 (repeat)
  const split = makeSplit(
    [
      [1, 2, 3, 4, 5, 3, 6],
      [1, 2, 3, 4, 5, 6, 2],
    ],
    6,
  );
  const byItem = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.9];
  const scorer = new TableScorer(6, 4, (_u, i) => byItem[i]);
  const res = await evaluateSampled(scorer, split, { which: 'valid', numNegatives: 7, ks: [5, 10], rng: new Rng(1), keepRanks: true });
  // user 1: target 3 (0.3), 7 negatives all = 6 (0.9) → rank 7
  // user 2: target 6 (0.9), negatives all = 6 (ties) → rank 0
  assert.equal(res.users, 2);
  assert.deepEqual([...res.ranks!], [7, 0]);
  for (const call of scorer.calls) {
    const C = call.numCandidates!;
    assert.equal(C, 8);
    assert.deepEqual([...call.candidates!.subarray(1, C)], Array(7).fill(6));
    assert.deepEqual([...call.candidates!.subarray(C + 1, 2 * C)], Array(7).fill(6));
  }
  close(res.metrics['HR@5'], 0.5);
  close(res.metrics['HR@10'], 1);
  close(res.metrics['NDCG@10'], (1 / Math.log2(9) + 1) / 2);
  close(res.metrics['NDCG@5'], 0.5);
  close(res.metrics.MRR, (1 / 8 + 1) / 2);
});

test('sampled: all-equal scores → every held-out item ranks first (ties do not count above)', async () => {
  const split = makeSplit(
    [
      [1, 2, 3, 4],
      [5, 6, 7, 8, 9],
      [2, 4, 6],
    ],
    30,
  );
  const scorer = new TableScorer(30, 5, () => 1);
  for (const which of ['valid', 'test'] as const) {
    const res = await evaluateSampled(scorer, split, { which, rng: new Rng(3) });
    assert.equal(res.users, 3);
    assert.deepEqual(res.metrics, { 'HR@10': 1, 'NDCG@10': 1, MRR: 1 });
  }
});

test('sampled: best and worst held-out items give hand-computed averages', async () => {
  // user 1's held-out items score below everything, user 2's above everything
  const split = makeSplit(
    [
      [1, 2, 3, 4],
      [5, 6, 7, 8],
    ],
    50,
  );
  const held = new Set([3, 4, 7, 8]);
  const scorer = new TableScorer(50, 5, (u, i) => (held.has(i) ? (u === 1 ? -1 : 2) : 1));
  // a negative that is one of the held-out items ties with user 1's target (not above): counted out below
  const res = await evaluateSampled(scorer, split, { which: 'test', rng: new Rng(7), keepRanks: true });
  const c0 = scorer.calls[0];
  const C = c0.numCandidates!;
  assert.equal(C, 101);
  const above = [...c0.candidates!.subarray(1, C)].filter((i) => !held.has(i)).length;
  assert.deepEqual([...res.ranks!], [above, 0]);
  assert.ok(above >= 90);
  close(res.metrics['HR@10'], 0.5);
  close(res.metrics.MRR, (1 / (above + 1) + 1) / 2);
});

test('sampled: candidates = held-out item + 100 negatives from 1..itemNum outside train ∪ {0}; test negatives may include the valid item (reference parity)', async () => {
  // a one-user split with itemNum 5: train [1,2,3], valid 4, test 5 → test negatives ∈ {4,5}; 4 is the valid item
  const small = makeSplit([[1, 2, 3, 4, 5]], 5);
  const s1 = new TableScorer(5, 3, (_u, i) => i);
  await evaluateSampled(s1, small, { which: 'test', rng: new Rng(11) });
  const u1 = [...s1.calls[0].candidates!];
  assert.equal(u1.length, 101);
  assert.equal(u1[0], 5);
  assert.ok(u1.slice(1).every((i) => i === 4 || i === 5));
  assert.ok(u1.slice(1).includes(4), 'the valid item is not excluded from test negatives (as in the reference)');
  assert.ok(u1.slice(1).includes(5), 'the held-out item itself may be drawn as a negative (as in the reference)');

  const seqs: number[][] = [];
  for (let u = 0; u < 31; u++) seqs.push([1 + (u % 20), 21 + (u % 9), 3 + (u % 11), 7, 12 + (u % 5)]);
  const split = makeSplit(seqs, 30);
  const scorer = new TableScorer(30, 3, (_u, i) => i);
  await evaluateSampled(scorer, split, { which: 'test', rng: new Rng(11), batchSize: 8 });
  const seen = new Map<number, number[]>();
  for (const call of scorer.calls) {
    const C = call.numCandidates!;
    for (let b = 0; b < call.batch.batchSize; b++) seen.set(call.batch.users[b], [...call.candidates!.subarray(b * C, (b + 1) * C)]);
  }
  assert.equal(seen.size, 31);
  const drawn = new Set<number>();
  for (const [u, cands] of seen) {
    assert.equal(cands.length, 101);
    assert.equal(cands[0], split.test[u]);
    const train = new Set(split.train[u]);
    for (const i of cands.slice(1)) {
      assert.ok(i >= 1 && i <= 30, `candidate ${i} out of range`);
      assert.ok(!train.has(i), `user ${u}: negative ${i} is a train item`);
      drawn.add(i);
    }
  }
  // every item is a train item of some user but not of all: all 30 show up as negatives somewhere
  assert.equal(drawn.size, 30);
});

test('sampled: batching does not change the result; the same seed reproduces it; users without held-out items are skipped', async () => {
  const seqs: number[][] = [];
  for (let u = 0; u < 40; u++) {
    const len = u % 7 === 0 ? 2 : 3 + (u % 6); // every 7th user has 2 items → not evaluated
    seqs.push(Array.from({ length: len }, (_, j) => 1 + ((u * 13 + j * 7) % 60)));
  }
  const split = makeSplit(seqs, 60);
  const score = (u: number, i: number) => Math.sin(u * 0.7 + i * 1.3);
  const a = new TableScorer(60, 4, score);
  const b = new TableScorer(60, 4, score);
  const ra = await evaluateSampled(a, split, { which: 'valid', rng: new Rng(5), batchSize: 3, keepRanks: true });
  const rb = await evaluateSampled(b, split, { which: 'valid', rng: new Rng(5), batchSize: 256, keepRanks: true });
  assert.equal(ra.users, 40 - 6);
  assert.equal(a.calls.length, Math.ceil(34 / 3));
  assert.equal(b.calls.length, 1);
  assert.deepEqual(ra.metrics, rb.metrics);
  assert.deepEqual([...ra.ranks!], [...rb.ranks!]);
  assert.ok(![...ra.evaluated!].some((u) => (u - 1) % 7 === 0));
  const rc = await evaluateSampled(b, split, { which: 'valid', rng: new Rng(6), keepRanks: true });
  assert.notDeepEqual([...rc.ranks!], [...ra.ranks!]);
});

test('selectEvalUsers: evalUsers subsamples distinct ids from 1..userNum like random.sample, then drops non-evaluable ones', () => {
  const seqs: number[][] = [];
  for (let u = 0; u < 50; u++) seqs.push(u % 5 === 0 ? [1, 2] : [1, 2, 3, 4]);
  const split = makeSplit(seqs, 10);
  assert.equal(selectEvalUsers(split, 'valid').length, 40);
  assert.equal(selectEvalUsers(split, 'valid', 50, new Rng(1)).length, 40);
  assert.equal(selectEvalUsers(split, 'valid', 80, new Rng(1)).length, 40);
  const counts = new Int32Array(51);
  let totalSkipped = 0;
  for (let s = 0; s < 200; s++) {
    const us = selectEvalUsers(split, 'valid', 10, new Rng(s));
    assert.ok(us.length <= 10);
    assert.equal(new Set(us).size, us.length);
    for (const u of us) {
      assert.ok(u >= 1 && u <= 50 && (u - 1) % 5 !== 0);
      counts[u]++;
    }
    totalSkipped += 10 - us.length;
  }
  // every evaluable user is drawn sometimes (uniform: 200·10/50 = 40 expected each)
  for (let u = 1; u <= 50; u++) if ((u - 1) % 5 !== 0) assert.ok(counts[u] > 10 && counts[u] < 80, `user ${u}: ${counts[u]}`);
  // non-evaluable users are drawn and dropped (expected 200·10·10/50 = 400)
  assert.ok(totalSkipped > 250 && totalSkipped < 550, `skipped ${totalSkipped}`);
  assert.deepEqual([...selectEvalUsers(split, 'test', 10, new Rng(9))], [...selectEvalUsers(split, 'test', 10, new Rng(9))]);
  assert.throws(() => selectEvalUsers(split, 'test', 10));
});

test('sampled with evalUsers evaluates only the subsample', async () => {
  const seqs: number[][] = [];
  for (let u = 0; u < 30; u++) seqs.push([1 + (u % 9), 10 + (u % 7), 20 + (u % 5), 25 + (u % 4)]);
  const split = makeSplit(seqs, 30);
  const scorer = new TableScorer(30, 2, (u, i) => (u * 31 + i * 17) % 23);
  const res = await evaluateSampled(scorer, split, { which: 'test', rng: new Rng(2), evalUsers: 12, keepRanks: true });
  assert.equal(res.users, 12);
  const scored = scorer.calls.flatMap((c) => [...c.batch.users]);
  assert.deepEqual(scored, [...res.evaluated!]);
  assert.equal(new Set(scored).size, 12);
});

test('full ranking: excludes history and padding, ranks among the rest, ties do not count above', async () => {
  // scores: item i → i (higher id better); padding 0 gets a huge score that must be ignored
  const split = makeSplit(
    [
      [6, 5, 2, 3],
      [3, 6, 1, 3],
      [4, 4, 4],
    ],
    6,
  );
  const scorer = new TableScorer(6, 3, (_u, i) => (i === 0 ? 1e9 : i));
  const v = await evaluateFullRanking(scorer, split, { which: 'valid', keepRanks: true });
  // user 1 valid 2: excluded {6,5}; above 2: {3,4} → 2. user 2 valid 1: excluded {3,6}; above 1: {2,4,5} → 3
  // user 3: train [4], valid 4 (a repeat, still ranked): above 4: {5,6} → 2
  assert.deepEqual([...v.ranks!], [2, 3, 2]);
  const t = await evaluateFullRanking(scorer, split, { which: 'test', keepRanks: true, batchSize: 2 });
  // user 1 test 3: excluded {6,5,2}; above: {4} → 1. user 2 test 3 (in train, still ranked): excluded {6,1}; above {4,5} → 2
  // user 3 test 4: excluded {4 (train, valid) except itself}; above {5,6} → 2
  assert.deepEqual([...t.ranks!], [1, 2, 2]);
  close(t.metrics.MRR, (1 / 2 + 1 / 3 + 1 / 3) / 3);
  assert.equal(t.metrics['HR@10'], 1);
  const ties = await evaluateFullRanking(new TableScorer(6, 3, () => 0.25), split, { which: 'test', keepRanks: true });
  assert.deepEqual([...ties.ranks!], [0, 0, 0]);
});

test('full ranking shared by valid and test: a history-free scorer is asked once per batch, with the results of two separate evaluations', async () => {
  const split = makeSplit(
    [
      [6, 5, 2, 3],
      [3, 6, 1, 3],
      [4, 4, 4],
      [1, 2, 5, 6, 3],
      [2, 4],
    ],
    6,
  );
  // user-dependent scores that read no history
  const table = (u: number, i: number) => ((u * 7 + i * 3) % 5) + i / 10;
  const separate = new TableScorer(6, 3, table);
  const v = await evaluateFullRanking(separate, split, { which: 'valid', keepRanks: true, batchSize: 2 });
  const t = await evaluateFullRanking(separate, split, { which: 'test', keepRanks: true, batchSize: 2 });
  const free = Object.assign(new TableScorer(6, 3, table), { historyFree: true });
  const both = await evaluateFullRankingShared(
    free,
    split,
    { which: 'valid', keepRanks: true, batchSize: 2 },
    { which: 'test', keepRanks: true, batchSize: 2 },
  );
  assert.ok(both);
  assert.deepEqual(both.valid, v);
  assert.deepEqual(both.test, t);
  // 4 evaluable users in batches of 2: 2 calls, against 4 for the separate evaluations
  assert.equal(separate.calls.length, 4);
  assert.equal(free.calls.length, 2);
  // the test exclusions still include the valid item (user 1: test 3, valid 2 excluded; scores differ from valid's ranking)
  assert.notDeepEqual([...both.valid.ranks!], [...both.test.ranks!]);
  // not shared: a scorer that reads histories, or a sample of users
  assert.equal(await evaluateFullRankingShared(separate, split, { which: 'valid' }, { which: 'test' }), null);
  assert.equal(
    await evaluateFullRankingShared(free, split, { which: 'valid', evalUsers: 2, rng: new Rng(1) }, { which: 'test', evalUsers: 2, rng: new Rng(2) }),
    null,
  );
  assert.equal(free.calls.length, 2);
});

test('runEvaluations: a history-free scorer gets one full-ranking pass for valid and test, with the rows and ranks of separate passes', async () => {
  const split = makeSplit(
    [
      [6, 5, 2, 3],
      [3, 6, 1, 3],
      [4, 4, 4],
      [1, 2, 5, 6, 3],
    ],
    6,
  );
  const table = (u: number, i: number) => ((u * 5 + i * 3) % 7) + i / 10;
  const c: EvalConfig = { evalProtocol: 'full', ks: [1, 5], numNegatives: 100, evalUsers: undefined, evalBatchSize: 2 };
  const apart: RankList[] = [];
  const separate = new TableScorer(6, 3, table);
  const rowsApart = await runEvaluations(separate, split, c, 9, undefined, apart);
  const shared: RankList[] = [];
  const free = Object.assign(new TableScorer(6, 3, table), { historyFree: true });
  const rowsShared = await runEvaluations(free, split, c, 9, undefined, shared);
  const strip = (rows: EvalRow[]) => rows.map(({ seconds: _, ...r }) => r);
  assert.deepEqual(strip(rowsShared), strip(rowsApart));
  assert.deepEqual(shared, apart);
  assert.deepEqual(
    apart.map((l) => [l.split, [...l.users], [...l.items]]),
    [
      ['valid', [1, 2, 3, 4], [2, 1, 4, 6]],
      ['test', [1, 2, 3, 4], [3, 3, 4, 3]],
    ],
  );
  assert.equal(separate.calls.length, 4);
  assert.equal(free.calls.length, 2, '4 users in batches of 2, once for both splits');
});

test('NaN and +Infinity scores are refused by both protocols (an all-NaN model would otherwise rank as perfect)', async () => {
  const split = makeSplit(
    [
      [1, 2, 3, 4, 5],
      [2, 3, 4, 6, 1],
      [4, 4, 4],
    ],
    6,
  );
  for (const bad of [NaN, Infinity]) {
    for (const scorer of [new TableScorer(6, 3, () => bad), new TableScorer(6, 3, (_u, i) => (i === 5 ? bad : i))]) {
      await assert.rejects(evaluateFullRanking(scorer, split, { which: 'test' }), {
        name: 'UserError',
        message: new RegExp(`scores ${bad}.*diverged`),
      });
      await assert.rejects(evaluateSampled(scorer, split, { which: 'test', rng: new Rng(1), numNegatives: 40 }), {
        name: 'UserError',
        message: new RegExp(`scores ${bad}`),
      });
    }
  }
  // allowed: −Infinity (a scorer's mask) anywhere, and anything at scoreAll's padding index 0
  const masked = new TableScorer(6, 3, (_u, i) => (i === 0 ? NaN : i === 6 ? -Infinity : i));
  const full = await evaluateFullRanking(masked, split, { which: 'test', keepRanks: true });
  assert.equal(full.users, 3);
  await evaluateSampled(new TableScorer(6, 3, (_u, i) => (i === 6 ? -Infinity : i)), split, { which: 'test', rng: new Rng(1), numNegatives: 40 });
});

test('full ranking with test history including the valid item (scorer receives train + valid)', async () => {
  const split = makeSplit([[1, 2, 3, 4, 5]], 8);
  const scorer = new TableScorer(8, 4, (_u, i) => -i);
  const r = await evaluateFullRanking(scorer, split, { which: 'test', keepRanks: true });
  assert.deepEqual([...scorer.calls[0].batch.seqs], [1, 2, 3, 4]);
  // test 5: excluded {1,2,3,4}; lower ids score higher; none left above → rank 0
  assert.deepEqual([...r.ranks!], [0]);
});

test('topK: best items first, excluded items and padding skipped, ties by lower id', () => {
  const s = Float32Array.from([100, 0.1, 0.9, 0.5, 0.9, 0.3]);
  assert.deepEqual(
    topK(s, 0, 5, 3).map((x) => x.item),
    [2, 4, 3],
  );
  assert.deepEqual(
    topK(s, 0, 5, 3, [2]).map((x) => x.item),
    [4, 3, 5],
  );
  assert.deepEqual(
    topK(s, 0, 5, 10).map((x) => x.item),
    [2, 4, 3, 5, 1],
  );
});

test('full ranking equals a brute-force count on random histories (repeats, target in history, ties, odd item counts)', async () => {
  const rng = new Rng(7);
  for (const itemNum of [1, 2, 3, 5, 9, 37]) {
    const seqs: number[][] = [];
    for (let u = 0; u < 40; u++) {
      const len = 1 + rng.nextInt(12);
      seqs.push(Array.from({ length: len }, () => 1 + rng.nextInt(itemNum)));
    }
    const split = makeSplit(seqs, itemNum);
    // coarse scores: many ties
    const table = new Float32Array((seqs.length + 1) * (itemNum + 1));
    for (let i = 0; i < table.length; i++) table[i] = rng.nextInt(4);
    const scorer = new TableScorer(itemNum, 8, (u, i) => table[u * (itemNum + 1) + i]);
    for (const which of ['valid', 'test'] as const) {
      const res = await evaluateFullRanking(scorer, split, { which, keepRanks: true, batchSize: 7 });
      const held = which === 'valid' ? split.valid : split.test;
      for (let j = 0; j < res.evaluated!.length; j++) {
        const u = res.evaluated![j];
        const target = held[u];
        const hist = new Set<number>(split.train[u]);
        if (which === 'test') hist.add(split.valid[u]);
        hist.delete(target);
        const t = table[u * (itemNum + 1) + target];
        let expected = 0;
        for (let i = 1; i <= itemNum; i++) {
          if (i === target || hist.has(i)) continue;
          const s = table[u * (itemNum + 1) + i];
          if (s > t) expected++;
        }
        assert.equal(res.ranks![j], expected, `itemNum ${itemNum}, ${which}, user ${u}`);
      }
    }
  }
});

test('SASRec.scoreAll into a caller buffer equals a fresh scoreAll; full ranking is the same with and without the buffer', async () => {
  const rng = new Rng(3);
  const itemNum = 23;
  const seqs = Array.from({ length: 30 }, () => Array.from({ length: 3 + rng.nextInt(9) }, () => 1 + rng.nextInt(itemNum)));
  const split = makeSplit(seqs, itemNum);
  const model = new SASRec({ itemNum, maxlen: 6, hiddenUnits: 8, numBlocks: 2, numHeads: 1, dropoutRate: 0.2 }, { seed: 5 });
  const batch = buildEvalBatch(split, [1, 2, 3, 4, 5], 6, 'test');
  const fresh = model.scoreAll(batch);
  const buf = new Float32Array(8 * (itemNum + 1)).fill(NaN);
  const viaBuf = model.scoreAll(batch, buf);
  assert.equal(viaBuf.buffer, buf.buffer);
  assert.deepEqual([...viaBuf], [...fresh]);
  // a scorer that ignores the buffer must give the same ranks
  const plain: Scorer = { itemNum, maxlen: 6, scoreCandidates: (b, c, n) => model.scoreCandidates(b, c, n), scoreAll: (b) => model.scoreAll(b) };
  for (const which of ['valid', 'test'] as const) {
    const a = await evaluateFullRanking(model, split, { which, keepRanks: true, batchSize: 4 });
    const b = await evaluateFullRanking(plain, split, { which, keepRanks: true, batchSize: 4 });
    assert.deepEqual([...a.ranks!], [...b.ranks!]);
  }
});

test('full ranking on the wasm kernels (score buffer in wasm memory, freed after) ranks as a scorer returning fresh arrays', async () => {
  const wasm = createWasmKernelsSync();
  setKernels(wasm);
  try {
    const rng = new Rng(9);
    const itemNum = 41;
    const seqs = Array.from({ length: 37 }, () => Array.from({ length: 3 + rng.nextInt(10) }, () => 1 + rng.nextInt(itemNum)));
    const split = makeSplit(seqs, itemNum);
    const model = new SASRec({ itemNum, maxlen: 7, hiddenUnits: 8, numBlocks: 2, numHeads: 1, dropoutRate: 0.2 }, { seed: 2 });
    const plain: Scorer = { itemNum, maxlen: 7, scoreCandidates: (b, c, n) => model.scoreCandidates(b, c, n), scoreAll: (b) => model.scoreAll(b) };
    for (const which of ['valid', 'test'] as const) {
      for (let round = 0; round < 2; round++) {
        const a = await evaluateFullRanking(model, split, { which, keepRanks: true, batchSize: 5 });
        const b = await evaluateFullRanking(plain, split, { which, keepRanks: true, batchSize: 5 });
        assert.deepEqual([...a.ranks!], [...b.ranks!]);
        assert.deepEqual(a.metrics, b.metrics);
      }
    }
  } finally {
    setKernels(referenceKernels);
  }
});

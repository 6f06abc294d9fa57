import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrainSampler, buildHistory, buildHistoryTimes, leaveOneOut, leftPad, readInteractions } from '../src/data/index.js';
import { UserError } from '../src/core/errors.js';
import { idMapFromSorted } from '../src/data/ids.js';
import type { Interactions, Split, TrainBatch } from '../src/data/types.js';
import { sharedPath, NEEDS_SHARED } from './helpers/shared.js';

function makeData(lists: number[][], itemNum: number, withTimes = false): Interactions {
  const base = {
    userNum: lists.length,
    itemNum,
    seqs: [new Int32Array(0), ...lists.map((l) => Int32Array.from(l))],
    users: idMapFromSorted(lists.map((_, u) => String(u + 1))),
    items: idMapFromSorted(Array.from({ length: itemNum }, (_, i) => String(i + 1))),
  };
  return withTimes ? { ...base, times: [new Float64Array(0), ...lists.map((l) => Float64Array.from(l, (_, k) => 1000 + k))] } : base;
}

function row(b: TrainBatch, r: number, a: Int32Array | Float64Array): number[] {
  return Array.from(a.subarray(r * b.maxlen, (r + 1) * b.maxlen));
}

test('row semantics: inputs = train[:-1] right-aligned, pos = next item, neg outside train, 0 on padding', () => {
  // user 1 train [5, 3, 1] (+ valid 2, test 4); user 2 train [1] (+ 2, 6) is never sampled
  const split = leaveOneOut(
    makeData(
      [
        [5, 3, 1, 2, 4],
        [1, 2, 6],
      ],
      40,
      true,
    ),
  );
  const s = new TrainSampler(split, { batchSize: 6, maxlen: 4, seed: 1 });
  const b = s.nextBatch();
  assert.deepEqual(Array.from(b.users), [1, 1, 1, 1, 1, 1]);
  for (let r = 0; r < 6; r++) {
    assert.deepEqual(row(b, r, b.seqs), [0, 0, 5, 3]);
    assert.deepEqual(row(b, r, b.pos), [0, 0, 3, 1]);
    const neg = row(b, r, b.neg);
    assert.deepEqual(neg.slice(0, 2), [0, 0]);
    for (const n of neg.slice(2)) assert.ok(n >= 1 && n <= 40 && ![5, 3, 1].includes(n), `neg ${n}`);
    assert.deepEqual(row(b, r, b.times!), [0, 0, 1000, 1001]);
  }
  // different rows draw different negatives
  assert.notDeepEqual(row(b, 0, b.neg), row(b, 1, b.neg));
});

test('long histories are cut to the last maxlen inputs', () => {
  const split = leaveOneOut(makeData([[1, 2, 3, 4, 5, 6, 7, 8, 9]], 20));
  const b = new TrainSampler(split, { batchSize: 1, maxlen: 3, seed: 2 }).nextBatch();
  // train = 1..7: inputs 4 5 6, positives 5 6 7
  assert.deepEqual(row(b, 0, b.seqs), [4, 5, 6]);
  assert.deepEqual(row(b, 0, b.pos), [5, 6, 7]);
  assert.equal(b.times, undefined);
});

function tenUsers(): Split {
  return leaveOneOut(
    makeData(
      Array.from({ length: 10 }, (_, u) => [u + 1, u + 2, u + 3, u + 4]),
      30,
    ),
  );
}

test('every pass visits each user once, in a fresh random order; seeded and reproducible', () => {
  const s = new TrainSampler(tenUsers(), { batchSize: 5, seed: 7, maxlen: 3 });
  assert.equal(s.batchesPerEpoch, 2);
  const passes: number[][] = [];
  for (let p = 0; p < 3; p++) passes.push([...s.nextBatch().users, ...s.nextBatch().users]);
  for (const pass of passes)
    assert.deepEqual(
      [...pass].sort((a, b) => a - b),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    );
  assert.notDeepEqual(passes[0], passes[1]);
  const again = new TrainSampler(tenUsers(), { batchSize: 5, seed: 7, maxlen: 3 });
  assert.deepEqual([...again.nextBatch().users, ...again.nextBatch().users], passes[0]);
  const other = new TrainSampler(tenUsers(), { batchSize: 5, seed: 8, maxlen: 3 });
  assert.notDeepEqual([...other.nextBatch().users, ...other.nextBatch().users], passes[0]);
});

test("user sampling 'cycle': one order cycled through until a batch starts at a pass boundary (SASRec.pytorch's counter % usernum test)", () => {
  // 10 users, batch 3: batch starts at draws 0, 3, …, 27 are never a multiple of 10 until draw 30 (batch 10)
  const s = new TrainSampler(tenUsers(), { batchSize: 3, seed: 7, maxlen: 3, userSampling: 'cycle' });
  const draws = Array.from({ length: 20 }, () => [...s.nextBatch().users]).flat();
  const first = draws.slice(0, 10);
  assert.deepEqual(
    [...first].sort((a, b) => a - b),
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
  );
  assert.deepEqual(draws.slice(10, 20), first, 'pass 2 (which starts inside batch 4) repeats pass 1');
  assert.deepEqual(draws.slice(20, 30), first, 'pass 3 too');
  const next = draws.slice(30, 40);
  assert.deepEqual(
    [...next].sort((a, b) => a - b),
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
  );
  assert.notDeepEqual(next, first, 'batch 10 starts at draw 30: a new order');
  assert.deepEqual(draws.slice(40, 50), next);
  // 'shuffle' (the default) redraws the order at every pass boundary, even inside a batch
  const p = new TrainSampler(tenUsers(), { batchSize: 3, seed: 7, maxlen: 3 });
  const pd = Array.from({ length: 10 }, () => [...p.nextBatch().users]).flat();
  assert.deepEqual(pd.slice(0, 10), first, 'both modes draw the same first order');
  assert.notDeepEqual(pd.slice(10, 20), first);
  assert.deepEqual(
    [...pd.slice(10, 20)].sort((a, b) => a - b),
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
  );
  assert.throws(
    () => new TrainSampler(tenUsers(), { batchSize: 3, maxlen: 3, userSampling: 'epoch' as never }),
    /userSampling must be shuffle, cycle, uniform/,
  );
});

test("user sampling 'uniform': independent uniform users, with replacement (TiSASRec.pytorch)", () => {
  const s = new TrainSampler(tenUsers(), { batchSize: 10, seed: 3, maxlen: 3, userSampling: 'uniform' });
  const counts = new Array(11).fill(0);
  let repeatsInABatch = 0;
  for (let k = 0; k < 2000; k++) {
    const users = [...s.nextBatch().users];
    if (new Set(users).size < users.length) repeatsInABatch++;
    for (const u of users) counts[u]++;
  }
  // an order would visit each user exactly once per 10 draws; uniform draws repeat within most batches
  assert.ok(repeatsInABatch > 1900, `batches with a repeated user: ${repeatsInABatch} of 2000`);
  // 20,000 draws over 10 users: each ≈ 2000 (s.d. 42)
  for (let u = 1; u <= 10; u++) assert.ok(Math.abs(counts[u] - 2000) < 250, `user ${u}: ${counts[u]}`);
  // resumable like the other modes
  const state = JSON.parse(JSON.stringify(s.getState()));
  const want = s.nextBatch();
  const t = new TrainSampler(tenUsers(), { batchSize: 10, seed: 99, maxlen: 3, userSampling: 'uniform' });
  t.setState(state);
  assert.deepEqual(t.nextBatch(), want);
});

test('users with ≤ 1 train items are replaced by random trainable users', () => {
  // users 2 and 4 have 1 train item after the split
  const split = leaveOneOut(
    makeData(
      [
        [1, 2, 3, 4],
        [5, 6, 7],
        [1, 3, 5, 7],
        [2, 4, 6],
      ],
      10,
    ),
  );
  const s = new TrainSampler(split, { batchSize: 8, maxlen: 2, seed: 3 });
  for (let k = 0; k < 20; k++) for (const u of s.nextBatch().users) assert.ok(u === 1 || u === 3, `user ${u}`);
  assert.throws(
    () =>
      new TrainSampler(
        leaveOneOut(
          makeData(
            [
              [1, 2, 3],
              [2, 3, 1],
            ],
            3,
          ),
        ),
        { batchSize: 2, maxlen: 2 },
      ),
    /no user has 2 or more training items/,
  );
  // a trainable user who has seen every item could never get a negative
  assert.throws(
    () =>
      new TrainSampler(
        leaveOneOut(
          makeData(
            [
              [1, 2],
              [2, 1, 2],
            ],
            2,
          ),
        ),
        { batchSize: 2, maxlen: 2 },
      ),
    UserError,
  );
});

test('getState/setState resumes the exact stream, mid-pass and at a pass boundary (JSON round trip)', () => {
  // batch 5: skip 4 is mid-pass; batch 3 ('cycle' keeps an order for 3 passes): skip 4 mid-cycle, 10 at the redraw
  for (const [batchSize, userSampling, skips] of [
    [5, 'shuffle', [3, 4]],
    [3, 'cycle', [4, 7, 10]],
  ] as const)
    for (const skip of skips) {
      const a = new TrainSampler(tenUsers(), { batchSize, seed: 11, maxlen: 3, userSampling });
      for (let k = 0; k < skip; k++) a.nextBatch();
      const state = JSON.parse(JSON.stringify(a.getState()));
      const expected = Array.from({ length: 12 }, () => a.nextBatch());
      const b = new TrainSampler(tenUsers(), { batchSize, seed: 999, maxlen: 3, userSampling });
      b.nextBatch();
      b.setState(state);
      for (const e of expected) assert.deepEqual(b.nextBatch(), e);
    }
});

test('refilling a batch via `out` gives the same stream as fresh batches', () => {
  const split = leaveOneOut(
    makeData(
      [
        [1, 2, 3, 4, 5],
        [2, 3, 4, 5, 6, 7],
      ],
      9,
      true,
    ),
  );
  const a = new TrainSampler(split, { batchSize: 3, maxlen: 5, seed: 5 });
  const b = new TrainSampler(split, { batchSize: 3, maxlen: 5, seed: 5 });
  const out = b.nextBatch();
  assert.deepEqual(out, a.nextBatch());
  for (let k = 0; k < 4; k++) assert.deepEqual(b.nextBatch(out), a.nextBatch());
});

test('Games: one epoch of 128 × 50 batches is fast and never draws a train item as negative', { skip: NEEDS_SHARED }, async () => {
  const data = await readInteractions(sharedPath('data/games/Video.txt'));
  const split = leaveOneOut(data);
  const t0 = performance.now();
  const s = new TrainSampler(split, { batchSize: 128, maxlen: 50, seed: 42 });
  const batches: TrainBatch[] = [];
  for (let k = 0; k < s.batchesPerEpoch; k++) batches.push(s.nextBatch());
  const ms = performance.now() - t0;
  assert.equal(batches.length, 243);
  assert.ok(ms < 3000, `an epoch of sampling took ${ms.toFixed(0)} ms`);
  const trainSets = new Map<number, Set<number>>();
  let real = 0;
  for (const b of batches) {
    for (let r = 0; r < b.batchSize; r++) {
      const u = b.users[r];
      let set = trainSets.get(u);
      if (!set) {
        set = new Set(split.train[u]);
        trainSets.set(u, set);
      }
      for (let p = 0; p < b.maxlen; p++) {
        const k = r * b.maxlen + p;
        assert.equal(b.neg[k] === 0, b.pos[k] === 0);
        assert.equal(b.seqs[k] === 0, b.pos[k] === 0);
        if (b.neg[k] !== 0) {
          real++;
          assert.ok(!set.has(b.neg[k]) && b.neg[k] <= data.itemNum);
        }
      }
    }
  }
  // ~12% of a maxlen-50 Games batch is real (DESIGN.md: ~88% padding)
  const frac = real / (243 * 128 * 50);
  assert.ok(frac > 0.08 && frac < 0.16, `real fraction ${frac}`);
});

test('buildHistory: train (+ valid for test) left-padded like the reference evaluate()', () => {
  const split = leaveOneOut(
    makeData(
      [
        [5, 3, 1, 2, 4],
        [1, 2],
      ],
      6,
      true,
    ),
  );
  assert.deepEqual(Array.from(buildHistory(split, 1, 5, false)), [0, 0, 5, 3, 1]);
  assert.deepEqual(Array.from(buildHistory(split, 1, 5, true)), [0, 5, 3, 1, 2]);
  assert.deepEqual(Array.from(buildHistory(split, 1, 2, true)), [1, 2]);
  assert.deepEqual(Array.from(buildHistory(split, 2, 3, true)), [0, 1, 2]);
  assert.deepEqual(Array.from(buildHistoryTimes(split, 1, 5, true)!), [0, 1000, 1001, 1002, 1003]);
  const out = new Int32Array(3).fill(9);
  assert.equal(buildHistory(split, 1, 3, false, out), out);
  assert.deepEqual(Array.from(out), [5, 3, 1]);
  assert.deepEqual(Array.from(leftPad([7, 8, 9], 2)), [8, 9]);
  assert.deepEqual(Array.from(leftPad([7], 3)), [0, 0, 7]);
});

test('K negatives per position: each outside the user train items, zeros on padding; K = 1 is the one-negative stream', () => {
  const split = leaveOneOut(
    makeData(
      [
        [5, 3, 1, 2, 4],
        [7, 8, 9, 10, 11, 12],
      ],
      40,
    ),
  );
  const K = 5;
  const s = new TrainSampler(split, { batchSize: 4, maxlen: 4, seed: 3, negatives: K });
  const b = s.nextBatch();
  assert.equal(b.neg.length, 4 * 4 * K);
  assert.equal(b.negatives, K);
  for (let r = 0; r < 4; r++) {
    const train = Array.from(split.train[b.users[r]]);
    for (let t = 0; t < 4; t++) {
      const negs = Array.from(b.neg.subarray((r * 4 + t) * K, (r * 4 + t + 1) * K));
      if (b.pos[r * 4 + t] === 0) assert.deepEqual(negs, [0, 0, 0, 0, 0]);
      else for (const n of negs) assert.ok(n >= 1 && n <= 40 && !train.includes(n), `neg ${n} of user ${b.users[r]}`);
    }
  }
  const one = new TrainSampler(split, { batchSize: 4, maxlen: 4, seed: 3, negatives: 1 });
  const dflt = new TrainSampler(split, { batchSize: 4, maxlen: 4, seed: 3 });
  for (let k = 0; k < 5; k++) assert.deepEqual(Array.from(one.nextBatch().neg), Array.from(dflt.nextBatch().neg));
});

test('shared negatives: K uniform items once per batch, drawn after the rows; no per-position negatives; none with K = 0', () => {
  const split = leaveOneOut(
    makeData(
      [
        [5, 3, 1, 2, 4],
        [7, 8, 9, 10, 11, 12],
        [1, 2, 3, 4],
      ],
      30,
    ),
  );
  const shared = new TrainSampler(split, { batchSize: 3, maxlen: 4, seed: 9, negatives: 6, sharedNegatives: true });
  const plain = new TrainSampler(split, { batchSize: 3, maxlen: 4, seed: 9, negatives: 0 });
  const b = shared.nextBatch();
  const p = plain.nextBatch();
  assert.equal(b.neg.length, 6);
  assert.ok(b.sharedNegatives);
  for (const n of b.neg) assert.ok(n >= 1 && n <= 30);
  assert.equal(p.neg.length, 0);
  // the rows come from the same stream: the shared draw follows them
  assert.deepEqual(Array.from(b.users), Array.from(p.users));
  assert.deepEqual(Array.from(b.seqs), Array.from(p.seqs));
  assert.notDeepEqual(Array.from(shared.nextBatch().neg), Array.from(b.neg), 'a fresh draw every batch');
});

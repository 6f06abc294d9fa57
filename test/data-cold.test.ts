/**
 * The cold-start splits (issue 19 item 3, data/cold.ts): held-out users or items have no training
 * event; the fraction, the valid/test halves, the input histories and targets; the same seed gives the
 * same split; the sampler never draws a held-out item; the options' one-line errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COLD_TEST, COLD_VALID, coldItemsSplit, coldUsersSplit, describeCold, parseCold } from '../src/data/cold.js';
import { idMapFromSorted } from '../src/data/ids.js';
import { splitOptions } from '../src/data/options.js';
import { TrainSampler } from '../src/data/sampler.js';
import type { Interactions } from '../src/data/types.js';
import { Rng } from '../src/engine/rng.js';
import { asFlag } from '../src/core/options.js';

function randomLog(users: number, items: number, seed: number): Interactions {
  const rng = new Rng(seed);
  const seqs = [new Int32Array(0)];
  const times = [new Float64Array(0)];
  for (let u = 1; u <= users; u++) {
    const n = 1 + rng.nextInt(30);
    seqs.push(Int32Array.from({ length: n }, () => 1 + rng.nextInt(items)));
    times.push(Float64Array.from({ length: n }, (_, k) => 1000 * u + k));
  }
  return {
    userNum: users,
    itemNum: items,
    seqs,
    times,
    users: idMapFromSorted(Array.from({ length: users }, (_, i) => String(i + 1))),
    items: idMapFromSorted(Array.from({ length: items }, (_, i) => String(i + 1))),
  };
}

const count = (a: Uint8Array, v: number) => a.reduce((c, x) => c + (x === v ? 1 : 0), 0);

test('parseCold: users:F and items:F with 0 < F < 1', () => {
  assert.deepEqual(parseCold('users:0.1'), { kind: 'users', fraction: 0.1 });
  assert.deepEqual(parseCold(' items : 0.25 '), { kind: 'items', fraction: 0.25 });
  for (const bad of ['users', 'users:0', 'users:1', 'users:1.5', 'users:-0.1', 'items:x', 'movies:0.1', 'users:0.1:2', '']) {
    assert.equal(parseCold(bad), undefined, bad);
  }
});

test('cold users: none of their events in train, ⌊F·n⌉ held out in alternating halves, history and next event', () => {
  const data = randomLog(200, 50, 1);
  for (const history of [0, 1, 3]) {
    const split = coldUsersSplit(data, 0.1, history, 7);
    const cold = split.cold!;
    assert.equal(cold.kind, 'users');
    assert.equal(count(cold.held, COLD_VALID) + count(cold.held, COLD_TEST), 20);
    assert.equal(count(cold.held, COLD_VALID), 10);
    for (let u = 1; u <= data.userNum; u++) {
      const s = data.seqs[u];
      if (cold.held[u] === 0) {
        assert.deepEqual(Array.from(split.train[u]), Array.from(s), 'a warm user trains on every event');
        assert.equal(split.valid[u] + split.test[u], 0, 'warm users are not evaluated');
        continue;
      }
      assert.equal(split.train[u].length, 0, `held-out user ${u} has no train event`);
      assert.equal(split.trainTimes![u].length, 0);
      assert.deepEqual(Array.from(cold.inputs[u]), Array.from(s.subarray(0, Math.min(history, s.length))));
      assert.deepEqual(Array.from(cold.inputTimes![u]), Array.from(data.times![u].subarray(0, Math.min(history, s.length))));
      const [mine, other] = cold.held[u] === COLD_VALID ? [split.valid, split.test] : [split.test, split.valid];
      assert.equal(mine[u], s.length > history ? s[history] : 0, 'the target is the event after the history');
      assert.equal(other[u], 0, 'a user is in one half only');
    }
  }
});

test('cold items: no held-out item in train, a user targets their last event on each half, the rest in order', () => {
  const data = randomLog(100, 40, 2);
  const split = coldItemsSplit(data, 0.25, 3);
  const held = split.cold!.held;
  assert.equal(count(held, COLD_VALID) + count(held, COLD_TEST), 10);
  let validUsers = 0;
  for (let u = 1; u <= data.userNum; u++) {
    const s = Array.from(data.seqs[u]);
    for (const i of split.train[u]) assert.equal(held[i], 0, `held-out item ${i} in user ${u}'s train`);
    assert.deepEqual(
      Array.from(split.train[u]),
      s.filter((i) => held[i] === 0),
    );
    assert.equal(split.cold!.inputs[u], split.train[u], 'evaluated after the whole train history');
    const lastOf = (h: number) => s.filter((i) => held[i] === h).at(-1) ?? 0;
    assert.equal(split.valid[u], lastOf(COLD_VALID));
    assert.equal(split.test[u], lastOf(COLD_TEST));
    if (split.valid[u] !== 0) validUsers++;
  }
  assert.ok(validUsers > 0);
  const described = describeCold(split)!;
  assert.equal(described.kind, 'items');
  assert.equal(described.heldOut, 10);
  assert.equal(described.validUsers, validUsers);
});

test('the same seed gives the same split; another seed another one', () => {
  const data = randomLog(300, 60, 3);
  const a = coldUsersSplit(data, 0.2, 1, 11).cold!.held;
  assert.deepEqual(coldUsersSplit(data, 0.2, 1, 11).cold!.held, a);
  assert.notDeepEqual(coldUsersSplit(data, 0.2, 1, 12).cold!.held, a);
  const b = coldItemsSplit(data, 0.2, 11).cold!.held;
  assert.deepEqual(coldItemsSplit(data, 0.2, 11).cold!.held, b);
  assert.notDeepEqual(coldItemsSplit(data, 0.2, 12).cold!.held, b);
});

test('too small or too large a fraction is a one-line error', () => {
  const data = randomLog(5, 10, 4);
  assert.throws(() => coldUsersSplit(data, 0.05, 0, 1), /^UserError: --cold users:0\.05 holds out no user of the 5/);
  assert.throws(() => coldUsersSplit(data, 0.95, 0, 1), /holds out all 5 users, leaving nothing to train on/);
});

test('the sampler never draws a held-out item as a negative, per position or shared', () => {
  const data = randomLog(80, 30, 5);
  const split = coldItemsSplit(data, 0.3, 9);
  const held = split.cold!.held;
  for (const shared of [false, true]) {
    const sampler = new TrainSampler(split, { batchSize: 16, maxlen: 10, seed: 1, negatives: 3, sharedNegatives: shared });
    for (let k = 0; k < 40; k++) {
      const b = sampler.nextBatch();
      for (const arr of [b.seqs, b.pos, b.neg]) for (const i of arr) assert.equal(held[i] ?? 0, 0, `held-out item ${i} drawn`);
    }
    // the worker's copy of the sampler keeps the exclusion
    const copy = TrainSampler.fromFlat(sampler.flatTrainData(), sampler.getState());
    assert.deepEqual(copy.nextBatch().neg, sampler.nextBatch().neg);
  }
});

test('--cold and --cold_history: bad values and combinations name the flag', () => {
  const parse = (raw: Record<string, unknown>) => () => splitOptions.parse(raw, asFlag);
  assert.throws(parse({ cold: 'users:0' }), /^.*--cold: needs users:F or items:F with 0 < F < 1, e\.g\. users:0\.1 \(got "users:0"\)$/);
  assert.throws(parse({ cold: 'users:0.1', split: 'random' }), /--cold: evaluates one target per user, leave-one-out style: use it with --split loo/);
  assert.throws(parse({ cold_history: '2' }), /--cold_history: is only read by --cold users:F/);
  assert.throws(parse({ cold: 'items:0.1', cold_history: '1' }), /--cold_history: is only read by --cold users:F/);
  assert.throws(parse({ cold: 'users:0.1', cold_history: '4' }), /--cold_history/);
  assert.equal(splitOptions.parse({ cold: 'users:0.1', cold_history: '2' }, asFlag).coldHistory, 2);
});

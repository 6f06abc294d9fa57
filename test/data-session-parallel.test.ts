/**
 * Session-parallel batches (GRU4Rec): every training transition exactly once per epoch and in order
 * within its slot, resets exactly where a sequence starts, slots filled greedily in the order of the
 * users' first events, idle slots only at an epoch's tail, the same epoch again and again, exact resume
 * from any step, and the shared samples drawn ∝ support^α.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UserError } from '../src/core/errors.js';
import { idMapFromSorted } from '../src/data/ids.js';
import { leaveOneOut } from '../src/data/index.js';
import { SessionParallelSource, type SessionParallelBatch } from '../src/data/session-parallel.js';
import type { Interactions, Split } from '../src/data/types.js';
import { Rng } from '../src/engine/rng.js';

/** A leave-one-out split of users' item lists (the last two of each go to valid and test); times when given. */
function splitOf(lists: number[][], itemNum: number, firstTimes?: number[]): Split {
  const data: Interactions = {
    userNum: lists.length,
    itemNum,
    seqs: [new Int32Array(0), ...lists.map((l) => Int32Array.from(l))],
    users: idMapFromSorted(lists.map((_, u) => String(u + 1))),
    items: idMapFromSorted(Array.from({ length: itemNum }, (_, i) => String(i + 1))),
    ...(firstTimes ? { times: [new Float64Array(0), ...lists.map((l, u) => Float64Array.from(l, (_, k) => firstTimes[u] + k))] } : {}),
  };
  return leaveOneOut(data);
}

/** Users of random lengths 1..14 (train lengths 1..12 once valid and test are held out), items 1..20. */
function randomSplit(users: number, seed: number): Split {
  const rng = new Rng(seed);
  return splitOf(
    Array.from({ length: users }, () => Array.from({ length: 1 + rng.nextInt(14) }, () => 1 + rng.nextInt(20))),
    20,
  );
}

const copy = (b: SessionParallelBatch) => ({
  users: Array.from(b.users),
  seqs: Array.from(b.seqs),
  pos: Array.from(b.pos),
  neg: Array.from(b.neg),
  starts: Array.from(b.starts),
});

test('every training transition exactly once per epoch, in order within its slot, reset exactly where a sequence starts', () => {
  const split = randomSplit(37, 1);
  const B = 5;
  const source = new SessionParallelSource(split, { batchSize: B, rng: new Rng(2) });
  const S = source.batchesPerEpoch;
  const want: string[] = [];
  for (let u = 1; u <= 37; u++) for (let k = 0; k + 1 < split.train[u].length; k++) want.push(`${u}:${k}`);
  assert.equal(source.transitions, want.length);
  const epochs: Array<ReturnType<typeof copy>[]> = [];
  for (let e = 0; e < 3; e++) {
    const seen: string[] = [];
    const batches = [];
    const k = new Array<number>(B).fill(-1);
    const idle = new Array<boolean>(B).fill(false);
    for (let t = 0; t < S; t++) {
      const b = source.nextBatch();
      batches.push(copy(b));
      let active = 0;
      for (let s = 0; s < B; s++) {
        const u = b.users[s];
        if (u === 0) {
          assert.deepEqual([b.seqs[s], b.pos[s], b.starts[s]], [0, 0, 1], `an idle slot is zeros and reset (epoch ${e}, step ${t})`);
          idle[s] = true;
          continue;
        }
        assert.ok(!idle[s], `slot ${s} idles only at the epoch's tail`);
        active++;
        if (t === 0) assert.equal(b.starts[s], 1, 'every slot starts afresh with the epoch');
        // a slot continues its user one step on, or starts the next user at its first item
        k[s] = b.starts[s] ? 0 : k[s] + 1;
        const seq = split.train[u];
        assert.equal(b.seqs[s], seq[k[s]]);
        assert.equal(b.pos[s], seq[k[s] + 1]);
        if (b.starts[s] && t > 0 && batches[t - 1].users[s] !== 0) {
          const prev = batches[t - 1].users[s];
          assert.notEqual(prev, u, 'a new sequence is another user');
        }
        seen.push(`${u}:${k[s]}`);
      }
      assert.ok(active > 0, `step ${t} of ${S} has work`);
    }
    assert.deepEqual(seen.sort(), [...want].sort(), `epoch ${e}: each transition once`);
    epochs.push(batches);
  }
  assert.deepEqual(epochs[1], epochs[0], 'every epoch is the same pass');
  assert.deepEqual(epochs[2], epochs[0]);
});

test('greedy filling in the order of the users’ first training events; users with one training item are skipped', () => {
  // train lengths 3, 2, 1, 4, 2; first events at 50, 10, 0, 30, 20 → order 2, 5, 4, 1 (user 3 has one train item)
  const split = splitOf(
    [
      [1, 2, 3, 9, 9],
      [4, 5, 9, 9],
      [6, 9, 9],
      [7, 8, 1, 2, 9, 9],
      [3, 4, 9, 9],
    ],
    9,
    [50, 10, 0, 30, 20],
  );
  const source = new SessionParallelSource(split, { batchSize: 2, rng: new Rng(1) });
  assert.deepEqual(Array.from(source.order), [2, 5, 4, 1]);
  // slot 0: user 2 (1 step), then user 4 (3 steps); slot 1: user 5 (1 step), then user 1 (2 steps)
  const rows = Array.from({ length: source.batchesPerEpoch }, () => copy(source.nextBatch()));
  assert.deepEqual(
    rows.map((r) => r.users),
    [
      [2, 5],
      [4, 1],
      [4, 1],
      [4, 0],
    ],
  );
  assert.deepEqual(
    rows.map((r) => r.starts),
    [
      [1, 1],
      [1, 1],
      [0, 0],
      [0, 1],
    ],
  );
  assert.deepEqual(rows[1].seqs, [7, 1]);
  assert.deepEqual(rows[1].pos, [8, 2]);
  assert.match(source.describe(), /4 users, 7 transitions in 4 steps of 2 slots/);
});

test('resume from any step, across epoch boundaries too, draws exactly what the uninterrupted source draws', () => {
  const split = randomSplit(23, 3);
  const options = { batchSize: 4, samples: 6, sampleAlpha: 0.5 };
  const source = new SessionParallelSource(split, { ...options, rng: new Rng(7) });
  const S = source.batchesPerEpoch;
  const all = Array.from({ length: 3 * S }, () => copy(source.nextBatch()));
  for (const at of [0, 1, Math.floor(S / 2), S - 1, S, S + 3, 2 * S - 1]) {
    const first = new SessionParallelSource(split, { ...options, rng: new Rng(7) });
    for (let t = 0; t < at; t++) first.nextBatch();
    const state = JSON.parse(JSON.stringify(first.getState()));
    assert.equal(state.position, at % S);
    const resumed = new SessionParallelSource(split, { ...options, rng: new Rng(99) });
    resumed.setState(state);
    let batch: SessionParallelBatch | undefined;
    for (let t = at; t < Math.min(at + S + 2, 3 * S); t++) {
      batch = resumed.nextBatch(batch); // refilling the previous batch
      assert.deepEqual(copy(batch), all[t], `resumed at ${at}, step ${t}`);
    }
    // a source that has run on goes back to the state as well
    for (let t = 0; t < S + 3; t++) first.nextBatch();
    first.setState(state);
    assert.deepEqual(copy(first.nextBatch()), all[at], `rewound to ${at}`);
  }
  assert.throws(() => source.setState({ ...source.getState(), position: S + 1 }), /out of range/);
});

test('shared samples: K per batch, ∝ support^α, never an item without training events', () => {
  // item 1: 8 training events, item 2: 2, item 3: 1 (and a second user's), items 4 and 5 only held out
  const split = splitOf(
    [
      [1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4, 5],
      [3, 3, 4, 5],
    ],
    5,
  );
  const count = (alpha: number) => {
    const source = new SessionParallelSource(split, { batchSize: 2, rng: new Rng(11), samples: 50, sampleAlpha: alpha });
    const c = new Array<number>(6).fill(0);
    for (let t = 0; t < 400; t++) {
      const b = source.nextBatch();
      assert.equal(b.neg.length, 50);
      assert.equal(b.sharedNegatives, true);
      for (const i of b.neg) c[i]++;
    }
    return c.map((x) => x / 20_000);
  };
  const pop = count(1); // support 8, 2, 3 → 8/13, 2/13, 3/13
  assert.deepEqual([pop[0], pop[4], pop[5]], [0, 0, 0]);
  for (const [i, p] of [
    [1, 8 / 13],
    [2, 2 / 13],
    [3, 3 / 13],
  ]) {
    assert.ok(Math.abs(pop[i] - p) < 0.015, `α 1: item ${i} drawn ${pop[i]}, want ${p}`);
  }
  const uniform = count(0);
  for (const i of [1, 2, 3]) assert.ok(Math.abs(uniform[i] - 1 / 3) < 0.015, `α 0: item ${i} drawn ${uniform[i]}`);
  assert.deepEqual([uniform[4], uniform[5]], [0, 0]);
  const half = count(0.5); // √8, √2, √3
  const z = Math.sqrt(8) + Math.sqrt(2) + Math.sqrt(3);
  assert.ok(Math.abs(half[1] - Math.sqrt(8) / z) < 0.015, `α 0.5: item 1 drawn ${half[1]}`);
});

test('a split where nobody has two training items is one line', () => {
  assert.throws(() => new SessionParallelSource(splitOf([[1, 2, 3]], 3), { batchSize: 2, rng: new Rng(1) }), UserError);
});

/**
 * The sampler's cloze mode (BERT4Rec): rows are the last maxlen TRAIN items left-padded, each masked
 * with probability ρ (at least one per row), targets exactly at the masked positions, negatives there
 * only; the same user sampling as the next-item modes, an exact resume, and the refill path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrainSampler, leaveOneOut } from '../src/data/index.js';
import { idMapFromSorted } from '../src/data/ids.js';
import type { Interactions, Split, TrainBatch } from '../src/data/types.js';

const ITEMS = 60;
const MASK = ITEMS + 1;

/** 40 users with 3..32 interactions over 60 items (items repeat within a history), with timestamps. */
function makeSplit(): Split {
  const lists = Array.from({ length: 40 }, (_, u) => Array.from({ length: 3 + ((u * 7) % 30) }, (_, k) => 1 + ((u * 13 + k * k) % ITEMS)));
  const data: Interactions = {
    userNum: lists.length,
    itemNum: ITEMS,
    seqs: [new Int32Array(0), ...lists.map((l) => Int32Array.from(l))],
    times: [new Float64Array(0), ...lists.map((l) => Float64Array.from(l, (_, k) => 5000 + k))],
    users: idMapFromSorted(lists.map((_, u) => String(u + 1))),
    items: idMapFromSorted(Array.from({ length: ITEMS }, (_, i) => String(i + 1))),
  };
  return leaveOneOut(data);
}

const split = makeSplit();

/** Checks every row of a cloze batch against the user's train items; returns [masked, real] counts. */
function checkRows(b: TrainBatch, K: number, maskToken = MASK): [number, number] {
  const L = b.maxlen;
  let masked = 0;
  let real = 0;
  for (let r = 0; r < b.batchSize; r++) {
    const train = split.train[b.users[r]];
    const n = Math.min(train.length, L);
    const tail = Array.from(train.subarray(train.length - n));
    let rowMasks = 0;
    for (let t = 0; t < L; t++) {
      const i = r * L + t;
      const k = t - (L - n); // index into tail, < 0 on padding
      if (k < 0) {
        assert.equal(b.seqs[i], 0, 'left padding');
        assert.equal(b.pos[i], 0, 'no target on padding');
        assert.equal(b.times![i], 0);
      } else if (b.seqs[i] === maskToken) {
        assert.equal(b.pos[i], tail[k], 'the target is the item the mask hides');
        assert.equal(b.times![i], 5000 + train.length - n + k, 'times stay with their columns');
        rowMasks++;
      } else {
        assert.equal(b.seqs[i], tail[k], 'an unmasked input is the train item itself (train, not train[:-1])');
        assert.equal(b.pos[i], 0, 'no target where nothing is masked');
      }
      // negatives: K per masked position, outside the user's train items; 0 elsewhere
      for (let j = 0; j < K; j++) {
        const neg = b.neg[i * K + j];
        if (b.pos[i] === 0) assert.equal(neg, 0);
        else assert.ok(neg >= 1 && neg <= ITEMS && !train.includes(neg), `negative ${neg}`);
      }
    }
    assert.ok(rowMasks >= 1, `row ${r} has no mask`);
    masked += rowMasks;
    real += n;
  }
  return [masked, real];
}

test('cloze rows: the last maxlen train items left-padded, masks with their targets, ≥ 1 mask per row, rate ≈ ρ', () => {
  for (const [rho, L] of [
    [0.2, 40],
    [0.6, 40],
    [0.2, 10],
  ] as const) {
    const s = new TrainSampler(split, { batchSize: 16, maxlen: L, seed: 3, negatives: 0, cloze: { maskProb: rho, maskToken: MASK } });
    assert.equal(s.nextBatch().neg.length, 0, 'no negatives for ce');
    let masked = 0;
    let real = 0;
    let expected = 0;
    for (let k = 0; k < 200; k++) {
      const b = s.nextBatch();
      const [m, n] = checkRows(b, 0);
      masked += m;
      real += n;
      // a row of n items: n·ρ masks drawn, plus the forced one when none is, (1 − ρ)^n
      for (const u of b.users) {
        const len = Math.min(split.train[u].length, L);
        expected += len * rho + (1 - rho) ** len;
      }
    }
    // 3,200 rows, about 28,000-45,000 positions: the count's standard deviation is under 1% of it
    assert.ok(Math.abs(masked / expected - 1) < 0.03, `ρ ${rho}, maxlen ${L}: ${masked} of ${real} masked, ${expected.toFixed(0)} expected`);
    assert.ok(Math.abs(masked / real - rho) < (L === 10 ? 0.03 : 0.01), `ρ ${rho}: rate ${masked / real}`);
  }
});

test('cloze: a row where no draw masks gets its last item masked', () => {
  // ρ tiny: nearly every row masks only its last position
  const s = new TrainSampler(split, { batchSize: 8, maxlen: 12, seed: 4, negatives: 0, cloze: { maskProb: 1e-9, maskToken: MASK } });
  for (let k = 0; k < 5; k++) {
    const b = s.nextBatch();
    checkRows(b, 0);
    for (let r = 0; r < b.batchSize; r++) {
      const row = Array.from(b.seqs.subarray(r * 12, (r + 1) * 12));
      assert.deepEqual(
        row.map((v, t) => (v === MASK ? t : -1)).filter((t) => t >= 0),
        [11],
      );
    }
  }
  // ρ = 1 masks everything
  const all = new TrainSampler(split, { batchSize: 8, maxlen: 12, seed: 4, negatives: 0, cloze: { maskProb: 1, maskToken: MASK } }).nextBatch();
  const [m, n] = checkRows(all, 0);
  assert.equal(m, n);
});

test('cloze negatives: K per masked position outside the train items, or K shared by the batch', () => {
  const s = new TrainSampler(split, { batchSize: 16, maxlen: 20, seed: 5, negatives: 3, cloze: { maskProb: 0.3, maskToken: MASK } });
  for (let k = 0; k < 20; k++) checkRows(s.nextBatch(), 3);
  const shared = new TrainSampler(split, {
    batchSize: 16,
    maxlen: 20,
    seed: 5,
    negatives: 4,
    sharedNegatives: true,
    cloze: { maskProb: 0.3, maskToken: MASK },
  }).nextBatch();
  assert.equal(shared.neg.length, 4);
  assert.ok(shared.neg.every((v) => v >= 1 && v <= ITEMS));
  checkRows(shared, 0);
});

test('cloze: the same user sampling as the next-item mode; getState/setState resume exactly; refilling gives the same stream', () => {
  for (const userSampling of ['shuffle', 'cycle', 'uniform'] as const) {
    const cloze = new TrainSampler(split, {
      batchSize: 7,
      maxlen: 9,
      seed: 8,
      userSampling,
      negatives: 0,
      cloze: { maskProb: 0.4, maskToken: MASK },
    });
    const plain = new TrainSampler(split, { batchSize: 7, maxlen: 9, seed: 8, userSampling, negatives: 0 });
    // with no negatives the next-item mode draws nothing per row, so the users only match while the
    // cloze draws have not moved the generator: the first batch of a pass-ordered mode
    if (userSampling !== 'uniform') assert.deepEqual(Array.from(cloze.nextBatch().users), Array.from(plain.nextBatch().users), userSampling);
    for (let k = 0; k < 4; k++) cloze.nextBatch();
    const state = JSON.parse(JSON.stringify(cloze.getState()));
    const want = Array.from({ length: 8 }, () => cloze.nextBatch());
    const again = new TrainSampler(split, {
      batchSize: 7,
      maxlen: 9,
      seed: 123,
      userSampling,
      negatives: 0,
      cloze: { maskProb: 0.4, maskToken: MASK },
    });
    again.setState(state);
    let out: TrainBatch | undefined;
    for (const w of want) {
      out = again.nextBatch(out);
      assert.deepEqual([out.users, out.seqs, out.pos, out.neg, out.times], [w.users, w.seqs, w.pos, w.neg, w.times], userSampling);
    }
  }
});

test('cloze settings are checked', () => {
  const make = (maskProb: number, maskToken: number) => () => new TrainSampler(split, { batchSize: 2, maxlen: 4, cloze: { maskProb, maskToken } });
  assert.throws(make(0, MASK), /maskProb must be in \(0, 1\]/);
  assert.throws(make(1.5, MASK), /maskProb must be in \(0, 1\]/);
  assert.throws(make(0.2, ITEMS), /maskToken must be an integer above the item ids/);
  assert.doesNotThrow(make(0.2, MASK));
});

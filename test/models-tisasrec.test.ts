/**
 * TiSASRec beyond the PyTorch fixture: the attention op against a direct transcription of the
 * reference formula (uniform padding-query rows included), the packed path against the dense path on
 * random batches (loss, every gradient, predictions, fallbacks), and the time preprocessing used by the
 * trainer and the Scorer (fitted scaling ≡ scaleTimes, raw → scaled histories, equal spacing).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fitTimeScaling, scaleSplitTimes, scaleTimes, scaleUserTimes, TIME_UNITS } from '../src/data/time.js';
import { leaveOneOut } from '../src/data/split.js';
import { idMapFromSorted } from '../src/data/ids.js';
import type { Interactions } from '../src/data/types.js';
import { Rng } from '../src/engine/rng.js';
import { getTape } from '../src/engine/tape.js';
import { Parameter } from '../src/engine/tensor.js';
import { TimeBatchLayout, timeAwareAttention } from '../src/engine/time-attention.js';
import { TiSASRec } from '../src/models/tisasrec/tisasrec.js';
import { assertClose } from './helpers/fixtures.js';

function param(shape: number[], rng: Rng): Parameter {
  const n = shape.reduce((a, b) => a * b, 1);
  const p = new Parameter(new Float32Array(n), shape);
  for (let i = 0; i < n; i++) p.data[i] = rng.normal();
  return p;
}

/** The reference's attention core for one batch (shared interval tables), written out per (b, h, i, j) in float64. */
function naiveAttention(
  seqs: Int32Array,
  B: number,
  L: number,
  d: number,
  heads: number,
  q: Float32Array,
  kc: Float32Array,
  vc: Float32Array,
  tk: Float32Array,
  tv: Float32Array,
  rel: Int32Array,
): Float64Array {
  const hd = d / heads;
  const out = new Float64Array(B * L * d);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < L; i++) {
        const r = b * L + i;
        const s = new Float64Array(L);
        for (let j = 0; j < L; j++) {
          let dot = 0;
          const k = rel[r * L + j];
          for (let c = h * hd; c < (h + 1) * hd; c++) dot += q[r * d + c] * (kc[(b * L + j) * d + c] + tk[k * d + c]);
          s[j] = dot / Math.sqrt(hd);
          // masks: −2³²+1 for padding queries (whole row) and for future keys
          if (seqs[r] === 0 || j > i) s[j] = -(2 ** 32) + 1;
        }
        let max = -Infinity;
        for (const v of s) max = Math.max(max, v);
        let sum = 0;
        for (let j = 0; j < L; j++) sum += Math.exp(s[j] - max);
        for (let j = 0; j < L; j++) {
          const a = Math.exp(s[j] - max) / sum;
          const k = rel[r * L + j];
          for (let c = h * hd; c < (h + 1) * hd; c++) out[r * d + c] += a * (vc[(b * L + j) * d + c] + tv[k * d + c]);
        }
      }
    }
  }
  return out;
}

test('timeAwareAttention equals the reference formula (dense: uniform padding rows; packed: the real rows)', () => {
  const B = 3;
  const L = 6;
  const d = 4;
  const span = 3;
  const seqs = Int32Array.from([0, 0, 0, 4, 5, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0, 0, 0, 9]);
  const times = Float64Array.from([0, 0, 0, 1, 2, 9, 1, 1, 2, 4, 5, 7, 0, 0, 0, 0, 0, 3]);
  const rng = new Rng(2);
  for (const heads of [1, 2]) {
    const dense = new TimeBatchLayout();
    dense.build(seqs, B, { packed: false, timeSpan: span, times });
    const q = param([B * L, d], rng);
    const kc = param([B * L, d], rng);
    const vc = param([B * L, d], rng);
    const tk = param([span + 1, d], rng);
    const tv = param([span + 1, d], rng);
    const want = naiveAttention(seqs, B, L, d, heads, q.data, kc.data, vc.data, tk.data, tv.data, dense.rel);
    // the op takes each sequence's rows of the tables
    const perSeq = (t: Parameter, lay: TimeBatchLayout) => {
      const out = new Parameter(new Float32Array(lay.bucketTotal * d), [lay.bucketTotal, d]);
      for (const [i, k] of lay.bucketIndex.entries()) out.data.set(t.data.subarray(k * d, (k + 1) * d), i * d);
      return out;
    };
    const got = timeAwareAttention(q, kc, vc, perSeq(tk, dense), perSeq(tv, dense), dense, { heads });
    assertClose(`dense, ${heads} heads`, got.data.subarray(0, got.size), want, 1e-5, 1e-6);
    // a padding query's row is the mean over all L keys (future ones too)
    const mean = new Float64Array(d);
    for (let j = 0; j < L; j++) for (let c = 0; c < d; c++) mean[c] += (vc.data[j * d + c] + tv.data[dense.rel[j] * d + c]) / L;
    assertClose('padding row', got.data.subarray(0, d), mean, 1e-5, 1e-6);

    const packed = new TimeBatchLayout();
    assert.ok(packed.build(seqs, B, { packed: true, timeSpan: span, times }));
    const qp = new Parameter(new Float32Array(packed.rows * d), [packed.rows, d]);
    const realRows: number[] = [];
    for (let r = 0; r < B * L; r++) if (seqs[r] !== 0) realRows.push(r);
    for (const [k, r] of realRows.entries()) qp.data.set(q.data.subarray(r * d, (r + 1) * d), k * d);
    const gp = timeAwareAttention(qp, kc, vc, perSeq(tk, packed), perSeq(tv, packed), packed, { heads });
    assertClose(
      `packed, ${heads} heads`,
      gp.data.subarray(0, gp.size),
      realRows.flatMap((r) => Array.from(want.subarray(r * d, (r + 1) * d))),
      1e-5,
      1e-6,
    );
    getTape().reset();
  }
});

test('compactRelations: per-sequence buckets in order of first appearance, mapping back to the relations', () => {
  const B = 3;
  const L = 6;
  const seqs = Int32Array.from([0, 0, 0, 4, 5, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0, 0, 0, 9]);
  const times = Float64Array.from([0, 0, 0, 1, 2, 9, 1, 1, 2, 4, 5, 7, 0, 0, 0, 0, 0, 3]);
  for (const packed of [false, true]) {
    const lay = new TimeBatchLayout();
    lay.build(seqs, B, { packed, timeSpan: 3, times });
    let start = 0;
    for (let b = 0; b < B; b++) {
      assert.equal(lay.bucketStart[b], start);
      const entries = Array.from(lay.rel.subarray(lay.qStart[b] * L, (lay.qStart[b] + lay.qCount[b]) * L));
      const firstSeen = [...new Set(entries)];
      assert.equal(lay.bucketCount[b], firstSeen.length);
      assert.deepEqual(Array.from(lay.bucketIndex.subarray(start, start + firstSeen.length)), firstSeen);
      for (const [e, v] of entries.entries()) assert.equal(lay.bucketIndex[start + lay.bucketRel[lay.qStart[b] * L + e]], v);
      start += firstSeen.length;
    }
    assert.equal(lay.bucketTotal, start);
  }
  // the last sequence (one item at time 3, padding at 0) has exactly two intervals: 0 and 3
  const lay = new TimeBatchLayout();
  lay.build(seqs, B, { packed: true, timeSpan: 3, times });
  assert.deepEqual(Array.from(lay.bucketIndex.subarray(lay.bucketStart[2], lay.bucketStart[2] + lay.bucketCount[2])), [3, 0]);
});

function randomBatch(rng: Rng, B: number, L: number, itemNum: number) {
  const seqs = new Int32Array(B * L);
  const pos = new Int32Array(B * L);
  const neg = new Int32Array(B * L);
  const times = new Float64Array(B * L);
  for (let b = 0; b < B; b++) {
    const n = 1 + rng.nextInt(L); // 1..L real items
    let t = 1;
    for (let k = L - n; k < L; k++) {
      seqs[b * L + k] = 1 + rng.nextInt(itemNum);
      pos[b * L + k] = 1 + rng.nextInt(itemNum);
      neg[b * L + k] = 1 + rng.nextInt(itemNum);
      times[b * L + k] = t;
      t += rng.nextInt(4);
    }
  }
  return { batchSize: B, seqs, pos, neg, times };
}

test('TiSASRec packed path equals the dense path: loss, every gradient, predictions (random batches)', () => {
  const cfg = { itemNum: 20, maxlen: 8, hiddenUnits: 8, numBlocks: 2, numHeads: 2, dropoutRate: 0, timeSpan: 5, l2Emb: 0.01 };
  const rng = new Rng(9);
  for (let trial = 0; trial < 3; trial++) {
    const batch = randomBatch(rng, 6, 8, 20);
    const models = [false, true].map((packed) => new TiSASRec(cfg, { seed: 4, packed }));
    const losses: number[] = [];
    const grads: Float32Array[][] = [];
    for (const m of models) {
      const tape = getTape();
      tape.reset();
      m.zeroGrad();
      const loss = m.loss(batch);
      losses.push(loss.item());
      tape.backward(loss);
      grads.push(m.parameters().map((p) => p.grad!.slice()));
      tape.reset();
    }
    assertClose('loss', [losses[1]], [losses[0]], 1e-5);
    for (const [i, g] of grads[0].entries()) assertClose(`grad ${models[0].namedParameters()[i][0]}`, grads[1][i], g, 1e-4, 1e-6);
    // the packed path really ran: it exposes logits at the loss positions only
    const res = models[1].forwardPacked(batch);
    assert.ok(res && res.index.length < batch.seqs.length);
    getTape().reset();
    const C = 5;
    const cands = Int32Array.from({ length: 6 * C }, () => 1 + rng.nextInt(20));
    for (const m of models) m.eval();
    assertClose('predict', models[1].predict(batch, cands, C), models[0].predict(batch, cands, C), 1e-4, 1e-5);
    assertClose('predictAll', models[1].predictAll(batch), models[0].predictAll(batch), 1e-4, 1e-5);
  }
});

test('TiSASRec packed path falls back to dense when it must', () => {
  const cfg = { itemNum: 10, maxlen: 4, hiddenUnits: 4, numBlocks: 1, numHeads: 1, dropoutRate: 0, timeSpan: 3 };
  const dense = new TiSASRec(cfg, { seed: 1, packed: false });
  const packed = new TiSASRec(cfg, { seed: 1, packed: true });
  // a 0 after an item (not left-padded) and a target on a padding input
  const batch = {
    batchSize: 2,
    seqs: Int32Array.from([1, 0, 2, 3, 0, 0, 4, 5]),
    times: Float64Array.from([1, 0, 2, 3, 0, 0, 1, 2]),
    pos: Int32Array.from([2, 3, 3, 4, 0, 4, 5, 6]),
    neg: Int32Array.from([7, 7, 7, 7, 0, 7, 7, 7]),
  };
  assert.equal(packed.forwardPacked(batch), null);
  getTape().reset();
  assertClose('loss', [packed.loss(batch).item()], [dense.loss(batch).item()], 1e-6);
  getTape().reset();
  const left = { ...batch, seqs: Int32Array.from([0, 1, 2, 3, 0, 0, 4, 5]) };
  assert.equal(packed.forwardPacked(left), null, 'target at a padding input');
  getTape().reset();
  // an empty history scores from the padding features: LN_last(0) = last_layernorm.bias
  const input = { batchSize: 2, seqs: Int32Array.from([0, 0, 0, 0, 0, 0, 4, 5]), times: Float64Array.from([0, 0, 0, 0, 0, 0, 1, 2]) };
  packed.lastLayernorm.bias.data.set([0.1, -0.2, 0.3, 0.4]);
  dense.lastLayernorm.bias.data.set([0.1, -0.2, 0.3, 0.4]);
  const cands = Int32Array.from([1, 2, 3, 1, 2, 3]);
  const got = packed.predict(input, cands, 3);
  assertClose('empty-history fallback', got, dense.predict(input, cands, 3), 1e-6);
  const e = packed.itemEmb.weight.data;
  for (let c = 0; c < 3; c++) {
    let s = 0;
    for (let k = 0; k < 4; k++) s += [0.1, -0.2, 0.3, 0.4][k] * e[(c + 1) * 4 + k];
    assert.ok(Math.abs(got[c] - s) < 1e-5);
  }
});

function timed(lists: Array<Array<[number, number]>>): Interactions {
  let maxItem = 0;
  for (const l of lists) for (const [i] of l) maxItem = Math.max(maxItem, i);
  return {
    userNum: lists.length,
    itemNum: maxItem,
    seqs: [new Int32Array(0), ...lists.map((l) => Int32Array.from(l.map(([i]) => i)))],
    times: [new Float64Array(0), ...lists.map((l) => Float64Array.from(l.map(([, t]) => t)))],
    users: idMapFromSorted(lists.map((_, u) => `u${u + 1}`)),
    items: idMapFromSorted(Array.from({ length: maxItem }, (_, i) => `i${i + 1}`)),
  };
}

const DATA = timed([
  [
    [1, 1000],
    [2, 1060],
    [3, 1060],
    [4, 1300],
    [5, 87400],
  ],
  [
    [2, 5000],
    [3, 5003],
    [1, 5009],
    [4, 5012],
  ],
  [
    [5, 700],
    [1, 700],
    [2, 700],
  ],
]);

test('fitTimeScaling with unit 1 reproduces scaleTimes; scaleSplitTimes scales train/valid/test alike', () => {
  const s = fitTimeScaling(DATA);
  const ref = scaleTimes(DATA);
  for (let u = 1; u <= DATA.userNum; u++) {
    assert.deepEqual(Array.from(scaleUserTimes(s, u, DATA.times![u])), Array.from(ref.times![u]), `user ${u}`);
  }
  // user 1: gaps 60, 0, 240, 86100 → scale 60: 0, 1, 1, 5, 1440 (+1)
  assert.deepEqual(Array.from(ref.times![1]), [1, 2, 2, 6, 1441]);
  const split = leaveOneOut(DATA);
  const scaled = scaleSplitTimes(split, s);
  const again = leaveOneOut(ref);
  for (let u = 1; u <= DATA.userNum; u++) assert.deepEqual(Array.from(scaled.trainTimes![u]), Array.from(again.trainTimes![u]));
  assert.deepEqual(Array.from(scaled.validTimes!), Array.from(again.validTimes!));
  assert.deepEqual(Array.from(scaled.testTimes!), Array.from(again.testTimes!));
});

test('--time_unit quantises before the per-user scaling: days make same-day events simultaneous', () => {
  const s = fitTimeScaling(DATA, TIME_UNITS.days);
  // user 1: all but the last event fall on the same day (offsets 0 d), the last one a day later
  assert.deepEqual(Array.from(scaleUserTimes(s, 1, DATA.times![1])), [1, 1, 1, 1, 2]);
  // ad-hoc history (user 0): its own min and smallest gap, in the fitted unit
  const minutes = fitTimeScaling(DATA, TIME_UNITS.minutes);
  assert.deepEqual(Array.from(scaleUserTimes(minutes, 0, [0, 120, 600])), [1, 2, 6]);
  assert.deepEqual(Array.from(scaleUserTimes(fitTimeScaling(DATA), 0, [10, 10, 13, 19])), [1, 1, 2, 4]);
});

test('TiSASRec as a Scorer: raw times scaled per user, ad-hoc histories self-scaled or equally spaced', () => {
  const model = new TiSASRec({ itemNum: 5, maxlen: 4, hiddenUnits: 4, numBlocks: 1, numHeads: 1, dropoutRate: 0, timeSpan: 8 }, { seed: 2 });
  model.timeScaling = fitTimeScaling(DATA);
  const batch = {
    batchSize: 2,
    maxlen: 4,
    users: Int32Array.from([1, 0]),
    seqs: Int32Array.from([1, 2, 3, 4, 0, 2, 3, 1]),
    times: Float64Array.from([1000, 1060, 1060, 1300, 0, 100, 130, 190]),
  };
  const input = model.historyInput(batch);
  // user 1 with the fitted scale (60 s); the ad-hoc row by its own smallest gap (30 s)
  assert.deepEqual(Array.from(input.times!), [1, 2, 2, 6, 0, 1, 2, 4]);
  const scores = model.scoreAll(batch);
  assertClose('scoreAll = predictAll on the scaled input', scores, model.predictAll(input), 1e-6);
  // no times: an ad-hoc history is equally spaced; a known user's is an error
  const noTimes = { ...batch, times: undefined, users: Int32Array.from([0, 0]) };
  assert.deepEqual(Array.from(model.historyInput(noTimes).times!), [1, 2, 3, 4, 0, 1, 2, 3]);
  assert.throws(() => model.historyInput({ ...noTimes, users: Int32Array.from([1, 0]) }), /timestamps/);
  // times change the scores (the model is time-aware)
  const spaced = model.scoreCandidates(noTimes, Int32Array.from([5, 5]), 1);
  const bursty = model.scoreCandidates({ ...noTimes, times: Float64Array.from([0, 0, 0, 1000, 0, 0, 1, 1000]) }, Int32Array.from([5, 5]), 1);
  assert.notDeepEqual(Array.from(spaced), Array.from(bursty));
});

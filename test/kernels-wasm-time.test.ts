/**
 * The wasm TiSASRec kernels against the reference ones on random query-row layouts: relation indices,
 * compaction and the row copies exactly; the time-aware softmax forward (probs, dropped, bucketed
 * weights, and the dropout state afterwards: identical masks) and backward (dS, dBucket) to float32
 * rounding. Layouts mix dense sequences (every column a query, padding queries marked), left-padded
 * ones, empty and length-1 ones, rows that start past row 0, and "head" offsets into bigger buffers;
 * relation indices out of range throw; arrays outside wasm memory fall back to the reference.
 * Then the attention op on long sequences on both backends: the packed path (whose key-side GEMMs run
 * in chunks of query rows that stop at the causal edge) against the dense path, output and gradients;
 * and TiSASRec training with dropout on both backends (identical masks: the losses agree).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWasmKernelsSync, type WasmKernels } from '../src/kernels/wasm/index.js';
import { referenceKernels as ref } from '../src/kernels/reference/index.js';
import { getKernels, setKernels, type Kernels } from '../src/kernels/index.js';
import { Rng } from '../src/engine/rng.js';
import { Tape, getTape, setTape } from '../src/engine/tape.js';
import { Parameter } from '../src/engine/tensor.js';
import { TimeBatchLayout, timeAwareAttention } from '../src/engine/time-attention.js';
import { TiSASRec } from '../src/models/tisasrec/tisasrec.js';
import { Adam } from '../src/optim/adam.js';
import { fillRand, rng32 } from './helpers/random.js';
import { testWasmVariants } from './helpers/wasm.js';
import { trainStep } from '../src/learn/step.js';

/** |got − want| ≤ tol·|want| + abs; NaN in both is fine (entries a kernel must leave alone, checked by the callers). */
function assertClose(got: Float32Array, want: Float32Array, tol: number, abs: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    if (Number.isNaN(got[i]) && Number.isNaN(want[i])) continue;
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= tol * Math.abs(want[i]) + abs)) assert.fail(`${what}: [${i}] got ${got[i]}, want ${want[i]} (err ${err})`);
  }
}

function maxAbs(x: Float32Array): number {
  let m = 0;
  for (const v of x) if (!Number.isNaN(v)) m = Math.max(m, Math.abs(v));
  return m;
}

interface Layout {
  numSeq: number; len: number; rows: number;
  qStart: Int32Array; qCount: Int32Array; qPadded: Int32Array;
}

/** Sequences with the given query counts, rows from `firstRow` on; ~1/4 of the queries of dense ones are padding. */
function makeLayout(len: number, counts: number[], firstRow: number, r: () => number): Layout {
  const numSeq = counts.length;
  const qStart = new Int32Array(numSeq), qCount = Int32Array.from(counts);
  let row = firstRow;
  for (const [b, n] of counts.entries()) { qStart[b] = row; row += n; };
  const qPadded = new Int32Array(row);
  counts.forEach((n, b) => {
    if (n !== len) return;
    const pad = Math.floor(r() * len * 0.5); // a dense, left-padded sequence: its first columns are padding queries
    for (let i = 0; i < pad; i++) qPadded[qStart[b] + i] = 1;
  });
  return { numSeq, len, rows: row, qStart, qCount, qPadded };
}

function randomLayouts(r: () => number): Layout[] {
  return [
    makeLayout(1, [1], 0, r),
    makeLayout(1, [1, 0, 1], 2, r),
    makeLayout(5, [5, 1, 0, 3], 0, r),
    makeLayout(7, [7, 7, 2], 3, r),
    makeLayout(13, [13, 6, 1, 13, 9], 0, r),
    makeLayout(50, [50, 33, 1, 49, 0, 50], 1, r),
    makeLayout(200, [200, 87, 150], 0, r),
  ];
}

function randomRel(lay: Layout, nb: number, r: () => number): Int32Array {
  const rel = new Int32Array(lay.rows * lay.len);
  // mostly a few small values (repeats, as real intervals), some spread over the whole range
  for (let i = 0; i < rel.length; i++) rel[i] = r() < 0.7 ? Math.floor(r() * Math.min(nb, 4)) : Math.floor(r() * nb);
  return rel;
}

/** The softmax forward + backward of one head at float offset `off` of [heads·rows·len] buffers. */
function softmaxCase(k: WasmKernels, lay: Layout, nb: number, dropP: number, seed: number, inWasm: boolean): void {
  const r = rng32(seed);
  const { numSeq, len, rows, qStart, qCount, qPadded } = lay;
  const label = `len=${len} seqs=${numSeq} nb=${nb} p=${dropP} wasm=${inWasm}`;
  const alloc = (n: number) => (inWasm ? k.alloc(n) : new Float32Array(n));
  const heads = 2, h = 1; // the second head's slices, as time-attention.ts lays them out
  const RL = rows * len, RB = rows * nb;
  const scores = alloc(RL); fillRand(scores, r, 3);
  const tq = alloc(RB); fillRand(tq, r, 3);
  const rel = randomRel(lay, nb, r);
  const state0 = Uint32Array.from([0x9e3779b9, 0x243f6a88, 0xb7e15162, seed >>> 0 || 7]);

  const wProbs = alloc(heads * RL).fill(NaN), wDropped = dropP > 0 ? alloc(heads * RL).fill(NaN) : wProbs, wBucket = alloc(heads * RB).fill(NaN);
  const rProbs = new Float32Array(heads * RL).fill(NaN), rDropped = dropP > 0 ? new Float32Array(heads * RL).fill(NaN) : rProbs;
  const rBucket = new Float32Array(heads * RB).fill(NaN);
  const wState = Uint32Array.from(state0), rState = Uint32Array.from(state0);
  k.timeAttentionSoftmaxForward(numSeq, len, nb, qStart, qCount, qPadded, scores, 0, tq, 0, rel, 0, dropP, dropP > 0 ? wState : null,
    wProbs, h * RL, wDropped, h * RL, wBucket, h * RB);
  ref.timeAttentionSoftmaxForward(numSeq, len, nb, qStart, qCount, qPadded, scores, 0, tq, 0, rel, 0, dropP, dropP > 0 ? rState : null,
    rProbs, h * RL, rDropped, h * RL, rBucket, h * RB);
  assert.deepEqual([...wState], [...rState], `${label}: generator state after the forward`);
  // rows outside the layout (and head 0) stay untouched (NaN) in both
  for (let i = 0; i < heads * RL; i++) assert.equal(Number.isNaN(wProbs[i]), Number.isNaN(rProbs[i]), `${label}: probs written at ${i}`);
  assertClose(wProbs, rProbs, 2e-6, 1e-8, `${label}: probs`);
  if (dropP > 0) {
    for (let i = 0; i < heads * RL; i++) assert.equal(wDropped[i] === 0, rDropped[i] === 0, `${label}: dropout mask differs at ${i}`);
    assertClose(wDropped, rDropped, 2e-6, 1e-8, `${label}: dropped`);
  }
  assertClose(wBucket, rBucket, 1e-5, 1e-7, `${label}: bucket`);

  // backward from the reference's forward (identical inputs on both sides)
  const probs = alloc(heads * RL); probs.set(rProbs);
  const dropped = dropP > 0 ? alloc(heads * RL) : probs; if (dropP > 0) dropped.set(rDropped);
  const g = alloc(RB); fillRand(g, r);
  const dA0 = new Float32Array(RL); fillRand(dA0, r);
  const wdA = alloc(RL); wdA.set(dA0);
  const rdA = Float32Array.from(dA0);
  const wdB = alloc(RB).fill(NaN), rdB = new Float32Array(RB).fill(NaN);
  k.timeAttentionSoftmaxBackward(numSeq, len, nb, qStart, qCount, qPadded, probs, h * RL, dropped, h * RL, g, 0, rel, 0, wdA, 0, wdB, 0);
  ref.timeAttentionSoftmaxBackward(numSeq, len, nb, qStart, qCount, qPadded, rProbs, h * RL, rDropped, h * RL, g, 0, rel, 0, rdA, 0, rdB, 0);
  for (let i = 0; i < RB; i++) assert.equal(Number.isNaN(wdB[i]), Number.isNaN(rdB[i]), `${label}: dBucket written at ${i}`);
  // float32 sums over up to len keys (the reference sums in float64): slack ∝ len · the terms' size
  const slack = 2e-7 * len * maxAbs(rdA);
  assertClose(wdA, rdA, 1e-5, slack, `${label}: dS`);
  assertClose(wdB, rdB, 1e-5, 2 * slack, `${label}: dBucket`);
}

testWasmVariants((variant) => `wasm time-aware softmax (${variant}) matches the reference: layouts, padding queries, dropout`, (k) => {
  const r = rng32(3);
  let seed = 1;
  for (const lay of randomLayouts(r)) {
    for (const nb of [1, 3, 257]) {
      for (const p of [0, 0.2, 0.5]) softmaxCase(k, lay, nb, p, seed++, true);
    }
  }
});

test('wasm time-aware softmax: a padding query is uniform over all keys and passes no gradient', () => {
  const k = createWasmKernelsSync();
  const len = 6, nb = 4;
  const lay = { qStart: Int32Array.of(0), qCount: Int32Array.of(len), qPadded: Int32Array.of(1, 1, 0, 0, 0, 0) };
  const scores = k.alloc(len * len).fill(5), tq = k.alloc(len * nb);
  const rel = new Int32Array(len * len).fill(2);
  const probs = k.alloc(len * len), bucket = k.alloc(len * nb);
  k.timeAttentionSoftmaxForward(1, len, nb, lay.qStart, lay.qCount, lay.qPadded, scores, 0, tq, 0, rel, 0, 0, null, probs, 0, probs, 0, bucket, 0);
  for (let j = 0; j < len; j++) assert.equal(probs[j], Math.fround(1 / len));
  assert.ok(Math.abs(bucket[2] - 1) < 1e-6 && bucket[0] === 0, 'a padding row puts all its weight in its keys\' buckets');
  assert.equal(probs[2 * len + 0], Math.fround(1 / 3)); // query at column 2: 3 equal causal scores
  assert.equal(probs[2 * len + 3], 0);
  const dA = k.alloc(len * len).fill(1), dB = k.alloc(len * nb).fill(7);
  k.timeAttentionSoftmaxBackward(1, len, nb, lay.qStart, lay.qCount, lay.qPadded, probs, 0, probs, 0, tq, 0, rel, 0, dA, 0, dB, 0);
  for (let j = 0; j < 2 * len; j++) assert.equal(dA[j], 0);
  for (let j = 0; j < 2 * nb; j++) assert.equal(dB[j], 0);
});

test('wasm time kernels: plain arrays fall back to the reference kernel', () => {
  const k = createWasmKernelsSync();
  const r = rng32(17);
  softmaxCase(k, makeLayout(9, [9, 4, 0, 1], 1, r), 5, 0.3, 99, false);
});

test('wasm time kernels: relation indices out of range throw', () => {
  const k = createWasmKernelsSync();
  const len = 4, nb = 3;
  const qStart = Int32Array.of(0), qCount = Int32Array.of(2), qPadded = new Int32Array(2);
  const rel = new Int32Array(2 * len);
  rel[len + 1] = nb; // row 1 (column 3), key 1
  const f = () => k.alloc(2 * len);
  const b = () => k.alloc(2 * nb);
  assert.throws(() => k.timeAttentionSoftmaxForward(1, len, nb, qStart, qCount, qPadded, f(), 0, b(), 0, rel, 0, 0, null, f(), 0, f(), 0, b(), 0),
    /relation index 3 at \[5\]/);
  assert.throws(() => k.timeAttentionSoftmaxBackward(1, len, nb, qStart, qCount, qPadded, f(), 0, f(), 0, b(), 0, rel, 0, f(), 0, b(), 0),
    /relation index 3 at \[5\]/);
  rel[len + 1] = -1;
  assert.throws(() => k.compactRelations(1, len, nb, qStart, qCount, rel, 0, new Int32Array(2 * len), 0, new Int32Array(1), new Int32Array(1), new Int32Array(8), 0),
    /relation index -1 at \[5\]/);
  // a key past the causal range is never read: no error
  rel[len + 1] = 0;
  rel[3] = 99; // row 0 is column 2: keys 0..2 only
  k.timeAttentionSoftmaxForward(1, len, nb, qStart, qCount, qPadded, f(), 0, b(), 0, rel, 0, 0, null, f(), 0, f(), 0, b(), 0);
});

test('wasm timeRelations and compactRelations equal the reference (plain and wasm-resident index arrays)', () => {
  const k = createWasmKernelsSync();
  const r = rng32(5);
  const intsIn = (n: number, inWasm: boolean): Int32Array => {
    if (!inWasm) return new Int32Array(n);
    const f = k.alloc(n);
    return new Int32Array(f.buffer, f.byteOffset, n);
  };
  for (const inWasm of [false, true]) {
    for (const lay of randomLayouts(r)) {
      const { numSeq, len, rows, qStart, qCount } = lay;
      for (const span of [0, 3, 256]) {
        const times = new Float64Array(numSeq * len);
        for (let i = 0; i < times.length; i++) {
          const u = r();
          times[i] = u < 0.2 ? 0 : u < 0.3 ? 1e9 * r() : u < 0.35 ? 2.5 + 100 * r() : Math.floor(300 * r());
        }
        const label = `len=${len} seqs=${numSeq} span=${span} wasm=${inWasm}`;
        const off = 3;
        const wRel = intsIn(off + rows * len, inWasm).fill(-7), rRel = new Int32Array(off + rows * len).fill(-7);
        k.timeRelations(numSeq, len, qStart, qCount, times, 0, span, wRel, off);
        ref.timeRelations(numSeq, len, qStart, qCount, times, 0, span, rRel, off);
        assert.deepEqual([...wRel], [...rRel], `${label}: timeRelations`);

        const nb = span + 1;
        let cap = 0;
        for (let b = 0; b < numSeq; b++) cap += Math.min(nb, qCount[b] * len);
        const run = (K: typeof ref, local: Int32Array, idx: Int32Array) => {
          const bs = new Int32Array(numSeq).fill(-1), bc = new Int32Array(numSeq).fill(-1);
          const total = K.compactRelations(numSeq, len, nb, qStart, qCount, rRel, off, local, 1, bs, bc, idx, 2);
          return { total, local: [...local], bs: [...bs], bc: [...bc], idx: [...idx] };
        };
        const w = run(k, intsIn(1 + rows * len, inWasm).fill(-5), intsIn(2 + cap + 4, inWasm).fill(-5));
        const want = run(ref, new Int32Array(1 + rows * len).fill(-5), new Int32Array(2 + cap + 4).fill(-5));
        assert.deepEqual(w, want, `${label}: compactRelations`);
      }
    }
  }
});

test('wasm unpackRows and its backward equal the reference exactly', () => {
  const k = createWasmKernelsSync();
  const r = rng32(8);
  for (const lay of randomLayouts(r)) {
    const { numSeq, len, rows, qStart, qCount } = lay;
    for (const dim of [1, 5, 50]) {
      for (const withFill of [false, true]) {
        const label = `len=${len} seqs=${numSeq} dim=${dim} fill=${withFill}`;
        const x = k.alloc(rows * dim); fillRand(x, r);
        const fill = withFill ? k.alloc(dim + 1) : null; if (fill) fillRand(fill, r);
        const wOut = k.alloc(numSeq * len * dim + 2).fill(NaN), rOut = new Float32Array(numSeq * len * dim + 2).fill(NaN);
        k.unpackRows(numSeq, len, dim, qStart, qCount, x, 0, fill, 1, wOut, 1);
        ref.unpackRows(numSeq, len, dim, qStart, qCount, x, 0, fill, 1, rOut, 1);
        assert.deepEqual([...wOut], [...rOut], `${label}: unpackRows`);

        const dOut = k.alloc(numSeq * len * dim); fillRand(dOut, r);
        const dx0 = new Float32Array(rows * dim); fillRand(dx0, r);
        const dFill0 = new Float32Array(dim); fillRand(dFill0, r);
        const wdx = k.alloc(rows * dim); wdx.set(dx0);
        const wdFill = k.alloc(dim); wdFill.set(dFill0);
        const rdx = Float32Array.from(dx0), rdFill = Float32Array.from(dFill0);
        k.unpackRowsBackward(numSeq, len, dim, qStart, qCount, dOut, 0, wdx, 0, withFill ? wdFill : null, 0);
        ref.unpackRowsBackward(numSeq, len, dim, qStart, qCount, dOut, 0, rdx, 0, withFill ? rdFill : null, 0);
        assert.deepEqual([...wdx], [...rdx], `${label}: dx`);
        assert.deepEqual([...wdFill], [...rdFill], `${label}: dFill`);
        k.unpackRowsBackward(numSeq, len, dim, qStart, qCount, dOut, 0, null, 0, wdFill, 0);
        ref.unpackRowsBackward(numSeq, len, dim, qStart, qCount, dOut, 0, null, 0, rdFill, 0);
        assert.deepEqual([...wdFill], [...rdFill], `${label}: dFill without dx`);
      }
    }
  }
});

/**
 * The time-aware attention op, packed (chunked key GEMMs) vs dense (one batched GEMM per step), on
 * left-padded sequences longer than a chunk: outputs at the real rows and every input gradient
 * (the interval-table gradients summed back onto the full table) agree.
 */
function packedVsDense(K: Kernels): void {
  const prevKernels = getKernels();
  setKernels(K);
  const prevTape = setTape(new Tape());
  try {
    const L = 97, d = 12, span = 40;
    const lengths = [97, 41, 40, 1, 0, 80, 96];
    const B = lengths.length;
    const rng = new Rng(7);
    const seqs = new Int32Array(B * L);
    const times = new Float64Array(B * L);
    lengths.forEach((n, b) => {
      let t = 1 + rng.nextInt(30);
      for (let c = L - n; c < L; c++) {
        seqs[b * L + c] = 1 + rng.nextInt(50);
        times[b * L + c] = t;
        t += rng.nextInt(3); // repeated and close times: many equal intervals
      }
    });
    const param = (rows: number) => {
      const p = new Parameter(K.alloc(rows * d), [rows, d]);
      for (let i = 0; i < p.data.length; i++) p.data[i] = rng.normal();
      return p;
    };
    const tkFull = param(span + 1), tvFull = param(span + 1);
    const kc = param(B * L), vc = param(B * L), qDense = param(B * L);
    const dOut = new Float32Array(B * L * d);
    for (let i = 0; i < dOut.length; i++) dOut[i] = seqs[Math.floor(i / d)] !== 0 ? rng.normal() : 0;

    const run = (packed: boolean) => {
      const lay = new TimeBatchLayout();
      assert.ok(lay.build(seqs, B, { packed, timeSpan: span, times }));
      const real: number[] = [];
      for (let r = 0; r < B * L; r++) if (!packed || seqs[r] !== 0) real.push(r);
      const q = param(lay.rows);
      for (const [i, r] of real.entries()) q.data.set(qDense.data.subarray(r * d, (r + 1) * d), i * d);
      const perSeq = (full: Parameter) => {
        const t = param(lay.bucketTotal);
        for (const [i, k] of lay.bucketIndex.entries()) t.data.set(full.data.subarray(k * d, (k + 1) * d), i * d);
        return t;
      };
      const tk = perSeq(tkFull), tv = perSeq(tvFull);
      kc.grad = null; vc.grad = null;
      const out = timeAwareAttention(q, kc, vc, tk, tv, lay, { heads: 2 });
      const seed = new Float32Array(lay.rows * d);
      for (const [i, r] of real.entries()) seed.set(dOut.subarray(r * d, (r + 1) * d), i * d);
      const tape = getTape();
      tape.backward(out, seed);
      const outAt = new Float32Array(B * L * d), gq = new Float32Array(B * L * d);
      real.forEach((r, i) => {
        outAt.set(out.data.subarray(i * d, (i + 1) * d), r * d);
        gq.set(q.grad!.subarray(i * d, (i + 1) * d), r * d);
      });
      const fold = (t: Parameter) => {
        const g = new Float32Array((span + 1) * d);
        for (const [i, k] of lay.bucketIndex.entries()) { for (let c = 0; c < d; c++) g[k * d + c] += t.grad![i * d + c]; };
        return g;
      };
      const res = { out: outAt, gq, gkc: kc.grad!.slice(), gvc: vc.grad!.slice(), gtk: fold(tk), gtv: fold(tv) };
      tape.reset();
      return res;
    };
    const dense = run(false), packed = run(true);
    for (const key of ['out', 'gq', 'gkc', 'gvc', 'gtk', 'gtv'] as const) {
      // dense rows of padding queries are not outputs of the packed path
      const want = dense[key], got = packed[key];
      if (key === 'out' || key === 'gq') for (let r = 0; r < B * L; r++) if (seqs[r] === 0) want.fill(0, r * d, (r + 1) * d);
      assertClose(got, want, 1e-4, 1e-5 * Math.max(1, maxAbs(want)), `${K.name}: ${key}`);
    }
  } finally {
    setTape(prevTape);
    setKernels(prevKernels);
  }
}

test('time-aware attention on long sequences: packed (chunked key GEMMs) equals dense, reference and wasm kernels', () => {
  packedVsDense(ref);
  packedVsDense(createWasmKernelsSync());
});

/** A few TiSASRec train steps with dropout (packed path, sequences longer than a key chunk). */
function trainTiSASRec(K: Kernels): { losses: number[]; emb: Float32Array } {
  const prevKernels = getKernels();
  setKernels(K);
  const prevTape = setTape(new Tape());
  try {
    const L = 50, B = 5, items = 30;
    const model = new TiSASRec({ itemNum: items, maxlen: L, hiddenUnits: 8, numBlocks: 2, numHeads: 2, dropoutRate: 0.3, timeSpan: 12, l2Emb: 0.001 }, { seed: 3 });
    const adam = new Adam(model.namedParameters(), { lr: 0.01, betas: [0.9, 0.98] });
    const rng = new Rng(21);
    const losses: number[] = [];
    for (let step = 0; step < 3; step++) {
      const seqs = new Int32Array(B * L), pos = new Int32Array(B * L), neg = new Int32Array(B * L), times = new Float64Array(B * L);
      [50, 45, 3, 1, 20].forEach((n, b) => {
        let t = 1 + rng.nextInt(5);
        for (let c = L - n; c < L; c++) {
          seqs[b * L + c] = 1 + rng.nextInt(items);
          pos[b * L + c] = 1 + rng.nextInt(items);
          neg[b * L + c] = 1 + rng.nextInt(items);
          times[b * L + c] = t;
          t += rng.nextInt(4);
        }
      });
      losses.push(trainStep(model, adam, { batchSize: B, seqs, pos, neg, times }));
    }
    const emb = model.namedParameters().find(([n]) => n === 'item_emb.weight')![1].data.slice();
    return { losses, emb };
  } finally {
    setTape(prevTape);
    setKernels(prevKernels);
  }
}

test('TiSASRec training with dropout: the wasm backend draws the reference backend\'s masks (losses and weights agree)', () => {
  const w = trainTiSASRec(createWasmKernelsSync());
  const r = trainTiSASRec(ref);
  for (let s = 0; s < r.losses.length; s++) assert.ok(Math.abs(w.losses[s] - r.losses[s]) <= 1e-4 * Math.abs(r.losses[s]), `loss ${s}: wasm ${w.losses[s]}, reference ${r.losses[s]}`);
  assertClose(w.emb, r.emb, 1e-3, 1e-4, 'item_emb.weight after 3 steps');
});

/**
 * packedCausalAttention (the padding-skip attention): finite-difference gradients, exact equality with
 * dense causal attention over the equivalent left-padded batch (forward and gradients), the documented
 * probability layout and dropout draw count, the padding key's Binomial dropout, and PackedBatch's layout.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ops from '../src/engine/ops.js';
import type { PackedSegments } from '../src/engine/ops.js';
import { PackedBatch } from '../src/engine/packing.js';
import { Rng } from '../src/engine/rng.js';
import { getTape } from '../src/engine/tape.js';
import { Parameter } from '../src/engine/tensor.js';
import { paddingKeepFactor, referenceKernels } from '../src/kernels/reference/index.js';
import { gradCheck } from './helpers/gradcheck.js';

function param(shape: number[], rng: Rng, scale = 1): Parameter {
  const n = shape.reduce((a, b) => a * b, 1);
  const p = new Parameter(new Float32Array(n), shape);
  for (let i = 0; i < n; i++) p.data[i] = rng.normal() * scale;
  return p;
}

/** Left-padded rows of length L with the given real lengths (ids 1..). */
function paddedSeqs(lengths: number[], L: number): Int32Array {
  const seqs = new Int32Array(lengths.length * L);
  let id = 1;
  lengths.forEach((n, b) => {
    for (let t = L - n; t < L; t++) seqs[b * L + t] = id++;
  });
  return seqs;
}

test('PackedBatch: rows, positions, segments, last rows and targets of a left-padded batch', () => {
  const L = 4;
  const seqs = Int32Array.from([0, 0, 5, 6, /**/ 1, 2, 3, 4, /**/ 0, 0, 0, 0, /**/ 0, 0, 0, 9]);
  const pb = new PackedBatch();
  assert.equal(pb.build(seqs, 4), true);
  assert.equal(pb.realCount, 7);
  assert.equal(pb.rows, 8);
  assert.equal(pb.padRow, 7);
  assert.deepEqual([...pb.items], [5, 6, 1, 2, 3, 4, 9, 0]);
  assert.deepEqual([...pb.positions], [3, 4, 1, 2, 3, 4, 4, 0]);
  assert.equal(pb.segCount, 5); // 4 sequences + the padding row's own segment
  assert.deepEqual([...pb.segStart.subarray(0, 5)], [0, 2, 6, 6, 7]);
  assert.deepEqual([...pb.segLen.subarray(0, 5)], [2, 4, 0, 1, 1]);
  assert.deepEqual([...pb.segPad.subarray(0, 5)], [2, 0, 4, 3, 0]);
  assert.deepEqual([...pb.lastRow], [1, 5, 7, 6]);
  // targets: where pos ≠ 0, including one at a padding input (scored from the padding row)
  const pos = Int32Array.from([0, 7, 6, 8, /**/ 2, 3, 4, 1, /**/ 0, 0, 0, 0, /**/ 0, 0, 0, 3]);
  const neg = Int32Array.from([0, 11, 12, 13, /**/ 14, 15, 16, 17, /**/ 0, 0, 0, 0, /**/ 0, 0, 0, 18]);
  pb.buildTargets(pos, neg);
  assert.equal(pb.targets.count, 8);
  assert.deepEqual([...pb.targets.index], [1, 2, 3, 4, 5, 6, 7, 15]);
  assert.deepEqual([...pb.targets.rows], [7, 0, 1, 2, 3, 4, 5, 6]);
  assert.deepEqual([...pb.targets.pos], [7, 6, 8, 2, 3, 4, 1, 3]);
  assert.deepEqual([...pb.targets.neg], [11, 12, 13, 14, 15, 16, 17, 18]);
  assert.equal(pb.len, L);

  // no padding anywhere: no padding row, no extra segment
  assert.equal(pb.build(Int32Array.from([1, 2, 3, 4]), 2), true);
  assert.equal(pb.padRow, -1);
  assert.equal(pb.rows, 4);
  assert.equal(pb.segCount, 2);
  assert.deepEqual([...pb.segPad.subarray(0, 2)], [0, 0]);
  // a 0 after an item is not left padding: refused (the model then runs densely)
  assert.equal(pb.build(Int32Array.from([0, 1, 0, 2]), 1), false);
});

function layoutOf(lengths: number[], L: number): PackedBatch {
  const pb = new PackedBatch();
  assert.ok(pb.build(paddedSeqs(lengths, L), lengths.length));
  return pb;
}

for (const heads of [1, 2]) {
  test(`packedCausalAttention gradients match finite differences (${heads} head${heads > 1 ? 's' : ''})`, () => {
    const rng = new Rng(20 + heads);
    // full row, padded rows, a one-token row, an empty row; + the padding row's segment
    const seg = layoutOf([4, 2, 1, 0, 3], 4);
    const qkv = param([seg.rows, 12], rng);
    const res = gradCheck(([t]) => ops.packedCausalAttention(t, seg, { heads }), [qkv], { eps: 3e-3 });
    assert.ok(res.checked === qkv.size);
    assert.ok(res.ok, `ratio ${res.worstRatio}: ${res.worst}`);
    // the padding row's key and value get gradient from the real queries
    const g = res.analytic[0];
    const pr = seg.padRow * 12;
    assert.ok(g.subarray(pr + 4, pr + 12).some((x) => x !== 0));
  });
}

test('packedCausalAttention with attention dropout: gradients with a fixed mask, and the documented draw count', () => {
  const rng = new Rng(31);
  const seg = layoutOf([3, 1, 2], 3);
  const qkv = param([seg.rows, 12], rng);
  const drop = new Rng(5);
  const state = drop.getState();
  const res = gradCheck(([t]) => ops.packedCausalAttention(t, seg, { heads: 2, dropout: 0.3, rng: drop }), [qkv], {
    eps: 3e-3, beforeEach: () => drop.setState(state),
  });
  assert.ok(res.ok, `ratio ${res.worstRatio}: ${res.worst}`);
  // draws: per segment, head, query i: (p > 0 ? 1 : 0) + i + 1
  let draws = 0;
  for (let s = 0; s < seg.segCount; s++) for (let i = 0; i < seg.segLen[s]; i++) draws += (seg.segPad[s] > 0 ? 1 : 0) + i + 1;
  draws *= 2;
  drop.setState(state);
  ops.packedCausalAttention(qkv, seg, { heads: 2, dropout: 0.3, rng: drop });
  const after = drop.getState();
  const ref = new Rng(0);
  ref.setState(state);
  for (let i = 0; i < draws; i++) ref.nextU32();
  assert.deepEqual(after.slice(0, 4).map((x) => x >>> 0), ref.getState().slice(0, 4).map((x) => x >>> 0));
  getTape().reset();
});

function binomialPmf(n: number, q: number): number[] {
  const pmf: number[] = [];
  for (let k = 0; k <= n; k++) {
    let c = 1;
    for (let t = 0; t < k; t++) c = (c * (n - t)) / (t + 1);
    pmf.push(c * q ** k * (1 - q) ** (n - k));
  }
  return pmf;
}

test('paddingKeepFactor maps a uniform u to k/(p(1 − dropP)) with k ~ Binomial(p, 1 − dropP) (inverse CDF)', () => {
  // both CDF walks (dropP ≥ ½ from k = 0, dropP < ½ from k = p) and p = 1
  for (const [p, dropP] of [[1, 0.3], [2, 0.5], [7, 0.5], [40, 0.5], [9, 0.8], [7, 0.2], [49, 0.2], [30, 0.05], [199, 0.1]]) {
    const q = 1 - dropP;
    const want = binomialPmf(p, q);
    const N = 200_000;
    const counts = new Float64Array(p + 1);
    let prev = 0;
    for (let i = 0; i < N; i++) {
      const f = paddingKeepFactor((i + 0.5) / N, p, dropP);
      const k = f * p * q;
      assert.ok(Math.abs(k - Math.round(k)) < 1e-9, `p ${p}, dropP ${dropP}: factor ${f} is not k/(p·q)`);
      assert.ok(k >= prev - 1e-9, 'non-decreasing in u (an inverse CDF)');
      prev = k;
      counts[Math.round(k)]++;
    }
    // the share of u mapped to each k is that k's probability (up to the grid's resolution)
    for (let k = 0; k <= p; k++) assert.ok(Math.abs(counts[k] / N - want[k]) <= 2 / N, `p ${p}, dropP ${dropP}, k ${k}: ${counts[k] / N} vs ${want[k]}`);
  }
  assert.equal(paddingKeepFactor(0.999, 1001, 0.5), 1, 'beyond 1000 copies: the expectation');
});

test('packedCausalAttention: the merged padding key is dropped like its p copies in the reference (kept share ~ Binomial)', () => {
  // one query with p = 12 padding copies, one key; dropP 0.5 and 0.3
  const seg = { segCount: 1, segStart: Int32Array.of(0), segLen: Int32Array.of(1), segPad: Int32Array.of(12), padRow: 1, rows: 2 };
  const rng = new Rng(8);
  const qkv = param([2, 3], rng);
  for (const dropP of [0.5, 0.3]) {
    const state = new Uint32Array(new Rng(3).getState().slice(0, 4));
    const probs = new Float32Array(2);
    const dropped = new Float32Array(2);
    const out = new Float32Array(2);
    const q = 1 - dropP;
    const want = binomialPmf(12, q);
    const counts = new Float64Array(13);
    const N = 20_000;
    for (let t = 0; t < N; t++) {
      referenceKernels.packedCausalAttentionForward(1, 1, 1, seg.segStart, seg.segLen, seg.segPad, seg.padRow,
        qkv.data, 0, qkv.data, 1, qkv.data, 2, 3, dropP, state, probs, 0, dropped, 0, out, 0, 1);
      const k = (dropped[0] / probs[0]) * 12 * q;
      assert.ok(Math.abs(k - Math.round(k)) < 1e-4, `implied kept count ${k}`);
      counts[Math.round(k)]++;
    }
    // chi-square over the 9 bins k = 2..10 (expected counts ≥ 0.3% · N): 99.99% quantile of χ²(9) ≈ 33.7
    let chi2 = 0;
    for (let k = 2; k <= 10; k++) chi2 += (counts[k] - N * want[k]) ** 2 / (N * want[k]);
    assert.ok(chi2 < 33.7, `dropP ${dropP}: chi2 ${chi2.toFixed(1)} (counts ${[...counts].join(' ')})`);
  }
});

test('packedCausalAttention kernel: probability layout [P_pad, P_0..P_i] per query, rows sum to 1', () => {
  const rng = new Rng(41);
  const seg = layoutOf([3, 1], 3); // segments: n=3 p=0; n=1 p=2; pad row n=1 p=0
  const d = 4;
  const heads = 2;
  const qkv = param([seg.rows, 3 * d], rng);
  let tri = 0;
  for (let s = 0; s < seg.segCount; s++) tri += (seg.segLen[s] * (seg.segLen[s] + 3)) / 2;
  assert.equal(tri, 9 + 2 + 2);
  const probs = new Float32Array(heads * tri);
  const out = new Float32Array(seg.rows * d);
  referenceKernels.packedCausalAttentionForward(
    seg.segCount, heads, d / heads, seg.segStart, seg.segLen, seg.segPad, seg.padRow,
    qkv.data, 0, qkv.data, d, qkv.data, 2 * d, 3 * d, 0, null, probs, 0, probs, 0, out, 0, d,
  );
  // segment 0 (no padding): head blocks of 9 = rows [0, p0], [0, p0, p1], [0, p0, p1, p2]
  for (let h = 0; h < heads; h++) {
    const base = h * 9;
    assert.equal(probs[base], 0);
    assert.ok(Math.abs(probs[base + 1] - 1) < 1e-6);
    assert.equal(probs[base + 2], 0);
    assert.ok(Math.abs(probs[base + 3] + probs[base + 4] - 1) < 1e-6);
    assert.equal(probs[base + 5], 0);
    assert.ok(Math.abs(probs[base + 6] + probs[base + 7] + probs[base + 8] - 1) < 1e-6);
  }
  // segment 1 (n = 1, p = 2): [P_pad, P_0] with P_pad = 2e^{a} / (2e^{a} + e^{b})
  const hd = d / heads;
  for (let h = 0; h < heads; h++) {
    const row = 2 * 9 + h * 2;
    const qi = 3 * 3 * d + h * hd;
    const kp = seg.padRow * 3 * d + d + h * hd;
    const k0 = 3 * 3 * d + d + h * hd;
    let a = 0;
    let b = 0;
    for (let c = 0; c < hd; c++) {
      a += qkv.data[qi + c] * qkv.data[kp + c];
      b += qkv.data[qi + c] * qkv.data[k0 + c];
    }
    a /= Math.sqrt(hd);
    b /= Math.sqrt(hd);
    const want = (2 * Math.exp(a)) / (2 * Math.exp(a) + Math.exp(b));
    assert.ok(Math.abs(probs[row] - want) < 1e-6, `${probs[row]} vs ${want}`);
    assert.ok(Math.abs(probs[row] + probs[row + 1] - 1) < 1e-6);
  }
  // the padding row attends only to itself: output = its value
  const pr = seg.padRow;
  for (let c = 0; c < d; c++) assert.ok(Math.abs(out[pr * d + c] - qkv.data[pr * 3 * d + 2 * d + c]) < 1e-6);
});

for (const heads of [1, 2]) {
  test(`packedCausalAttention equals dense causal attention over the padded batch, forward and backward (${heads} head${heads > 1 ? 's' : ''})`, () => {
    const rng = new Rng(50 + heads);
    const L = 6;
    const lengths = [6, 3, 1, 0, 5];
    const B = lengths.length;
    const seg = layoutOf(lengths, L);
    const d = 4;
    const P = param([seg.rows, 3 * d], rng);
    // the dense batch: padded positions all hold the padding row, real positions their packed row
    const map = new Int32Array(B * L);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < L; t++) map[b * L + t] = t < seg.segPad[b] ? seg.padRow : seg.segStart[b] + t - seg.segPad[b];
    }
    const D = new Parameter(new Float32Array(B * L * 3 * d), [B * L, 3 * d]);
    for (let r = 0; r < B * L; r++) D.data.set(P.data.subarray(map[r] * 3 * d, (map[r] + 1) * 3 * d), r * 3 * d);

    const tape = getTape();
    tape.reset();
    const yd = ops.causalAttentionPacked(D, { batch: B, len: L, heads });
    const yp = ops.packedCausalAttention(P, seg, { heads });
    for (let r = 0; r < B * L; r++) {
      for (let c = 0; c < d; c++) {
        const a = yp.data[map[r] * d + c];
        const e = yd.data[r * d + c];
        assert.ok(Math.abs(a - e) <= 1e-5 * (1 + Math.abs(e)), `row ${r} col ${c}: packed ${a}, dense ${e}`);
      }
    }
    // gradients: the same seed on real rows; the padding row's seed on one padded position
    const seedP = new Float32Array(yp.size);
    for (let i = 0; i < seedP.length; i++) seedP[i] = rng.normal();
    const seedD = new Float32Array(yd.size);
    let padSeeded = false;
    for (let r = 0; r < B * L; r++) {
      if (map[r] === seg.padRow) {
        if (padSeeded) continue;
        padSeeded = true;
      }
      seedD.set(seedP.subarray(map[r] * d, (map[r] + 1) * d), r * d);
    }
    // one backward pass runs both recorded ops (each seeded through its own output's gradient)
    yd.grad = seedD;
    tape.backward(yp, seedP);
    const gD = new Float64Array(P.size); // dense gradient folded onto packed rows
    for (let r = 0; r < B * L; r++) for (let c = 0; c < 3 * d; c++) gD[map[r] * 3 * d + c] += D.grad![r * 3 * d + c];
    for (let i = 0; i < P.size; i++) {
      assert.ok(Math.abs(P.grad![i] - gD[i]) <= 1e-5 * (1 + Math.abs(gD[i])), `grad ${i}: packed ${P.grad![i]}, dense ${gD[i]}`);
    }
    tape.reset();
  });
}

test('packedCausalAttention validates its layout', () => {
  const qkv = param([3, 6], new Rng(1));
  const bad = (s: Partial<PackedSegments>): PackedSegments => ({
    segCount: 1, segStart: Int32Array.of(0), segLen: Int32Array.of(2), segPad: Int32Array.of(0), padRow: -1, ...s,
  });
  assert.throws(() => ops.packedCausalAttention(qkv, bad({ segLen: Int32Array.of(4) }), { heads: 1 }), /out of range/);
  assert.throws(() => ops.packedCausalAttention(qkv, bad({ segPad: Int32Array.of(2) }), { heads: 1 }), /padRow/);
  assert.throws(() => ops.packedCausalAttention(qkv, bad({ padRow: 3 }), { heads: 1 }), /padRow/);
  assert.throws(() => ops.packedCausalAttention(qkv, bad({}), { heads: 4 }), /heads/);
  getTape().reset();
});

/**
 * GRU4Rec's ops against the papers' equations and central finite differences: the GRU step (alone and
 * through two steps, so the state's gradient too), the final activations, the ranking losses TOP1, BPR
 * and BPR-max over a score matrix, and the session-parallel loss of losses/ end to end (features,
 * output weights and bias as the inputs), which scores the batch's targets and shared samples and
 * leaves out a column whose item is the row's own target.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gruCell } from '../src/engine/gru.js';
import { rankingLoss, scoreActivation, type ScoreActivation } from '../src/engine/ranking-loss-ops.js';
import { Rng } from '../src/engine/rng.js';
import { getTape } from '../src/engine/tape.js';
import { Parameter, type Tensor } from '../src/engine/tensor.js';
import type { RankingLossKind } from '../src/kernels/types.js';
import { sessionNegatives, sessionRankingLoss } from '../src/losses/session-ranking.js';
import { Embedding } from '../src/nn/layers.js';
import { gradCheck, type GradCheckOptions } from './helpers/gradcheck.js';

function param(shape: number[], rng: Rng, scale = 1): Parameter {
  const n = shape.reduce((a, b) => a * b, 1);
  const p = new Parameter(new Float32Array(n), shape);
  for (let i = 0; i < n; i++) p.data[i] = rng.normal() * scale;
  return p;
}

function check(fn: (p: Parameter[]) => Tensor, inputs: Parameter[], opts?: GradCheckOptions): void {
  const res = gradCheck(fn, inputs, { eps: 1e-2, rtol: 2e-2, atol: 2e-3, ...opts });
  assert.ok(res.checked > 0, 'nothing was checked');
  assert.ok(res.ok, `gradient mismatch (ratio ${res.worstRatio.toFixed(3)}): ${res.worst}`);
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** The paper's GRU step, written out: x [B, 3d] = [W_r x | W_z x | W x], uRz [d, 2d], u [d, d]. */
function gruByHand(x: Float32Array, bias: Float32Array, h: Float32Array, uRz: Float32Array, u: Float32Array, B: number, d: number): number[] {
  const out: number[] = [];
  for (let b = 0; b < B; b++) {
    const hb = (i: number) => h[b * d + i];
    const r: number[] = [];
    const z: number[] = [];
    for (let j = 0; j < d; j++) {
      let ar = 0;
      let az = 0;
      for (let i = 0; i < d; i++) {
        ar += hb(i) * uRz[i * 2 * d + j];
        az += hb(i) * uRz[i * 2 * d + d + j];
      }
      r.push(sigmoid(x[b * 3 * d + j] + bias[j] + ar));
      z.push(sigmoid(x[b * 3 * d + d + j] + bias[d + j] + az));
    }
    for (let j = 0; j < d; j++) {
      let c = 0;
      for (let i = 0; i < d; i++) c += r[i] * hb(i) * u[i * d + j];
      const cand = Math.tanh(x[b * 3 * d + 2 * d + j] + bias[2 * d + j] + c);
      out.push((1 - z[j]) * hb(j) + z[j] * cand);
    }
  }
  return out;
}

test('gruCell computes the paper’s GRU step', () => {
  const rng = new Rng(1);
  const [B, d] = [3, 4];
  const x = param([B, 3 * d], rng);
  const bias = param([3 * d], rng, 0.5);
  const h = param([B, d], rng);
  const uRz = param([d, 2 * d], rng, 0.5);
  const u = param([d, d], rng, 0.5);
  const got = gruCell(x, bias, h, uRz, u);
  const want = gruByHand(x.data, bias.data, h.data, uRz.data, u.data, B, d);
  assert.deepEqual(got.shape, [B, d]);
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got.data[i] - want[i]) < 1e-5, `element ${i}: ${got.data[i]} vs ${want[i]}`);
  getTape().reset();
});

test('gruCell: gradients of the inputs, the bias, the state and both recurrent weights', () => {
  const rng = new Rng(2);
  const [B, d] = [3, 5];
  const inputs = [param([B, 3 * d], rng), param([3 * d], rng, 0.5), param([B, d], rng), param([d, 2 * d], rng, 0.5), param([d, d], rng, 0.5)];
  check(([x, b, h, uRz, u]) => gruCell(x, b, h, uRz, u), inputs);
});

test('gruCell through two steps: the first state’s gradient flows through the second', () => {
  const rng = new Rng(3);
  const [B, d] = [2, 3];
  const inputs = [
    param([B, 3 * d], rng),
    param([B, 3 * d], rng),
    param([3 * d], rng, 0.5),
    param([B, d], rng),
    param([d, 2 * d], rng, 0.5),
    param([d, d], rng, 0.5),
  ];
  check(([x1, x2, b, h0, uRz, u]) => gruCell(x2, b, gruCell(x1, b, h0, uRz, u), uRz, u), inputs);
});

test('score activations: tanh and ELU, values and gradients', () => {
  const rng = new Rng(4);
  const x = param([12], rng, 1.5);
  // keep clear of ELU's kink at 0 (its slope jumps from α to 1 when α ≠ 1)
  for (let i = 0; i < x.size; i++) if (Math.abs(x.data[i]) < 0.1) x.data[i] += 0.3;
  const fs: ScoreActivation[] = [{ kind: 'tanh' }, { kind: 'elu', alpha: 0.5 }, { kind: 'elu', alpha: 1 }];
  for (const f of fs) {
    const y = scoreActivation(x, f);
    for (let i = 0; i < x.size; i++) {
      const v = x.data[i];
      const want = f.kind === 'tanh' ? Math.tanh(v) : v >= 0 ? v : (f.kind === 'elu' ? f.alpha : 0) * (Math.exp(v) - 1);
      assert.ok(Math.abs(y.data[i] - want) < 1e-6, `${f.kind} at ${v}: ${y.data[i]} vs ${want}`);
    }
    getTape().reset();
    check(([a]) => scoreActivation(a, f), [x]);
  }
  assert.equal(scoreActivation(x, { kind: 'linear' }), x, 'linear is the identity');
});

/** The losses written out for row m of scores [M × C], the negatives flagged in neg. */
function lossByHand(kind: RankingLossKind, s: Float32Array, neg: Uint8Array, M: number, C: number, lambda: number): number {
  let total = 0;
  for (let m = 0; m < M; m++) {
    const ri = s[m * C + m];
    const js = [...Array(C).keys()].filter((j) => neg[m * C + j]);
    if (js.length === 0) continue;
    const rj = js.map((j) => s[m * C + j]);
    if (kind === 'top1') total += rj.reduce((a, r) => a + sigmoid(r - ri) + sigmoid(r * r), 0) / rj.length;
    if (kind === 'bpr') total += rj.reduce((a, r) => a - Math.log(sigmoid(ri - r)), 0) / rj.length;
    if (kind === 'bpr_max') {
      const z = rj.reduce((a, r) => a + Math.exp(r), 0);
      const w = rj.map((r) => Math.exp(r) / z);
      total += -Math.log(rj.reduce((a, r, k) => a + w[k] * sigmoid(ri - r), 0)) + lambda * rj.reduce((a, r, k) => a + w[k] * r * r, 0);
    }
  }
  return total;
}

test('rankingLoss: TOP1, BPR and BPR-max as the papers write them, and their gradients', () => {
  const rng = new Rng(5);
  const [M, C] = [4, 7];
  const scores = param([M, C], rng);
  const neg = new Uint8Array(M * C);
  for (let m = 0; m < M; m++) for (let j = 0; j < C; j++) neg[m * C + j] = j !== m && rng.nextFloat() < 0.7 ? 1 : 0;
  neg.fill(0, 2 * C, 3 * C); // row 2 has no negatives: it adds nothing
  neg[0 * C + 1] = 1;
  for (const kind of ['top1', 'bpr', 'bpr_max'] as const) {
    const got = rankingLoss(scores, neg, kind, 0.7, 0.25).data[0];
    const want = 0.25 * lossByHand(kind, scores.data, neg, M, C, 0.7);
    assert.ok(Math.abs(got - want) < 1e-5 * Math.max(1, Math.abs(want)), `${kind}: ${got} vs ${want}`);
    getTape().reset();
    const res = gradCheck(([s]) => rankingLoss(s, neg, kind, 0.7, 0.25), [scores], { eps: 1e-2, rtol: 2e-2, atol: 2e-3 });
    assert.ok(res.ok, `${kind}: ${res.worst}`);
    // row 2 and the columns no row counts get no gradient
    for (let j = 0; j < C; j++) assert.equal(res.analytic[0][2 * C + j], 0, `${kind}: row 2 column ${j}`);
  }
  // BPR-max with one negative and no regularisation is BPR
  const one = new Uint8Array(M * C);
  one[0 * C + 3] = 1;
  assert.ok(Math.abs(rankingLoss(scores, one, 'bpr_max', 0, 1).data[0] - rankingLoss(scores, one, 'bpr', 0, 1).data[0]) < 1e-6);
  getTape().reset();
});

test('sessionNegatives: the other targets and the shared samples, never 0 or the row’s own target', () => {
  const neg = sessionNegatives(Int32Array.from([5, 0, 7, 5]), Int32Array.from([7, 9]));
  const C = 6;
  const row = (m: number) => Array.from(neg.subarray(m * C, (m + 1) * C));
  assert.deepEqual(row(0), [0, 0, 1, 0, 1, 1]); // 5 vs [5, 0, 7, 5 | 7, 9]
  assert.deepEqual(row(1), [0, 0, 0, 0, 0, 0]); // an idle slot has no target
  assert.deepEqual(row(2), [1, 0, 0, 1, 0, 1]);
  assert.deepEqual(row(3), [0, 0, 1, 0, 1, 1]);
});

test('sessionRankingLoss end to end: every loss and activation, gradients of the features, the output weights and the bias', () => {
  const rng = new Rng(6);
  const [M, d, N] = [4, 3, 9];
  const features = param([M, d], rng);
  const emb = new Embedding(N + 1, d, rng, 0);
  const bias = param([N + 1], rng, 0.3);
  const pos = Int32Array.from([2, 0, 5, 2]);
  const shared = Int32Array.from([7, 5, 1]);
  const cases: Array<[RankingLossKind, ScoreActivation]> = [
    ['top1', { kind: 'tanh' }],
    ['bpr', { kind: 'linear' }],
    ['bpr_max', { kind: 'linear' }],
    ['bpr_max', { kind: 'elu', alpha: 1 }],
  ];
  for (const [kind, activation] of cases) {
    const loss = sessionRankingLoss({ kind, samples: shared.length, activation, bpreg: 0.5 });
    assert.equal(loss.sharedNegatives, true);
    assert.equal(loss.negatives, 3);
    // (gradCheck perturbs emb.weight in place: the loss reads it through emb)
    check(([f, , b]) => loss.compute({ features: f, pos, neg: shared }, emb, b), [features, emb.weight, bias], {
      skip: (input, i) => input === 1 && i < d, // the padding row takes no gradient
    });
    // the value: the score matrix by hand, then the loss by hand, over B = 4 rows
    const columns = [...pos, ...shared];
    const C = columns.length;
    const s = new Float32Array(M * C);
    for (let m = 0; m < M; m++) {
      for (let j = 0; j < C; j++) {
        let v = bias.data[columns[j]];
        for (let k = 0; k < d; k++) v += features.data[m * d + k] * emb.weight.data[columns[j] * d + k];
        s[m * C + j] = activation.kind === 'tanh' ? Math.tanh(v) : activation.kind === 'elu' && v < 0 ? Math.exp(v) - 1 : v;
      }
    }
    const want = lossByHand(kind, s, sessionNegatives(pos, shared), M, C, 0.5) / M;
    const got = loss.compute({ features, pos, neg: shared }, emb, bias).data[0];
    assert.ok(Math.abs(got - want) < 1e-5, `${kind}: ${got} vs ${want}`);
    getTape().reset();
  }
});


/**
 * The training losses against central finite differences: each op of engine/loss-ops.ts alone, then
 * each loss of losses/ end to end (features and item embedding as the inputs), on the reference
 * kernels and, for the full-catalogue softmax, on the WebAssembly kernels too.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bprLoss, fullSoftmaxCrossEntropy, gatheredRowDot, groupedRowDot, sampledSoftmaxLoss, softplusSum } from '../src/engine/loss-ops.js';
import * as ops from '../src/engine/ops.js';
import { negativeScores } from '../src/losses/targets.js';
import { Rng } from '../src/engine/rng.js';
import { getTape } from '../src/engine/tape.js';
import { Parameter, type Tensor } from '../src/engine/tensor.js';
import { getKernels, referenceKernels, setKernels } from '../src/kernels/index.js';
import { createWasmKernelsSync } from '../src/kernels/wasm/index.js';
import { lossFor, lossOptions } from '../src/losses/index.js';
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

const ids = (rng: Rng, n: number, max: number) => Int32Array.from({ length: n }, () => 1 + rng.nextInt(max));

test('groupedRowDot: each row against its own K rows', () => {
  const rng = new Rng(1);
  const f = param([5, 6], rng);
  const g = param([15, 6], rng);
  const out = groupedRowDot(f, g, 3);
  assert.deepEqual(out.shape, [5, 3]);
  let want = 0;
  for (let c = 0; c < 6; c++) want += f.data[2 * 6 + c] * g.data[(2 * 3 + 1) * 6 + c];
  assert.ok(Math.abs(out.data[2 * 3 + 1] - want) < 1e-5);
  getTape().reset();
  check(([a, b]) => groupedRowDot(a, b, 3), [f, g]);
});

test('softplusSum (labels 1 and 0), bprLoss, sampledSoftmaxLoss with skipped items', () => {
  const rng = new Rng(2);
  const x = param([7], rng, 2);
  check(([a]) => softplusSum(a, -1, 0.3), [x]);
  check(([a]) => softplusSum(a, 1, 0.7), [x]);
  const pos = param([4], rng);
  const neg = param([4, 3], rng);
  check(([p, n]) => bprLoss(p, n, 0.25), [pos, neg]);
  const skip = new Uint8Array(12);
  skip[1] = 1;
  skip[7] = 1;
  check(([p, n]) => sampledSoftmaxLoss(p, n, skip, 0.5), [pos, neg]);
  check(([p, n]) => sampledSoftmaxLoss(p, n, null, 1), [pos, neg]);
  // a skipped item takes no part: its score does not move the loss
  const a = sampledSoftmaxLoss(pos, neg, skip, 1).data[0];
  neg.data[1] += 5;
  const b = sampledSoftmaxLoss(pos, neg, skip, 1).data[0];
  assert.equal(a, b);
  getTape().reset();
});

test('fullSoftmaxCrossEntropy equals the plain softmax over items 1..N, for any chunk size, with and without a bias', () => {
  const rng = new Rng(3);
  const M = 6;
  const N = 11;
  const d = 4;
  const f = param([M, d], rng);
  const w = param([N + 1, d], rng);
  const bias = param([N + 1], rng, 0.5);
  const target = ids(rng, M, N);
  let want = 0;
  for (let r = 0; r < M; r++) {
    const logits: number[] = [];
    for (let i = 1; i <= N; i++) {
      let s = bias.data[i];
      for (let c = 0; c < d; c++) s += f.data[r * d + c] * w.data[i * d + c];
      logits.push(s);
    }
    const max = Math.max(...logits);
    const lse = max + Math.log(logits.reduce((a, s) => a + Math.exp(s - max), 0));
    want += lse - logits[target[r] - 1];
  }
  want /= M;
  for (const chunk of [1, 3, 4, 11, 64]) {
    const got = fullSoftmaxCrossEntropy(f, w, target, bias, chunk).data[0];
    assert.ok(Math.abs(got - want) < 1e-5, `chunk ${chunk}: ${got} vs ${want}`);
    getTape().reset();
  }
  for (const chunk of [3, 64]) {
    check(([a, b, c]) => fullSoftmaxCrossEntropy(a, b, target, c, chunk), [f, w, bias]);
    check(([a, b]) => fullSoftmaxCrossEntropy(a, b, target, null, chunk), [f, w], { skip: (input, e) => input === 1 && e < d });
  }
  // the padding item's row takes no part and gets no gradient
  const p0 = w.data.slice(0, d);
  w.data.fill(100, 0, d);
  assert.ok(Math.abs(fullSoftmaxCrossEntropy(f, w, target, bias, 4).data[0] - want) < 1e-5);
  w.data.set(p0, 0);
  getTape().reset();
  assert.throws(() => fullSoftmaxCrossEntropy(f, w, Int32Array.from([0, 1, 1, 1, 1, 1]), null), /target 0 of row 0 is not in 1\.\.11/);
  // rows past `items` (BERT4Rec's mask token) take no part either
  const wider = new Parameter(new Float32Array((N + 2) * d), [N + 2, d]);
  wider.data.set(w.data);
  wider.data.fill(50, (N + 1) * d);
  const widerBias = new Parameter(new Float32Array(N + 2), [N + 2]);
  widerBias.data.set(bias.data);
  assert.ok(Math.abs(fullSoftmaxCrossEntropy(f, wider, target, widerBias, 4, N).data[0] - want) < 1e-5);
  getTape().reset();
});

test('fullSoftmaxCrossEntropy on the WebAssembly kernels matches the reference kernels (value and gradients, odd chunk widths)', () => {
  const wasm = createWasmKernelsSync();
  const rng = new Rng(4);
  const M = 37;
  const N = 203;
  const d = 8;
  const data = { f: param([M, d], rng), w: param([N + 1, d], rng), b: param([N + 1], rng, 0.3) };
  const target = ids(rng, M, N);
  const run = (chunk: number) => {
    const f = new Parameter(getKernels().alloc(M * d), [M, d]);
    const w = new Parameter(getKernels().alloc((N + 1) * d), [N + 1, d]);
    const b = new Parameter(getKernels().alloc(N + 1), [N + 1]);
    f.data.set(data.f.data);
    w.data.set(data.w.data);
    b.data.set(data.b.data);
    const tape = getTape();
    tape.reset();
    const loss = fullSoftmaxCrossEntropy(f, w, target, b, chunk);
    const value = loss.item();
    tape.backward(loss);
    const out = { value, df: f.grad!.slice(), dw: w.grad!.slice(), db: b.grad!.slice() };
    tape.reset();
    tape.clearPool();
    return out;
  };
  const ref = run(50);
  setKernels(wasm);
  try {
    for (const chunk of [50, 7, 203]) {
      const got = run(chunk);
      assert.ok(Math.abs(got.value - ref.value) < 1e-4 * Math.abs(ref.value), `chunk ${chunk} loss ${got.value} vs ${ref.value}`);
      for (const [k, a, e] of [
        ['df', got.df, ref.df],
        ['dw', got.dw, ref.dw],
        ['db', got.db, ref.db],
      ] as const) {
        for (let i = 0; i < e.length; i++)
          assert.ok(Math.abs(a[i] - e[i]) <= 1e-5 + 1e-3 * Math.abs(e[i]), `chunk ${chunk} ${k}[${i}]: ${a[i]} vs ${e[i]}`);
      }
    }
  } finally {
    setKernels(referenceKernels);
  }
});

test('every loss, end to end through its component: features and item embedding against finite differences', () => {
  const rng = new Rng(5);
  const N = 20;
  const d = 5;
  const M = 6;
  const K = 3;
  const emb = new Embedding(N + 1, d, rng, 0);
  for (let i = 0; i < emb.weight.size; i++) emb.weight.data[i] = rng.normal() * 0.5;
  const features = param([M, d], rng);
  const pos = Int32Array.from([3, 0, 7, 11, 0, 19]); // two rows without a target (the dense path's padding)
  const perPosition = ids(rng, M * K, N);
  const shared = Int32Array.from([7, 2, 15]); // 7 is row 2's positive: left out of that row
  const cases: Array<[Record<string, unknown>, Int32Array]> = [
    [{ loss: 'bce' }, ids(rng, M, N)],
    [{ loss: 'bce_k', trainNegatives: K }, perPosition],
    [{ loss: 'gbce', trainNegatives: K, gbceT: 0.75 }, perPosition],
    [{ loss: 'sampled_softmax', trainNegatives: K }, perPosition],
    [{ loss: 'sampled_softmax', trainNegatives: K, sharedNegatives: true }, shared],
    [{ loss: 'bpr', trainNegatives: K }, perPosition],
    [{ loss: 'ce' }, new Int32Array(0)],
  ];
  for (const [options, neg] of cases) {
    const loss = lossFor(lossOptions.parse(options), N);
    // gradCheck perturbs the parameters in place: emb.weight is the second input
    check(([f]) => loss.compute({ features: f, pos, neg }, emb), [features, emb.weight], { skip: (input, e) => input === 1 && e < d });
    // rows without a target take no part: moving them does not move the loss
    const before = loss.compute({ features, pos, neg }, emb).data[0];
    features.data[1 * d] += 3;
    const after = loss.compute({ features, pos, neg }, emb).data[0];
    features.data[1 * d] -= 3;
    getTape().reset();
    assert.equal(after, before, `${JSON.stringify(options)}: a row without a target moved the loss`);
  }
});

test('gBCE: (β·Σ −log σ(s⁺) + Σ −log(1 − σ(s⁻))) / (M·(K + 1)) with α = K/(N − 1), β = α·(t·(1 − 1/α) + 1/α); bce_k: means over 1 and K', () => {
  const rng = new Rng(6);
  const N = 50;
  const d = 4;
  const M = 3;
  const K = 4;
  const emb = new Embedding(N + 1, d, rng, 0);
  const features = param([M, d], rng);
  const pos = Int32Array.from([1, 2, 3]);
  const neg = ids(rng, M * K, N);
  const dot = (m: number, item: number) => {
    let s = 0;
    for (let c = 0; c < d; c++) s += features.data[m * d + c] * emb.weight.data[item * d + c];
    return s;
  };
  const softplus = (x: number) => Math.log1p(Math.exp(x));
  let A = 0;
  let B = 0;
  for (let m = 0; m < M; m++) {
    A += softplus(-dot(m, pos[m]));
    for (let k = 0; k < K; k++) B += softplus(dot(m, neg[m * K + k]));
  }
  const value = (o: Record<string, unknown>) => lossFor(lossOptions.parse(o), N).compute({ features, pos, neg }, emb).data[0];
  const close = (a: number, e: number, what: string) => assert.ok(Math.abs(a - e) < 1e-5 * Math.max(1, Math.abs(e)), `${what}: ${a} vs ${e}`);
  close(value({ loss: 'bce_k', trainNegatives: K }), A / M + B / (M * K), 'bce_k');
  const alpha = K / (N - 1);
  for (const t of [0, 0.75, 1]) {
    const beta = alpha * (t * (1 - 1 / alpha) + 1 / alpha);
    close(value({ loss: 'gbce', trainNegatives: K, gbceT: t }), (beta * A + B) / (M * (K + 1)), `gbce t ${t}`);
  }
  getTape().reset();
});

test('gatheredRowDot: the scores and gradients of groupedRowDot over the gathered rows, without the block; the padding row gets none; negativeScores is it', () => {
  const rng = new Rng(21);
  const [M, K, d, N] = [5, 3, 4, 7];
  const fill = (p: Parameter) => {
    for (let i = 0; i < p.size; i++) p.data[i] = rng.normal();
    return p;
  };
  const f = fill(new Parameter(new Float32Array(M * d), [M, d]));
  const table = fill(new Parameter(new Float32Array(N * d), [N, d]));
  const ids = Int32Array.from({ length: M * K }, (_, x) => (x * 5 + 1) % N);
  ids[4] = 0;
  const tape = getTape();
  const run = (fn: () => Tensor) => {
    tape.reset();
    f.grad?.fill(0);
    table.grad?.fill(0);
    const y = fn();
    const values = y.data.slice();
    tape.backward(
      y,
      Float32Array.from({ length: M * K }, (_, x) => Math.sin(x + 1)),
    );
    const grads = [(f.grad as Float32Array).slice(), (table.grad as Float32Array).slice()];
    tape.reset();
    return { values, grads };
  };
  const fused = run(() => gatheredRowDot(f, table, ids, K, 0));
  const block = run(() => groupedRowDot(f, ops.embedding(table, ids, { paddingIdx: 0 }), K));
  for (let x = 0; x < M * K; x++) assert.ok(Math.abs(fused.values[x] - block.values[x]) < 1e-5, `score ${x}`);
  for (const k of [0, 1]) {
    const [a, b] = [fused.grads[k], block.grads[k]];
    for (let x = 0; x < a.length; x++) assert.ok(Math.abs(a[x] - b[x]) < 1e-5, `${k === 0 ? 'df' : 'dtable'}[${x}]: ${a[x]} vs ${b[x]}`);
  }
  assert.ok(
    fused.grads[1].subarray(0, d).every((v) => v === 0),
    'the padding row gets no gradient',
  );
  check(([a, t]) => gatheredRowDot(a, t, ids, K), [f, table]);

  const emb = new Embedding(N, d, new Rng(2), 0);
  const targets = { features: f, pos: Int32Array.from({ length: M }, (_, m) => m + 1), neg: ids };
  const viaBlock = groupedRowDot(f, emb.forward(ids), K).data.slice();
  const viaFused = negativeScores(targets, emb, K, false).data.slice();
  for (let x = 0; x < M * K; x++) assert.ok(Math.abs(viaBlock[x] - viaFused[x]) < 1e-5, `negativeScores ${x}`);
});

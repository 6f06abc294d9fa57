/**
 * The wasm mHC kernels (RMS norm, scaled sigmoid, Sinkhorn-Knopp, stream mixes) against the reference
 * kernels on random inputs: stream counts 1-5, row counts that do and do not fill a vector group,
 * widths around the vector width, 1/3/20 Sinkhorn iterations, logits near a permutation matrix,
 * offsets, null gradients, accumulation into non-zero gradients, and the fallback for plain arrays;
 * mHC's stacked projection GEMM against separate linear ops; SASRec-mHC trained on the wasm backend
 * against the reference backend.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWasmKernelsSync, type WasmKernels } from '../src/kernels/wasm/index.js';
import { mhcReferenceKernels as ref } from '../src/kernels/reference/mhc.js';
import { referenceKernels, setKernels, type Kernels } from '../src/kernels/index.js';
import { Rng } from '../src/engine/rng.js';
import { Tape, setTape } from '../src/engine/tape.js';
import { Parameter, type Tensor } from '../src/engine/tensor.js';
import * as mhc from '../src/engine/mhc-ops.js';
import * as ops from '../src/engine/ops.js';
import { SASRec } from '../src/models/sasrec/sasrec.js';
import { Adam } from '../src/optim/adam.js';
import { rng32 } from './helpers/random.js';
import { randomPair, testWasmVariants } from './helpers/wasm.js';
import { leftPaddedBatch } from './helpers/batches.js';
import { trainStep } from '../src/learn/step.js';

/** |got − want| ≤ tol · (|want| + 0.01 · max|want|): relative, with a floor for values near 0. */
function close(got: Float32Array, want: Float32Array, tol: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  let scale = 0;
  for (const w of want) scale = Math.max(scale, Math.abs(w));
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= tol * (Math.abs(want[i]) + 0.01 * scale + 1e-30))) assert.fail(`${what}: [${i}] got ${got[i]}, want ${want[i]} (err ${err})`);
  }
}

const ROWS = [1, 3, 4, 5, 9];
const WIDTHS = [1, 3, 4, 7, 50];

function suite(k: WasmKernels, inWasm: boolean): void {
  const r = rng32(inWasm ? 3 : 4);
  const tag = inWasm ? 'wasm' : 'plain';
  const off = 2;

  for (const rows of ROWS) {
    for (const dim of [...WIDTHS, 200]) {
      const m = rows * dim;
      const [x, x0] = randomPair(k, m + off, r, 2, inWasm);
      const [out, out0] = randomPair(k, m + off, r, 1, inWasm);
      const [rs, rs0] = randomPair(k, rows + 1, r, 1, inWasm);
      k.rmsNormForward(rows, dim, x, off, 1e-6, out, 1, rs, 1);
      ref.rmsNormForward(rows, dim, x0, off, 1e-6, out0, 1, rs0, 1);
      close(out, out0, 1e-5, `${tag} rmsNormForward rows=${rows} dim=${dim}`);
      close(rs, rs0, 1e-5, `${tag} rmsNormForward rstd rows=${rows} dim=${dim}`);
      const [dy, dy0] = randomPair(k, m, r, 1, inWasm);
      const [dx, dx0] = randomPair(k, m + off, r, 1, inWasm);
      k.rmsNormBackward(rows, dim, x, off, rs, 1, dy, 0, dx, off);
      ref.rmsNormBackward(rows, dim, x0, off, rs0, 1, dy0, 0, dx0, off);
      close(dx, dx0, 1e-4, `${tag} rmsNormBackward rows=${rows} dim=${dim}`);
    }
  }

  for (const n of [0, 1, 3, 4, 5, 17, 203]) {
    for (const scale of [1, 2]) {
      const [x, x0] = randomPair(k, n + off, r, 30, inWasm);
      const [y, y0] = randomPair(k, n + off, r, 1, inWasm);
      k.sigmoidForward(n, scale, x, off, y, 1);
      ref.sigmoidForward(n, scale, x0, off, y0, 1);
      close(y, y0, 2e-6, `${tag} sigmoidForward n=${n} scale=${scale}`);
      const [dy, dy0] = randomPair(k, n, r, 1, inWasm);
      const [dx, dx0] = randomPair(k, n + off, r, 1, inWasm);
      k.sigmoidBackward(n, scale, y, 1, dy, 0, dx, off);
      ref.sigmoidBackward(n, scale, y0, 1, dy0, 0, dx0, off);
      close(dx, dx0, 1e-5, `${tag} sigmoidBackward n=${n} scale=${scale}`);
    }
  }

  for (const n of [1, 2, 3, 4, 5]) {
    for (const rows of ROWS) {
      for (const iters of [1, 3, 20]) {
        // logit scale 0.5 / 2, and near a permutation (diagonal 0, off-diagonal −8: mHC's initial bias)
        for (const kind of ['0.5', '2', 'identity'] as const) {
          const nn = n * n;
          const m = rows * nn;
          const [L, L0] = randomPair(k, m + off, r, kind === '2' ? 2 : 0.5, inWasm);
          if (kind === 'identity') {
            for (let q = 0; q < m; q++) if (Math.floor((q % nn) / n) !== q % n) { L[off + q] -= 8; L0[off + q] -= 8; }
          }
          const what = `${tag} sinkhorn n=${n} rows=${rows} iters=${iters} logits ${kind}`;
          const [P, P0] = randomPair(k, m + 1, r, 1, inWasm);
          k.sinkhornForward(rows, n, iters, L, off, P, 1);
          ref.sinkhornForward(rows, n, iters, L0, off, P0, 1);
          close(P, P0, 2e-5, `${what} forward`);
          const [g, g0] = randomPair(k, m, r, 1, inWasm);
          const [dL, dL0] = randomPair(k, m + off, r, 1, inWasm);
          k.sinkhornBackward(rows, n, iters, L, off, g, 0, dL, off);
          ref.sinkhornBackward(rows, n, iters, L0, off, g0, 0, dL0, off);
          close(dL, dL0, 1e-3, `${what} backward`);
        }
      }
    }
  }

  for (const rows of ROWS) {
    for (const cols of WIDTHS) {
      for (const [ldSrc, ldDst] of [[cols, cols], [cols + 3, cols], [cols, cols + 5]]) {
        const [src] = randomPair(k, rows * ldSrc + off, r, 1, inWasm);
        const [dst, dst0] = randomPair(k, rows * ldDst + 1, r, 1, inWasm);
        k.copyBlock(rows, cols, src, off, ldSrc, dst, 1, ldDst);
        ref.copyBlock(rows, cols, src, off, ldSrc, dst0, 1, ldDst);
        assert.deepEqual(dst, dst0, `${tag} copyBlock rows=${rows} cols=${cols} ld ${ldSrc}/${ldDst}`);
      }
    }
  }

  for (const n of [1, 2, 3, 4, 5]) {
    for (const rows of ROWS) {
      for (const d of WIDTHS) {
        const what = `${tag} n=${n} rows=${rows} d=${d}`;
        const [w, w0] = randomPair(k, rows * n + off, r, 1, inWasm);
        const [x, x0] = randomPair(k, rows * n * d + off, r, 1, inWasm);
        const [o, o0] = randomPair(k, rows * d + 1, r, 1, inWasm);
        k.streamWeightedSum(rows, n, d, w, off, x, off, o, 1);
        ref.streamWeightedSum(rows, n, d, w0, off, x0, off, o0, 1);
        close(o, o0, 1e-5, `${what} streamWeightedSum`);
        const [g, g0] = randomPair(k, rows * d, r, 1, inWasm);
        const [dW, dW0] = randomPair(k, rows * n + off, r, 1, inWasm);
        const [dX, dX0] = randomPair(k, rows * n * d + off, r, 1, inWasm);
        k.streamWeightedSumBackward(rows, n, d, w, off, x, off, g, 0, dW, off, dX, off);
        ref.streamWeightedSumBackward(rows, n, d, w0, off, x0, off, g0, 0, dW0, off, dX0, off);
        close(dW, dW0, 1e-5, `${what} streamWeightedSumBackward dW`);
        close(dX, dX0, 1e-5, `${what} streamWeightedSumBackward dX`);
        k.streamWeightedSumBackward(rows, n, d, w, off, x, off, g, 0, null, 0, dX, off);
        ref.streamWeightedSumBackward(rows, n, d, w0, off, x0, off, g0, 0, null, 0, dX0, off);
        close(dX, dX0, 1e-5, `${what} streamWeightedSumBackward dX only`);

        const [h, h0] = randomPair(k, rows * n * n + off, r, 1, inWasm);
        const [y, y0] = randomPair(k, rows * d, r, 1, inWasm);
        const [mo, mo0] = randomPair(k, rows * n * d + 1, r, 1, inWasm);
        k.streamMixForward(rows, n, d, h, off, x, off, w, off, y, 0, mo, 1);
        ref.streamMixForward(rows, n, d, h0, off, x0, off, w0, off, y0, 0, mo0, 1);
        close(mo, mo0, 1e-5, `${what} streamMixForward`);
        const [gm, gm0] = randomPair(k, rows * n * d, r, 1, inWasm);
        const [dH, dH0] = randomPair(k, rows * n * n, r, 1, inWasm);
        const [dP, dP0] = randomPair(k, rows * n, r, 1, inWasm);
        const [dY, dY0] = randomPair(k, rows * d + off, r, 1, inWasm);
        k.streamMixBackward(rows, n, d, h, off, x, off, w, off, y, 0, gm, 0, dH, 0, dX, off, dP, 0, dY, off);
        ref.streamMixBackward(rows, n, d, h0, off, x0, off, w0, off, y0, 0, gm0, 0, dH0, 0, dX0, off, dP0, 0, dY0, off);
        close(dH, dH0, 1e-5, `${what} streamMixBackward dHRes`);
        close(dX, dX0, 1e-5, `${what} streamMixBackward dX`);
        close(dP, dP0, 1e-5, `${what} streamMixBackward dHPost`);
        close(dY, dY0, 1e-5, `${what} streamMixBackward dY`);
        k.streamMixBackward(rows, n, d, h, off, x, off, w, off, y, 0, gm, 0, null, 0, dX, off, null, 0, null, 0);
        ref.streamMixBackward(rows, n, d, h0, off, x0, off, w0, off, y0, 0, gm0, 0, null, 0, dX0, off, null, 0, null, 0);
        close(dX, dX0, 1e-5, `${what} streamMixBackward dX only`);
      }
    }
  }
}

testWasmVariants((variant) => `wasm mHC kernels (${variant}) match the reference`, (k) => {
  suite(k, true);
});

test('wasm mHC kernels: plain arrays fall back to the reference', () => {
  suite(createWasmKernelsSync(), false);
});

test('wasm mHC kernels: out-of-range offsets throw', () => {
  const k = createWasmKernelsSync();
  const a = k.alloc(32), b = k.alloc(32);
  assert.throws(() => k.sinkhornForward(2, 4, 20, a, 1, b, 0), RangeError);
  assert.throws(() => k.sinkhornBackward(1, 4, 0, a, 0, a, 0, b, 0), RangeError);
  assert.throws(() => k.rmsNormForward(4, 8, a, 0, 1e-6, b, 1, a, 0), RangeError);
  assert.throws(() => k.copyBlock(4, 8, a, 0, 8, b, 1, 8), RangeError);
  assert.throws(() => k.copyBlock(2, 8, a, 0, 4, b, 0, 8), RangeError);
  assert.throws(() => k.streamMixBackward(1, 4, 8, a, 0, a, 0, a, 0, a, 0, a, 0, null, 0, b, 1, null, 0, null, 0), RangeError);
});

const L = 10;
const ITEMS = 30;

const batch = (rng: Rng) => leftPaddedBatch([10, 1, 5, 0, 9, 3], rng, L, ITEMS);

/**
 * SASRec-mHC (n = 3, gates 0.3 so that every mHC parameter matters) on backend k: the losses of 4 Adam
 * steps, then every parameter's gradient of one more batch.
 */
function trainMHC(k: Kernels): { losses: number[]; grads: Map<string, Float32Array> } {
  setKernels(k);
  const tape = new Tape();
  const prev = setTape(tape);
  try {
    const model = new SASRec(
      { itemNum: ITEMS, maxlen: L, hiddenUnits: 8, numBlocks: 2, numHeads: 1, dropoutRate: 0.3, mhc: { expansionRate: 3, sinkhornIter: 20, initGate: 0.3 } },
      { seed: 5 },
    );
    const adam = new Adam(model.namedParameters(), { lr: 0.01, betas: [0.9, 0.98] });
    const rng = new Rng(11);
    const losses: number[] = [];
    for (let s = 0; s < 4; s++) losses.push(trainStep(model, adam, batch(rng)));
    adam.zeroGrad();
    tape.reset();
    tape.backward(model.loss(batch(rng)));
    const grads = new Map(model.namedParameters().map(([n, p]) => [n, p.grad!.slice()] as const));
    tape.reset();
    return { losses, grads };
  } finally {
    setTape(prev);
    setKernels(referenceKernels);
  }
}

test('SASRec-mHC on the wasm backend follows the reference backend (losses of 4 Adam steps, then every gradient)', () => {
  const w = trainMHC(createWasmKernelsSync());
  const r = trainMHC(referenceKernels);
  close(Float32Array.from(w.losses), Float32Array.from(r.losses), 1e-4, 'loss');
  // Some gradients are zero up to rounding (H_res of the last connection: the stream mean ignores a
  // column-stochastic mix; H_pre of the first: LayerNorm ignores the scale of equal streams), and
  // float32 rounding noise through 20 Sinkhorn iterations is ~1e-4 relative: errors are measured
  // against the largest gradient of the tensor and of the whole model.
  let global = 0;
  for (const g of r.grads.values()) for (const v of g) global = Math.max(global, Math.abs(v));
  let mhcTensors = 0;
  for (const [name, g] of r.grads) {
    const got = w.grads.get(name)!;
    let scale = 0;
    for (const v of g) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < g.length; i++) {
      const err = Math.abs(got[i] - g[i]);
      if (!(err <= 2e-3 * (Math.abs(g[i]) + 0.01 * scale) + 1e-5 * global)) assert.fail(`${name}[${i}]: wasm ${got[i]}, reference ${g[i]}`);
    }
    if (name.startsWith('mhc_layers.')) mhcTensors++;
  }
  assert.equal(mhcTensors, 2 * 2 * 9);
});

for (const backend of ['reference', 'wasm'] as const) {
  test(`linearStacked == one linear op per weight, forward and every gradient (${backend})`, () => {
    const k = backend === 'wasm' ? createWasmKernelsSync() : referenceKernels;
    setKernels(k);
    const tape = new Tape();
    const prev = setTape(tape);
    try {
      const rng = new Rng(4);
      const param = (shape: number[]) => new Parameter(Float32Array.from({ length: shape[0] * shape[1] }, () => rng.normal()), shape);
      const x = param([7, 6]);
      const ws = [param([2, 6]), param([3, 6]), param([4, 6])];
      const seeds = ws.map((w) => Float32Array.from({ length: 7 * w.shape[0] }, () => rng.normal()));
      // x enters through a reshape: a non-leaf input whose gradient linearStacked writes first
      const run = (f: (xin: Tensor) => Tensor[]) => {
        tape.reset();
        for (const p of [x, ...ws]) p.grad = null;
        const outs = f(ops.reshape(x, [7, 6]));
        // loss = Σ_k <seed_k, out_k>: its gradient seeds every output at once
        const loss = outs.map((o, i) => ops.rowDot(ops.reshape(o, [1, o.size]), new Parameter(seeds[i], [1, o.size]))).reduce((a, b) => ops.add(a, b));
        tape.backward(loss);
        const res = { outs: outs.map((o) => o.data.slice(0, o.size)), grads: [x, ...ws].map((p) => p.grad!.slice()) };
        tape.reset();
        return res;
      };
      const separate = run((xin) => ws.map((w) => ops.linear(xin, w, null)));
      const stacked = run((xin) => mhc.linearStacked(xin, ws));
      for (const [i, o] of stacked.outs.entries()) close(o, separate.outs[i], 1e-5, `output ${i}`);
      for (const [i, g] of stacked.grads.entries()) close(g, separate.grads[i], 1e-5, `gradient ${i}`);
    } finally {
      setTape(prev);
      setKernels(referenceKernels);
    }
  });
}

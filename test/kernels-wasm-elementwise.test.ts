/**
 * The wasm element-wise, row, LayerNorm, loss and Adam kernels against the reference kernels on
 * random inputs: sizes around the vector width (0, 1, 3, 4, 5, 50, 1003), offsets, in-place calls,
 * dropout with the identical mask stream and generator state, and the fallback for plain arrays.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWasmKernelsSync, type WasmKernels } from '../src/kernels/wasm/index.js';
import { referenceKernels as ref } from '../src/kernels/reference/index.js';
import { rng32 } from './helpers/random.js';
import { randomPair, testWasmVariants } from './helpers/wasm.js';

const SIZES = [0, 1, 3, 4, 5, 7, 50, 1003];

function close(got: Float32Array | number[], want: Float32Array | number[], tol: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const g = got[i], w = want[i];
    if (Number.isNaN(w) && Number.isNaN(g)) continue;
    const err = Math.abs(g - w);
    if (!(err <= tol * (Math.abs(w) + 1))) assert.fail(`${what}: [${i}] got ${g}, want ${w} (err ${err})`);
  }
}

function suite(k: WasmKernels, inWasm: boolean): void {
  const r = rng32(inWasm ? 7 : 8);
  const tag = inWasm ? 'wasm' : 'plain';
  for (const n of SIZES) {
    const off = n % 3;
    const L = n + off + 2;
    for (const value of [0, -0, 1.5]) {
      const [x, x0] = randomPair(k, L, r, 1, inWasm);
      k.fill(n, value, x, off); ref.fill(n, value, x0, off);
      assert.deepEqual(x, x0, `${tag} fill ${value} n=${n}`);
    }
    // binary element-wise (writes / accumulates), and in place
    for (const name of ['add', 'mul', 'mulAcc'] as const) {
      const [a, a0] = randomPair(k, L, r, 1, inWasm), [b, b0] = randomPair(k, L, r, 1, inWasm), [o, o0] = randomPair(k, L, r, 1, inWasm);
      k[name](n, a, off, b, 1, o, off);
      ref[name](n, a0, off, b0, 1, o0, off);
      close(o, o0, 1e-6, `${tag} ${name} n=${n}`);
      k[name](n, a, 0, b, 0, a, 0); // in place
      ref[name](n, a0, 0, b0, 0, a0, 0);
      close(a, a0, 1e-6, `${tag} ${name} in place n=${n}`);
    }
    {
      const [x, x0] = randomPair(k, L, r, 1, inWasm), [y, y0] = randomPair(k, L, r, 1, inWasm);
      k.axpy(n, -0.7, x, off, y, 1); ref.axpy(n, -0.7, x0, off, y0, 1);
      close(y, y0, 1e-6, `${tag} axpy n=${n}`);
      k.scale(n, 1.3, x, off, y, off); ref.scale(n, 1.3, x0, off, y0, off);
      close(y, y0, 1e-6, `${tag} scale n=${n}`);
      k.relu(n, x, off, y, 0); ref.relu(n, x0, off, y0, 0);
      close(y, y0, 1e-6, `${tag} relu n=${n}`); // (elements past n keep scale's 1-ulp differences)
      const [dy, dy0] = randomPair(k, L, r, 1, inWasm), [dx, dx0] = randomPair(k, L, r, 1, inWasm);
      k.reluBackward(n, y, 0, dy, off, dx, 1); ref.reluBackward(n, y0, 0, dy0, off, dx0, 1);
      close(dx, dx0, 1e-6, `${tag} reluBackward n=${n}`);
      // exact GELU over [−12, 12) (both tails, the exp clamp), and its backward; the wasm erfc is the reference's fit in float32
      const [g, g0] = randomPair(k, L, r, 12, inWasm), [gy, gy0] = randomPair(k, L, r, 1, inWasm);
      k.geluForward(n, g, off, gy, 1); ref.geluForward(n, g0, off, gy0, 1);
      close(gy, gy0, 1e-6, `${tag} geluForward n=${n}`);
      const [gd, gd0] = randomPair(k, L, r, 1, inWasm), [gdx, gdx0] = randomPair(k, L, r, 1, inWasm);
      k.geluBackward(n, g, off, gd, 0, gdx, 1); ref.geluBackward(n, g0, off, gd0, 0, gdx0, 1);
      close(gdx, gdx0, 1e-6, `${tag} geluBackward n=${n}`);
      assert.ok(Math.abs(k.sumSquares(n, x, off) - ref.sumSquares(n, x0, off)) <= 1e-6 * (1 + n), `${tag} sumSquares n=${n}`);
    }
    // dropout: identical masks and generator state, and in place
    for (const p of [0.1, 0.2, 0.5]) { // (keep 1/0.9 is not a float32: the float64 product path)
      const [x, x0] = randomPair(k, L, r, 1, inWasm), [m, m0] = randomPair(k, L, r, 1, inWasm), [o, o0] = randomPair(k, L, r, 1, inWasm);
      const s1 = Uint32Array.from([1, 2, 3, n + 4]), s2 = Uint32Array.from(s1);
      k.dropout(n, p, s1, x, off, m, 1, o, off); ref.dropout(n, p, s2, x0, off, m0, 1, o0, off);
      assert.deepEqual([...s1], [...s2], `${tag} dropout state n=${n}`);
      assert.deepEqual([...m], [...m0], `${tag} dropout mask n=${n}`);
      assert.deepEqual([...o], [...o0], `${tag} dropout out n=${n}`);
      k.dropout(n, p, s1, x, 0, m, 0, x, 0); ref.dropout(n, p, s2, x0, 0, m0, 0, x0, 0);
      assert.deepEqual([...x], [...x0], `${tag} dropout in place n=${n}`);
    }
    // rows: n rows × dim
    for (const dim of [1, 4, 5, 50]) {
      const rows = n;
      const [a, a0] = randomPair(k, rows * dim + 2, r, 1, inWasm), [b, b0] = randomPair(k, rows * dim + 2, r, 1, inWasm);
      const [o, o0] = randomPair(k, rows + 3, r, 1, inWasm);
      k.rowDot(rows, dim, a, 1, b, 2, o, 3); ref.rowDot(rows, dim, a0, 1, b0, 2, o0, 3);
      close(o, o0, 1e-5, `${tag} rowDot ${rows}x${dim}`);
      o[3] = 0; o0[3] = 0; // a zero scale is skipped
      k.rowScaleAcc(rows, dim, o, 3, a, 1, b, 0); ref.rowScaleAcc(rows, dim, o0, 3, a0, 1, b0, 0);
      close(b, b0, 1e-6, `${tag} rowScaleAcc ${rows}x${dim}`);
      const [bias, bias0] = randomPair(k, dim + 1, r, 1, inWasm);
      k.addBias(rows, dim, bias, 1, a, 2); ref.addBias(rows, dim, bias0, 1, a0, 2);
      close(a, a0, 1e-6, `${tag} addBias ${rows}x${dim}`);
      const [cs, cs0] = randomPair(k, dim + 2, r, 1, inWasm);
      k.colSumAcc(rows, dim, a, 1, cs, 2); ref.colSumAcc(rows, dim, a0, 1, cs0, 2);
      close(cs, cs0, 1e-6, `${tag} colSumAcc ${rows}x${dim}`);
      // gather / scatter with repeated and skipped ids
      const tableRows = 9;
      const [tab, tab0] = randomPair(k, tableRows * dim + 1, r, 1, inWasm);
      const idx = new Int32Array(rows + 1);
      for (let i = 0; i < idx.length; i++) idx[i] = Math.floor(r() * tableRows);
      const [g, g0] = randomPair(k, rows * dim, r, 1, inWasm);
      for (const alpha of [1, Math.sqrt(50)]) {
        k.gatherRows(rows, dim, tab, 1, idx, 1, alpha, g, 0); ref.gatherRows(rows, dim, tab0, 1, idx, 1, alpha, g0, 0);
        close(g, g0, 1e-6, `${tag} gatherRows ${rows}x${dim} α=${alpha}`);
        k.scatterAddRows(rows, dim, g, 0, idx, 1, alpha, 3, tab, 1); ref.scatterAddRows(rows, dim, g0, 0, idx, 1, alpha, 3, tab0, 1);
        close(tab, tab0, 1e-5, `${tag} scatterAddRows ${rows}x${dim} α=${alpha}`);
      }
      // each row against its own K table rows (repeats, the skipped row 3), and the backward's gradient subsets
      const [fr, fr0] = randomPair(k, rows * dim + 1, r, 1, inWasm), [tb, tb0] = randomPair(k, tableRows * dim + 1, r, 1, inWasm);
      for (const K of [1, 3, 4, 9]) {
        const ids = Int32Array.from({ length: rows * K + 2 }, () => Math.floor(r() * tableRows));
        const [sc, sc0] = randomPair(k, rows * K + 1, r, 1, inWasm);
        k.gatherDot(rows, K, dim, fr, 1, tb, 1, ids, 2, sc, 1); ref.gatherDot(rows, K, dim, fr0, 1, tb0, 1, ids, 2, sc0, 1);
        close(sc, sc0, 1e-5, `${tag} gatherDot ${rows}x${K}x${dim}`);
        for (const [wantF, wantT] of [[true, true], [true, false], [false, true]]) {
          const [df, df0] = randomPair(k, rows * dim + 1, r, 1, inWasm), [dt, dt0] = randomPair(k, tableRows * dim + 1, r, 1, inWasm);
          const [dy, dy0] = randomPair(k, rows * K + 1, r, 1, inWasm);
          k.gatherDotBackward(rows, K, dim, fr, 1, tb, 1, ids, 2, dy, 1, 3, wantF ? df : null, 1, wantT ? dt : null, 1);
          ref.gatherDotBackward(rows, K, dim, fr0, 1, tb0, 1, ids, 2, dy0, 1, 3, wantF ? df0 : null, 1, wantT ? dt0 : null, 1);
          close(df, df0, 1e-5, `${tag} gatherDotBackward df ${rows}x${K}x${dim}`);
          close(dt, dt0, 1e-5, `${tag} gatherDotBackward dTable ${rows}x${K}x${dim}`);
        }
      }
      // LayerNorm (eps 1e-8 as SASRec), forward and backward with every gradient subset
      const [gam, gam0] = randomPair(k, dim + 1, r, 1, inWasm), [bet, bet0] = randomPair(k, dim + 1, r, 1, inWasm);
      const [y, y0] = randomPair(k, rows * dim + 1, r, 1, inWasm);
      const [mu, mu0] = randomPair(k, rows + 1, r, 1, inWasm), [rs, rs0] = randomPair(k, rows + 1, r, 1, inWasm);
      k.layerNormForward(rows, dim, a, 1, gam, 1, bet, 0, 1e-8, y, 1, mu, rs, 1);
      ref.layerNormForward(rows, dim, a0, 1, gam0, 1, bet0, 0, 1e-8, y0, 1, mu0, rs0, 1);
      close(y, y0, 2e-5, `${tag} layerNormForward ${rows}x${dim}`);
      close(mu, mu0, 1e-6, `${tag} layerNorm mean ${rows}x${dim}`);
      close(rs, rs0, 2e-5, `${tag} layerNorm rstd ${rows}x${dim}`);
      const [dy, dy0] = randomPair(k, rows * dim, r, 1, inWasm);
      for (const [wantDx, wantDg, wantDb] of [[true, true, true], [true, false, false], [false, true, true], [false, false, true]]) {
        const [dx, dx0] = randomPair(k, rows * dim + 1, r, 1, inWasm);
        const [dg, dg0] = randomPair(k, dim + 1, r, 1, inWasm), [db, db0] = randomPair(k, dim + 1, r, 1, inWasm);
        k.layerNormBackward(rows, dim, a, 1, gam, 1, mu, rs, 1, dy, 0, wantDx ? dx : null, 1, wantDg ? dg : null, 0, wantDb ? db : null, 1);
        ref.layerNormBackward(rows, dim, a0, 1, gam0, 1, mu0, rs0, 1, dy0, 0, wantDx ? dx0 : null, 1, wantDg ? dg0 : null, 0, wantDb ? db0 : null, 1);
        const ts = Math.max(1, ...Array.from(dx0, Math.abs));
        close(dx, dx0, 5e-5 * ts, `${tag} layerNormBackward dx ${rows}x${dim}`);
        close(dg, dg0, 2e-5, `${tag} layerNormBackward dGamma ${rows}x${dim}`);
        close(db, db0, 2e-5, `${tag} layerNormBackward dBeta ${rows}x${dim}`);
      }
    }
    // BCE with a mask
    {
      const [pos, pos0] = randomPair(k, n + 1, r, 30, inWasm), [neg, neg0] = randomPair(k, n + 1, r, 30, inWasm);
      const target = new Int32Array(n + 1);
      for (let i = 0; i < target.length; i++) target[i] = r() < 0.3 ? 0 : 1 + Math.floor(r() * 5);
      const s = k.bceLogitsMaskedSum(n, pos, 1, neg, 0, target, 1), s0 = ref.bceLogitsMaskedSum(n, pos0, 1, neg0, 0, target, 1);
      assert.ok(Math.abs(s - s0) <= 1e-9 * (1 + Math.abs(s0)), `${tag} bce sum n=${n}: ${s} vs ${s0}`);
      const [dp, dp0] = randomPair(k, n + 1, r, 1, inWasm), [dn, dn0] = randomPair(k, n + 1, r, 1, inWasm);
      k.bceLogitsMaskedBackward(n, pos, 1, neg, 0, target, 1, 0.25, dp, 0, dn, 1);
      ref.bceLogitsMaskedBackward(n, pos0, 1, neg0, 0, target, 1, 0.25, dp0, 0, dn0, 1);
      close(dp, dp0, 1e-7, `${tag} bce dPos n=${n}`);
      close(dn, dn0, 1e-7, `${tag} bce dNeg n=${n}`);
    }
    // Adam, a few steps
    {
      const [p, p0] = randomPair(k, L, r, 1, inWasm), [m, m0] = randomPair(k, L, r, 0, inWasm), [v, v0] = randomPair(k, L, r, 0, inWasm);
      for (let t = 1; t <= 3; t++) {
        const [g, g0] = randomPair(k, L, r, t === 2 ? 1e-3 : 1, inWasm);
        if (n > 2) { g[off + 1] = 0; g0[off + 1] = 0; }
        const bc1 = 1 - 0.9 ** t, bc2 = 1 - 0.98 ** t;
        k.adamStep(n, p, off, g, off, m, off, v, off, 0.001, 0.9, 0.98, 1e-8, bc1, bc2);
        ref.adamStep(n, p0, off, g0, off, m0, off, v0, off, 0.001, 0.9, 0.98, 1e-8, bc1, bc2);
      }
      close(p, p0, 1e-6, `${tag} adam p n=${n}`);
      close(m, m0, 1e-6, `${tag} adam m n=${n}`);
      close(v, v0, 1e-6, `${tag} adam v n=${n}`);
    }
  }
}

testWasmVariants((variant) => `wasm element-wise kernels (${variant}) match the reference`, (k) => {
  suite(k, true);
});

test('wasm element-wise kernels: plain arrays fall back to the reference', () => {
  suite(createWasmKernelsSync(), false);
});

test('wasm element-wise kernels: out-of-range offsets and indices throw', () => {
  const k = createWasmKernelsSync();
  const a = k.alloc(8), b = k.alloc(8);
  assert.throws(() => k.add(8, a, 1, b, 0, b, 0), RangeError);
  assert.throws(() => k.gatherRows(1, 4, a, 0, Int32Array.from([2]), 0, 1, b, 0), RangeError);
  assert.throws(() => k.scatterAddRows(1, 4, b, 0, Int32Array.from([-1]), 0, 1, 0, a, 0), RangeError);
  assert.throws(() => k.gatherDot(1, 2, 4, a, 0, b, 0, Int32Array.from([0, 2]), 0, a, 0), RangeError);
  assert.throws(() => k.gatherDotBackward(1, 1, 4, a, 0, b, 0, Int32Array.from([1]), 0, a, 0, -1, null, 0, k.alloc(4), 0), RangeError);
});

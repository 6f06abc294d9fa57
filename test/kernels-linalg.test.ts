/**
 * The blocked SPD inverse (kernels/linalg.ts): against a float64 Gauss–Jordan inverse with partial
 * pivoting, on the reference kernels and on both wasm builds, for block sizes that divide n, that do
 * not, and that exceed it; and a matrix that is not positive definite is refused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { referenceKernels } from '../src/kernels/index.js';
import { createSymmetricPanels, invertSymmetricPanels, panelAddLower, panelGet, symmetricPanelFloats } from '../src/kernels/linalg.js';
import type { Kernels } from '../src/kernels/types.js';
import { testWasmVariants } from './helpers/wasm.js';
import { inverse64 } from './helpers/linalg.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A random SPD matrix XᵀX + λI (float64, row-major), X sparse 0/1 like an interaction matrix. */
function randomSpd(n: number, seed: number, lambda: number): Float64Array {
  const r = rng(seed);
  const users = 3 * n;
  const G = new Float64Array(n * n);
  for (let u = 0; u < users; u++) {
    const items: number[] = [];
    for (let i = 0; i < n; i++) if (r() < 0.2) items.push(i);
    for (const i of items) for (const j of items) G[i * n + j] += 1;
  }
  for (let i = 0; i < n; i++) G[i * n + i] += lambda;
  return G;
}

function checkInverse(k: Kernels, n: number, block: number, seed: number): void {
  const G = randomSpd(n, seed, 2);
  const s = createSymmetricPanels(n, block);
  assert.equal(s.panels.reduce((a, p) => a + p.length, 0), symmetricPanelFloats(n, block));
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) panelAddLower(s, i, j, G[i * n + j]);
  invertSymmetricPanels(k, s);
  const want = inverse64(G, n);
  let maxAbs = 0;
  for (const v of want) maxAbs = Math.max(maxAbs, Math.abs(v));
  let worst = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) worst = Math.max(worst, Math.abs(panelGet(s, i, j) - want[i * n + j]));
  }
  assert.ok(worst <= 2e-5 * maxAbs, `n ${n} block ${block}: max error ${worst} vs max |P| ${maxAbs}`);
  // and it is an inverse: G·P ≈ I
  let worstI = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let t = 0; t < n; t++) acc += G[i * n + t] * panelGet(s, t, j);
      worstI = Math.max(worstI, Math.abs(acc - (i === j ? 1 : 0)));
    }
  }
  assert.ok(worstI < 1e-3, `n ${n} block ${block}: ‖G·P − I‖max = ${worstI}`);
}

const CASES: Array<[n: number, block: number]> = [[1, 4], [7, 64], [24, 8], [37, 8], [50, 16], [64, 64], [90, 32]];

test('invertSymmetricPanels (reference kernels) matches a float64 inverse', () => {
  for (const [n, b] of CASES) checkInverse(referenceKernels, n, b, n * 31 + b);
});

testWasmVariants((v) => `invertSymmetricPanels (wasm ${v}) matches a float64 inverse`, (k) => {
  for (const [n, b] of CASES) checkInverse(k, n, b, n * 31 + b);
});

test('invertSymmetricPanels refuses a matrix that is not positive definite', () => {
  const s = createSymmetricPanels(3, 2);
  // [[1,2,0],[2,1,0],[0,0,1]]: eigenvalues 3, −1, 1
  panelAddLower(s, 0, 0, 1);
  panelAddLower(s, 1, 0, 2);
  panelAddLower(s, 1, 1, 1);
  panelAddLower(s, 2, 2, 1);
  assert.throws(() => invertSymmetricPanels(referenceKernels, s), /not positive definite/);
});

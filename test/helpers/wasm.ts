/** Shared pieces of the wasm kernel tests. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTape, Tape } from '../../src/engine/tape.js';
import { referenceKernels, setKernels } from '../../src/kernels/index.js';
import { createWasmKernelsSync, relaxedSimdSupported, type WasmKernels, type WasmVariant } from '../../src/kernels/wasm/index.js';

/**
 * Registers one test per wasm build ('simd', then 'relaxed-simd'), each running fn on fresh kernels of
 * that build; the relaxed-SIMD test is skipped where the runtime does not accept relaxed SIMD.
 */
export function testWasmVariants(title: (variant: WasmVariant) => string, fn: (k: WasmKernels) => void): void {
  for (const variant of ['simd', 'relaxed-simd'] as const) {
    const supported = variant === 'simd' || relaxedSimdSupported();
    test(title(variant), { skip: !supported && 'relaxed SIMD not enabled in this runtime' }, () => {
      fn(createWasmKernelsSync({ variant }));
    });
  }
}

/** A wasm array (or a plain one) and a plain twin with the same random contents in [−scale, scale). */
export function randomPair(k: WasmKernels, n: number, r: () => number, scale = 1, inWasm = true): [Float32Array, Float32Array] {
  const w = inWasm ? k.alloc(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) w[i] = (r() * 2 - 1) * scale;
  return [w, Float32Array.from(w)];
}

/** What a short training run reports for assertWasmFollowsReference. */
export interface KernelRun {
  readonly losses: number[];
  readonly scores: number[];
  readonly params: ReadonlyArray<readonly [string, number[]]>;
}

/**
 * Runs `train` on the reference kernels, then on fresh wasm kernels (each on a tape of its own, the
 * reference kernels restored afterwards), and asserts that the wasm run follows the reference one:
 * losses within 1e-4 (relative), scores within 1e-3 (relative to 1 + |score|), parameters within 2e-4.
 */
export function assertWasmFollowsReference(train: () => KernelRun): void {
  const run = (wasm: boolean): KernelRun => {
    setKernels(wasm ? createWasmKernelsSync() : referenceKernels);
    const prev = setTape(new Tape());
    try {
      return train();
    } finally {
      setTape(prev);
      setKernels(referenceKernels);
    }
  };
  const ref = run(false);
  const wasm = run(true);
  for (const [i, l] of ref.losses.entries()) assert.ok(Math.abs(l - wasm.losses[i]) < 1e-4 * Math.abs(l), `loss ${i}: ${wasm.losses[i]} vs ${l}`);
  for (const [i, v] of ref.scores.entries())
    assert.ok(Math.abs(v - wasm.scores[i]) < 1e-3 * (1 + Math.abs(v)), `score ${i}: ${wasm.scores[i]} vs ${v}`);
  for (const [k, [name, p]] of ref.params.entries()) {
    for (const [i, v] of p.entries()) assert.ok(Math.abs(v - wasm.params[k][1][i]) < 2e-4, `${name}[${i}]: ${wasm.params[k][1][i]} vs ${v}`);
  }
}

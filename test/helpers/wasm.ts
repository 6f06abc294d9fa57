/** Shared pieces of the wasm kernel tests. */
import { test } from 'node:test';
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

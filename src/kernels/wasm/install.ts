import v8 from 'node:v8';
import { UserError } from '../../core/errors.js';
import { getKernels, referenceKernels, setKernels } from '../index.js';
import { createWasmKernelsSync, type WasmKernels } from './index.js';

/**
 * Installs the WebAssembly kernels as the engine's (Node only; in a browser, create them with
 * createWasmKernels from ./index.js and setKernels).
 * Node 20 validates relaxed-SIMD (fused multiply-add) modules only behind this V8 flag; the kernels
 * fall back to plain SIMD where the runtime still refuses them. Returns them (for .name, a thread pool).
 */
export function useWasmKernels(): WasmKernels {
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  const kernels = createWasmKernelsSync();
  setKernels(kernels);
  return kernels;
}

/**
 * The kernels SEQREC_KERNELS names, installed unless a backend other than the reference one is
 * active already: the WebAssembly kernels by default, the plain-TypeScript reference kernels with
 * SEQREC_KERNELS=reference.
 */
export function installKernelsFromEnv(): void {
  const choice = process.env.SEQREC_KERNELS ?? 'wasm';
  if (choice === 'reference') return;
  if (choice !== 'wasm') throw new UserError(`SEQREC_KERNELS: expected wasm or reference, got "${choice}"`);
  if (getKernels() === referenceKernels) useWasmKernels();
}

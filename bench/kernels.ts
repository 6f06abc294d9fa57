import v8 from 'node:v8';
import { setKernels } from '../src/kernels/index.js';
import { createWasmKernelsSync, type WasmKernels } from '../src/kernels/wasm/index.js';

/**
 * Installs the WebAssembly kernels as the engine's, as `seqrec` does by default (src/cli/main.ts):
 * Node 20 validates relaxed-SIMD modules only behind this V8 flag. Returns them (for .name, a thread pool).
 */
export function useWasmKernels(): WasmKernels {
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  const k = createWasmKernelsSync();
  setKernels(k);
  return k;
}

import v8 from 'node:v8';
import { setKernels } from '../index.js';
import { createWasmKernelsSync, type WasmKernels } from './index.js';

/**
 * Installs the WebAssembly kernels as the engine's (Node only; the browser build creates them itself).
 * Node 20 validates relaxed-SIMD (fused multiply-add) modules only behind this V8 flag; the kernels
 * fall back to plain SIMD where the runtime still refuses them. Returns them (for .name, a thread pool).
 */
export function useWasmKernels(): WasmKernels {
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  const kernels = createWasmKernelsSync();
  setKernels(kernels);
  return kernels;
}

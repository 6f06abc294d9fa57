import { setKernels } from '../kernels/index.js';
import { createWasmKernels } from '../kernels/wasm/index.js';

let kernelsReady: Promise<string> | undefined;

/** Installs the WebAssembly SIMD kernels (one thread) once; resolves to their name. */
export function initKernels(): Promise<string> {
  kernelsReady ??= createWasmKernels().then((kernels) => {
    setKernels(kernels);
    return kernels.name;
  });
  return kernelsReady;
}

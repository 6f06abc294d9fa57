/**
 * The active kernel backend. Ops look it up on every call, so switching backends (e.g. after the
 * WebAssembly module has loaded) takes effect for everything computed afterwards. Buffers allocated by
 * one backend should not be handed to another (a wasm backend computes on views of its own memory).
 */
import type { Kernels } from './types.js';
import { referenceKernels } from './reference/index.js';

export type { Kernels } from './types.js';
export { referenceKernels } from './reference/index.js';

let active: Kernels = referenceKernels;

export function getKernels(): Kernels {
  return active;
}

export function setKernels(kernels: Kernels): void {
  active = kernels;
}

/**
 * Hands a buffer from alloc() back to `backend` (default: the active one) for reuse where that backend
 * manages its own memory (wasm: its linear memory never shrinks, so a buffer not handed back stays
 * taken for the life of the process); elsewhere the garbage collector takes it. Buffers the backend
 * does not own are left alone. The caller must not touch the buffer afterwards.
 */
export function releaseBuffer(buffer: Float32Array, backend: Kernels = active): void {
  const k = backend as Kernels & { free?(a: Float32Array): void; arena?: { owns(a: ArrayBufferView): boolean } };
  if (k.free && k.arena?.owns(buffer)) k.free(buffer);
}

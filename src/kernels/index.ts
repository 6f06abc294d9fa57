/**
 * The active kernel backend. Ops look it up on every call, so switching backends (e.g. after the
 * WebAssembly module has loaded) takes effect for everything computed afterwards. Buffers allocated by
 * one backend should not be handed to another (a wasm backend computes on views of its own memory).
 */
import type { Kernels } from './types.js';
import { referenceKernels } from './reference.js';

export type { Kernels } from './types.js';
export { referenceKernels } from './reference.js';

let active: Kernels = referenceKernels;

export function getKernels(): Kernels {
  return active;
}

export function setKernels(kernels: Kernels): void {
  active = kernels;
}

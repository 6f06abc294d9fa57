/**
 * The wasm backend's non-GEMM kernel groups (attention, element-wise, mHC, time-aware attention,
 * full-catalogue softmax),
 * merged over the base kernels by index.ts. Each group lives in its own file; this only wires them
 * to one module instance, one scratch block and the thread pool's slot.
 */
import type { Kernels } from '../types.js';
import type { WasmArena } from './arena.js';
import { attentionKernels, type AttentionExports } from './attention.js';
import { elementwiseKernels, type ElementwiseExports } from './elementwise.js';
import { mhcKernels, type MHCExports } from './mhc.js';
import { softmaxKernels, type SoftmaxExports } from './softmax.js';
import { timeKernels, type TimeExports } from './time.js';
import { Scratch } from './scratch.js';
import { withRangeSplit, type ParallelSlot } from './parallel.js';

/** The wasm exports the non-GEMM kernel groups call. */
export type KernelGroupExports = AttentionExports & ElementwiseExports & MHCExports & TimeExports & SoftmaxExports;

export function kernelGroups(exports: unknown, arena: WasmArena, base: Kernels, parallel?: ParallelSlot): Partial<Kernels> {
  const all = exports as KernelGroupExports;
  const ex = withRangeSplit(all, parallel); // big element-wise calls: split by range
  const scratch = new Scratch(arena);
  return {
    ...attentionKernels(ex, arena, scratch, base, parallel),
    ...elementwiseKernels(ex, arena, scratch, base, parallel),
    ...mhcKernels(all, arena, scratch, base),
    ...timeKernels(all, arena, scratch, base),
    ...softmaxKernels(all, arena, scratch, base),
  };
}

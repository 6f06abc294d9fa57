/**
 * The wasm backend's non-GEMM kernels (attention, element-wise, …), merged over the base kernels
 * by index.ts. Each group lives in its own file; this only wires them to one module instance.
 */
import type { Kernels } from '../types.js';
import type { WasmArena } from './arena.js';
import { attentionKernels, type AttentionExports } from './attention.js';
import { elementwiseKernels, type ElementwiseExports } from './elementwise.js';
import { mhcKernels, type MHCExports } from './mhc.js';
import { timeKernels, type TimeExports } from './time.js';
import { Scratch } from './scratch.js';
import { withRangeSplit, type ParallelSlot } from './parallel.js';

export type ExtraExports = AttentionExports & ElementwiseExports;

export function extraKernels(exports: unknown, arena: WasmArena, base: Kernels, parallel?: ParallelSlot): Partial<Kernels> {
  const ex = withRangeSplit(exports as ExtraExports, parallel); // big element-wise calls: split by range
  const scratch = new Scratch(arena);
  return {
    ...attentionKernels(ex, arena, scratch, base, parallel),
    ...elementwiseKernels(ex, arena, scratch, base),
    ...mhcKernels(exports as MHCExports, arena, scratch, base),
    ...timeKernels(exports as TimeExports, arena, scratch, base),
  };
}

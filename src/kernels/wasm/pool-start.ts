/** Starting the wasm thread pool (pool.ts) on a backend in Node; the default thread count. */
import { availableParallelism } from 'node:os';
import type { WasmKernels } from './index.js';
import { startPool, type ThreadPoolOptions, type WasmThreadPool } from './pool.js';
import { nodeThreadHost } from './pool-node.js';

/** `os.availableParallelism()`: the default thread count. */
export function defaultThreads(): number {
  return Math.max(1, availableParallelism());
}

/** Starts a pool of `threads` threads on worker_threads; see startPool. */
export function startThreadPool(k: WasmKernels, threads: number, options: ThreadPoolOptions = {}): Promise<WasmThreadPool> {
  return startPool(k, threads, nodeThreadHost, options);
}

/**
 * For the CLI: `threads` threads on the active kernels when they are the wasm backend and
 * threads > 1 (else nothing to do: null). A pool already attached (a run inside a run) is left as
 * it is (null: the caller closes nothing).
 */
export async function startKernelThreads(k: object, threads: number, options: ThreadPoolOptions = {}): Promise<WasmThreadPool | null> {
  if (threads <= 1 || !isWasmKernels(k) || k.parallel.runner !== null) return null;
  return startThreadPool(k, threads, options);
}

function isWasmKernels(k: object): k is WasmKernels {
  return 'parallel' in k && 'module' in k && 'arena' in k && 'memory' in k;
}

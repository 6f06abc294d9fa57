/** Starting the wasm thread pool (pool.ts) on a backend; the default thread count. */
import { availableParallelism } from 'node:os';
import type { WasmKernels } from './index.js';
import { WasmThreadPool, type ThreadPoolOptions } from './pool.js';

/** `os.availableParallelism()`: the default thread count. */
export function defaultThreads(): number {
  return Math.max(1, availableParallelism());
}

/**
 * Starts a pool of `threads` threads (the caller + threads − 1 workers) on the backend's memory
 * and attaches it (k.parallel.runner). threads = 1 attaches nothing. `close()` detaches and stops.
 */
export async function startThreadPool(k: WasmKernels, threads: number, options: ThreadPoolOptions = {}): Promise<WasmThreadPool> {
  if (k.parallel.runner !== null) throw new Error('wasm thread pool: the kernels already have one');
  const pool = new WasmThreadPool(k, threads, options);
  try {
    await pool.ready();
  } catch (e) {
    await pool.close();
    throw e;
  }
  if (threads > 1) k.parallel.runner = pool;
  return pool;
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

/**
 * The kernels a page (or a Web Worker) computes with: the wasm SIMD backend, and on a
 * cross-origin-isolated page a thread pool of Web Workers on its shared memory (the same splits as
 * Node's `--threads`, bit-identical results). A page that is not isolated cannot share memory with
 * workers: it runs on one thread.
 */
import { UserError } from '../core/errors.js';
import { setKernels } from '../kernels/index.js';
import { createWasmKernels } from '../kernels/wasm/index.js';
import { startPool, type ThreadPoolOptions, type WasmThreadPool } from '../kernels/wasm/pool.js';
import { pageThreads, webThreadHost } from '../kernels/wasm/pool-web.js';

export type { ThreadPoolOptions } from '../kernels/wasm/pool.js';

export interface KernelOptions {
  /**
   * Threads, the calling one included (default: the page's cores, at most 4, when it is
   * cross-origin isolated, else 1; should the pool not start, one thread and a console warning).
   * More than 1 asked for on a page that is not isolated, or a pool asked for that does not start, is an error.
   */
  readonly threads?: number;
  /** When a call is split across the threads (size floors, measured choice); Node's defaults. */
  readonly pool?: ThreadPoolOptions;
}

/** Which kernels run, on how many threads, and how many calls were split across them so far. */
export interface KernelsInfo {
  /** 'wasm-relaxed-simd' or 'wasm-simd' */
  readonly name: string;
  readonly threads: number;
  readonly splits: { readonly gemm: number; readonly attnForward: number; readonly attnBackward: number; readonly range: number };
}

let kernelsReady: Promise<() => KernelsInfo> | undefined;

async function install(options: KernelOptions): Promise<() => KernelsInfo> {
  const threads = options.threads ?? pageThreads();
  if (!(Number.isInteger(threads) && threads >= 1)) throw new UserError(`threads must be a positive integer, got ${threads}`);
  if (threads > 1 && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated !== true) {
    throw new UserError(
      `threads ${threads}: the page is not cross-origin isolated (serve it with the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp), so its workers cannot share memory`,
    );
  }
  const kernels = await createWasmKernels();
  let pool: WasmThreadPool | null = null;
  let used = threads;
  if (threads > 1) {
    try {
      pool = await startPool(kernels, threads, webThreadHost, options.pool);
    } catch (e) {
      if (options.threads !== undefined) throw e;
      console.warn(`seqrec: running on one thread, the thread pool did not start (${(e as Error).message})`);
      used = 1;
    }
  }
  setKernels(kernels);
  const none = { gemm: 0, attnForward: 0, attnBackward: 0, range: 0 };
  return () => ({ name: kernels.name, threads: used, splits: { ...(pool?.splits ?? none) } });
}

/**
 * Installs the kernels once (later calls get the first call's kernels, whatever their options);
 * resolves to what was installed.
 */
export async function initKernels(options: KernelOptions = {}): Promise<KernelsInfo> {
  kernelsReady ??= install(options).catch((e: unknown) => {
    kernelsReady = undefined;
    throw e;
  });
  return (await kernelsReady)();
}

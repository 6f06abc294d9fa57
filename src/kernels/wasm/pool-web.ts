/**
 * The thread pool's browser host: each worker a Web Worker from a Blob URL of WEB_WORKER_SRC, sent
 * the compiled module and the shared memory in its first message. Sharing the memory needs a
 * cross-origin-isolated page (COOP same-origin + COEP require-corp); `pageThreads()` says how
 * many threads the page may use.
 */
import type { PoolThread, PoolThreadHost } from './pool.js';
import { WEB_WORKER_SRC, type PoolWorkerData } from './pool-worker.js';

interface WebScope {
  crossOriginIsolated?: boolean;
  navigator?: { hardwareConcurrency?: number };
  WorkerGlobalScope?: unknown;
}

/** Threads a page may use: its cores (at most `max`) when it is cross-origin isolated, else 1. */
export function pageThreads(max = 4): number {
  const scope = globalThis as WebScope;
  if (scope.crossOriginIsolated !== true) return 1;
  return Math.max(1, Math.min(max, scope.navigator?.hardwareConcurrency ?? 1));
}

let workerUrl: string | undefined;

function spawn(data: PoolWorkerData, onError: (message: string) => void): PoolThread {
  workerUrl ??= URL.createObjectURL(new Blob([WEB_WORKER_SRC], { type: 'text/javascript' }));
  const worker = new Worker(workerUrl);
  const ready = new Promise<void>((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<unknown>) => {
      const m = e.data;
      if (m === 'ready') return resolve();
      if (typeof m === 'object' && m !== null && 'error' in m) {
        const message = String((m as { error: unknown }).error);
        onError(message);
        reject(new Error(`wasm thread pool: ${message}`));
      }
    };
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      onError(e.message);
      reject(new Error(`wasm thread pool: a worker failed: ${e.message}`));
    };
  });
  worker.postMessage(data);
  return {
    ready,
    terminate: async () => worker.terminate(),
  };
}

/** Web Workers; the calling thread sleeps in Atomics.wait only inside a worker (a page's main thread spins). */
export const webThreadHost: PoolThreadHost = {
  spawn,
  canBlock: typeof (globalThis as WebScope).WorkerGlobalScope !== 'undefined',
};

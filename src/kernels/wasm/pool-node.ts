/** The thread pool's Node host: each worker an eval worker_thread, unref'd once up (it never keeps the process alive). */
import { Worker } from 'node:worker_threads';
import type { PoolThread, PoolThreadHost } from './pool.js';
import { NODE_WORKER_SRC, type PoolWorkerData } from './pool-worker.js';

function spawn(data: PoolWorkerData, onError: (message: string) => void): PoolThread {
  const worker = new Worker(NODE_WORKER_SRC, {
    eval: true,
    execArgv: [], // plain JS: no loader (tsx) needed; V8 flags are process-wide anyway
    workerData: data,
  });
  const ready = new Promise<void>((resolve, reject) => {
    const onMessage = (m: unknown): void => {
      if (m !== 'ready') return;
      worker.off('message', onMessage);
      worker.off('error', reject);
      worker.unref();
      resolve();
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`wasm thread pool: a worker exited during start-up (code ${code})`)));
  });
  worker.on('message', (m: unknown) => {
    if (typeof m === 'object' && m !== null && 'error' in m) onError(String((m as { error: unknown }).error));
  });
  worker.on('error', (e) => onError(String(e)));
  return { ready, terminate: () => worker.terminate() };
}

export const nodeThreadHost: PoolThreadHost = { spawn, canBlock: true };

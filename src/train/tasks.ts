/**
 * The task pool a fitted model gets as `tasks` (models/contract.ts TaskRunner): `threads` worker
 * threads, started on first use, each importing the model's module and running its range function.
 * Ranges go to whichever worker is free, so uneven ranges balance; results come back in order.
 * The input is sent to each worker once per run (copied by structured clone).
 */
import type { Worker } from 'node:worker_threads';
import { fromSource, spawnModuleWorker } from '../io/worker.js';
import type { TaskRunner } from '../models/contract.js';

const ENTRY = new URL(fromSource(import.meta.url) ? './task-worker.ts' : './task-worker.js', import.meta.url);

interface Reply {
  kind: 'ready' | 'result' | 'error';
  id?: number;
  ok?: boolean;
  result?: unknown;
  message?: string;
}

export class TaskPool implements TaskRunner {
  private workers: Worker[] = [];

  constructor(readonly threads: number) {
    if (!(Number.isInteger(threads) && threads >= 1)) throw new RangeError(`TaskPool: threads must be a positive integer, got ${threads}`);
  }

  async run<R>(
    module: string,
    fn: string,
    input: unknown,
    ranges: ReadonlyArray<readonly [number, number]>,
    onDone?: (finished: number) => void,
  ): Promise<R[]> {
    if (ranges.length === 0) return [];
    while (this.workers.length < Math.min(this.threads, ranges.length)) this.workers.push(spawnModuleWorker(ENTRY));
    const workers = this.workers.slice(0, Math.min(this.threads, ranges.length));
    const results = new Array<R>(ranges.length);
    let next = 0;
    let finished = 0;
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            const fail = (e: unknown) => {
              w.removeAllListeners();
              reject(e instanceof Error ? e : new Error(String(e)));
            };
            const give = () => {
              if (next >= ranges.length) {
                w.removeAllListeners();
                resolve();
                return;
              }
              const id = next++;
              w.postMessage({ kind: 'range', id, start: ranges[id][0], end: ranges[id][1] });
            };
            w.on('error', fail);
            w.on('exit', (code) => fail(new Error(`task worker exited (code ${code})`)));
            w.on('message', (m: Reply) => {
              if (m.kind === 'ready') {
                if (!m.ok) fail(new Error(`task pool: ${module} exports no function ${fn}`));
                else give();
              } else if (m.kind === 'result') {
                results[m.id ?? 0] = m.result as R;
                onDone?.(++finished);
                give();
              } else fail(new Error(m.message ?? 'task failed'));
            });
            w.postMessage({ kind: 'input', module, fn, input });
          }),
      ),
    );
    return results;
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    const ws = this.workers;
    this.workers = [];
    await Promise.all(ws.map((w) => w.terminate()));
  }
}

/**
 * `seqrec serve --workers N`: N processes (node:cluster) serve the same port, each with its own copy
 * of the models, so scoring uses N cores. The primary only supervises: it starts the first worker and
 * waits until it listens (a model that does not load then fails once, with that worker's one-line
 * error and exit code), then starts the rest; it forwards SIGHUP (reload) and SIGTERM / SIGINT (drain
 * and exit) to every worker and exits 0 once all have exited 0. A worker that dies while serving is
 * replaced.
 */
import cluster, { type Worker } from 'node:cluster';

/** The message a worker sends the primary once it listens. */
export const LISTENING = 'seqrec:listening';

export function isWorker(): boolean {
  return cluster.isWorker;
}

/** Tells the primary (if any) that this worker listens. */
export function reportListening(): void {
  if (cluster.isWorker) process.send?.(LISTENING);
}

/** Lets a worker that has closed its server exit (the channel to the primary would keep it alive). */
export function leaveCluster(): void {
  if (cluster.isWorker) cluster.worker?.disconnect();
}

function startWorker(): Promise<{ worker: Worker; exitCode?: number }> {
  const worker = cluster.fork();
  return new Promise((resolve) => {
    const onExit = (code: number | null, signal: string | null) => resolve({ worker, exitCode: code ?? (signal ? 1 : 0) });
    worker.once('exit', onExit);
    worker.on('message', (m) => {
      if (m === LISTENING) {
        worker.off('exit', onExit);
        resolve({ worker });
      }
    });
  });
}

/** Runs `count` workers until SIGTERM / SIGINT; resolves with the exit code the primary should have. */
export async function superviseWorkers(count: number, log: (line: string) => void): Promise<number> {
  let stopping: NodeJS.Signals | null = null;
  let failed = false;
  const workers = new Set<Worker>();
  let allExited: () => void = () => {};
  const done = new Promise<void>((resolve) => (allExited = resolve));
  const checkDone = () => {
    if (stopping && workers.size === 0) allExited();
  };
  const stop = (signal: NodeJS.Signals) => {
    stopping ??= signal;
    for (const w of workers) w.process.kill(signal);
    checkDone();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {
    for (const w of workers) w.process.kill('SIGHUP');
  });

  /** Starts a worker and supervises it once it listens; its exit code when it exited before listening. */
  const add = async (): Promise<number | undefined> => {
    const { worker, exitCode } = await startWorker();
    if (exitCode !== undefined) {
      failed = true;
      return exitCode;
    }
    workers.add(worker);
    worker.once('exit', (code, signal) => {
      workers.delete(worker);
      if (stopping && code !== 0) failed = true;
      if (!stopping) {
        log(`worker ${worker.process.pid} exited (${signal ?? `code ${code}`}); starting another`);
        void add().then((code) => {
          if (code !== undefined && workers.size === 0) stop('SIGTERM');
        });
      }
      checkDone();
    });
    if (stopping) worker.process.kill(stopping);
    return undefined;
  };

  // the first worker alone: a model that does not load fails once, with that worker's error and code
  const firstFailure = await add();
  if (firstFailure !== undefined) return firstFailure;
  for (let i = 1; i < count && !stopping; i++) {
    if ((await add()) !== undefined) stop('SIGTERM');
  }
  await done;
  return failed ? 1 : 0;
}

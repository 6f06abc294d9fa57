/**
 * Starting a worker thread on a module of this package, from dist/ (its .js) or from the TypeScript
 * sources under tsx (its .ts). A worker does not inherit the parent's tsx loader hooks, so from the
 * sources it starts as a small eval script that registers tsx in the worker and then imports the entry.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** Whether `moduleUrl` (a caller's import.meta.url) is a TypeScript source run through tsx. */
export function fromSource(moduleUrl: string): boolean {
  return moduleUrl.endsWith('.ts');
}

/** A worker on `entry` (a file URL: the .ts source or the built .js, as the caller runs). */
export function spawnModuleWorker(entry: URL, options: WorkerOptions = {}): Worker {
  if (!fromSource(entry.href)) return new Worker(entry, options);
  const api = import.meta.resolve('tsx/esm/api');
  const code =
    `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })` +
    `.catch((e) => { setImmediate(() => { throw e; }); });`;
  return new Worker(code, { ...options, eval: true });
}

/**
 * Worker-thread entry of the task pool (train/tasks.ts). Protocol on parentPort:
 * - in: { kind: 'input', module, fn, input }: import the module (once per URL) and keep the input;
 * - in: { kind: 'range', id, start, end }: out { kind: 'result', id, result } (its typed arrays'
 *   buffers transferred), or { kind: 'error', id, message } when the function throws.
 */
import { parentPort } from 'node:worker_threads';

type RangeFn = (input: unknown, start: number, end: number) => unknown;

let current: { fn: RangeFn; input: unknown } | undefined;
const modules = new Map<string, Record<string, unknown>>();

/** The buffers of the typed arrays directly inside `value` (a result object), to transfer rather than copy. */
function buffersOf(value: unknown): ArrayBuffer[] {
  if (value === null || typeof value !== 'object') return [];
  const found = new Set<ArrayBuffer>();
  for (const v of Object.values(value)) if (ArrayBuffer.isView(v) && v.buffer instanceof ArrayBuffer) found.add(v.buffer);
  return [...found];
}

parentPort?.on('message', async (m: { kind: string; [k: string]: unknown }) => {
  if (m.kind === 'input') {
    const url = String(m.module);
    let mod = modules.get(url);
    if (!mod) {
      mod = (await import(url)) as Record<string, unknown>;
      modules.set(url, mod);
    }
    const fn = mod[String(m.fn)];
    current = typeof fn === 'function' ? { fn: fn as RangeFn, input: m.input } : undefined;
    parentPort?.postMessage({ kind: 'ready', ok: current !== undefined });
    return;
  }
  if (m.kind === 'range') {
    try {
      if (!current) throw new Error('no task function');
      const result = current.fn(current.input, Number(m.start), Number(m.end));
      parentPort?.postMessage({ kind: 'result', id: m.id, result }, buffersOf(result));
    } catch (e) {
      parentPort?.postMessage({ kind: 'error', id: m.id, message: e instanceof Error ? e.message : String(e) });
    }
  }
});

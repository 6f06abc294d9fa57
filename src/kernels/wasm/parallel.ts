/**
 * The hook through which the wasm backend hands big kernel calls to other threads (intra-op
 * parallelism). No Node built-ins: the backend itself only knows this interface; the thread pool
 * that implements it (pool.ts: Node worker_threads or a page's Web Workers on the same shared
 * memory) is an optional layer, and without one (`--threads 1`, a page that is not cross-origin
 * isolated) every call runs on the calling thread.
 *
 * Every method takes the raw arguments of one wasm call (byte addresses; see asm/gemm.ts,
 * asm/attention.ts and asm/elementwise.ts) and either runs the whole call and returns true (split
 * across threads along independent outputs, so that every output float is computed by exactly the
 * same instructions in the same order as on one thread: bit-identical results; or on the calling
 * thread, where the runner's timing finds that faster), or declines (e.g. work below its threshold)
 * and returns false, and the caller runs the call itself.
 */
export interface ParallelRunner {
  /** Threads taking part, the calling thread included. */
  readonly threads: number;
  gemm(
    tA: number, tB: number, M: number, N: number, K: number, alpha: number,
    a: number, lda: number, b: number, ldb: number, beta: number, c: number, ldc: number,
    batch: number, strideA: number, strideB: number, strideC: number, pack: number,
  ): boolean;
  /**
   * Packed attention forward. `work` is the caller's scratch (`workBytes` bytes, a multiple of
   * 64), followed by threads − 1 chunks of `attentionChunkBytes(workBytes, numSeg, heads·hd)`
   * bytes for the other threads.
   */
  attnForward(
    numSeg: number, heads: number, hd: number, seg: number, padRow: number,
    q: number, k: number, v: number, ldIn: number, dropP: number, rng: number,
    probs: number, dropped: number, out: number, ldOut: number, nmax: number, work: number, workBytes: number,
  ): boolean;
  /** Packed attention backward; scratch as for attnForward. */
  attnBackward(
    numSeg: number, heads: number, hd: number, seg: number, padRow: number,
    q: number, k: number, v: number, ldIn: number,
    probs: number, dropped: number, dOut: number, ldOut: number,
    dq: number, dk: number, dv: number, ldGrad: number, nmax: number, work: number, workBytes: number,
  ): boolean;
  /** rowGatherDot (asm/elementwise.ts) split by rows; optional: a runner without it declines. */
  gatherDot?(M: number, K: number, dim: number, f: number, table: number, idx: number, out: number): boolean;
  /** rowGatherDotBackward with both gradients wanted: one thread adds df, another dTable. */
  gatherDotBackward?(
    M: number, K: number, dim: number, f: number, table: number, idx: number, dy: number, skip: number, df: number, dTable: number,
  ): boolean;
}

/** Where a backend's kernels look for the current runner (null: single thread). */
export interface ParallelSlot {
  runner: ParallelRunner | null;
}

/**
 * Bytes of one extra thread's attention scratch: its work space, 64 bytes of generator state and
 * the padding key's gradient rows (2 rows of d floats per segment, backward).
 */
export function attentionChunkBytes(workBytes: number, numSeg: number, d: number): number {
  return workBytes + 64 + ((numSeg * 2 * d * 4 + 63) & ~63);
}

/**
 * The element-wise exports a runner may split by index range, with the argument positions (after
 * n) that are float-array addresses; every element depends on its own inputs only. Ranges start at
 * multiples of 16 elements, so each element takes the same SIMD or scalar-tail path as on one
 * thread (the relaxed build fuses the SIMD multiply-add but not the tail's).
 */
export const RANGE_KERNELS: readonly (readonly [name: string, pointers: readonly number[]])[] = [
  ['ewFill', [1]],
  ['ewAdd', [0, 1, 2]],
  ['ewAxpy', [1, 2]],
  ['ewScale', [1, 2]],
  ['ewMul', [0, 1, 2]],
  ['ewMulAcc', [0, 1, 2]],
  ['ewRelu', [0, 1]],
  ['ewReluBackward', [0, 1, 2]],
  ['ewGelu', [0, 1]],
  ['ewGeluBackward', [0, 1, 2]],
  ['optAdam', [0, 1, 2, 3]],
];

export interface RangeRunner {
  /** Calls over fewer elements run on the calling thread without asking `range`. */
  readonly rangeMinElems: number;
  /** Runs RANGE_KERNELS[id] over n elements split across threads (true), or declines (false). */
  range(id: number, n: number, args: readonly number[]): boolean;
}

type Fn = (n: number, a?: number, b?: number, c?: number, d?: number, e?: number, f?: number, g?: number,
  h?: number, i?: number, j?: number) => void;

/**
 * `exports` with the RANGE_KERNELS routed through the slot's runner (when it has one and it
 * takes the call); everything else unchanged. (Fixed arity, no rest arguments: small calls, the
 * common case, pay one null check and nothing else.)
 */
export function withRangeSplit<T extends object>(exports: T, slot: ParallelSlot | undefined): T {
  if (slot === undefined) return exports;
  const ex = exports as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(ex)) out[key] = ex[key];
  RANGE_KERNELS.forEach(([name], id) => {
    const fn = ex[name] as Fn | undefined;
    if (typeof fn !== 'function') return;
    const wrapped: Fn = (n, a, b, c, d, e, f, g, h, i, j) => {
      const r = slot.runner as (ParallelRunner & Partial<RangeRunner>) | null;
      if (r !== null && r.range !== undefined && n >= r.rangeMinElems! &&
          r.range(id, n, [a!, b!, c!, d!, e!, f!, g!, h!, i!, j!].slice(0, fn.length - 1))) return;
      fn(n, a, b, c, d, e, f, g, h, i, j);
    };
    out[name] = wrapped;
  });
  return out as T;
}

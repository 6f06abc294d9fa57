/**
 * The hook through which the wasm backend hands big kernel calls to other threads (intra-op
 * parallelism). No Node built-ins: the backend itself only knows this interface; the thread pool
 * that implements it (pool.ts, Node worker_threads on the same shared memory) is an optional layer,
 * and without one (browser, `--threads 1`) every call runs on the calling thread as before.
 *
 * Every method takes the raw arguments of one wasm call (byte addresses; see gemm.entry.ts and
 * asm/attention.ts) and either runs the whole call, split across threads along independent outputs
 * so that every output float is computed by exactly the same instructions in the same order as on
 * one thread (bit-identical results), and returns true; or declines (work below its threshold)
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

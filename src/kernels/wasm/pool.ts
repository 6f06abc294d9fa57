/**
 * Intra-op thread pool for the wasm backend. `startPool(k, n, host)` starts n − 1 workers
 * (pool-worker.ts) that instantiate the backend's compiled module on the SAME shared memory, and
 * attaches the pool as `k.parallel.runner`: from then on big kernel calls are split, the calling
 * thread computing the first part, each worker one of the others. The host starts the threads:
 * Node's worker_threads (pool-node.ts, via pool-start.ts) or a browser's Web Workers (pool-web.ts;
 * the page must be cross-origin isolated to share the memory).
 *
 * Splits (only along independent outputs, never inside a reduction, so every output float is
 * computed by the same instructions in the same order as on one thread — results are bit-identical
 * to `--threads 1`):
 * - GEMM: by matrices of a batch; else by rows of C in multiples of 10 (two 5-row slivers: the
 *   GEMM's 10×4 edge kernel pairs slivers, so the pairing stays the same) when M ≥ 4N or N < 16;
 *   else by columns in multiples of 8 (its panels).
 * - packed attention forward / backward: by segments (sequences), balanced by their triangle
 *   sizes. Forward dropout draws from one serial xoshiro128** stream: each worker starts from the
 *   state jumped ahead by the draws before its first segment (xoshiro-jump.ts) and the last part's
 *   end state is the call's end state. Backward: segments share the padding key's gradient row
 *   (row padRow of dK, dV); workers write their segments' contributions to scratch rows and the
 *   calling thread adds them afterwards in segment order, as one thread would have.
 * - element-wise kernels (fill, add, axpy, scale, mul, mulAcc, relu, reluBackward, Adam): by index
 *   ranges starting at multiples of 16 elements (parallel.ts RANGE_KERNELS).
 * Calls below a size floor stay on the calling thread; above it, SplitTuner (split-tuner.ts)
 * decides by measured time (default `adaptive`): on a machine whose other core is busy with other
 * work a split call waits for the worker to be scheduled and takes many times longer (BENCHMARKS.md,
 * "Two threads"), so the tuner then keeps calls on one thread; with a free core it splits.
 *
 * The calling thread's waits for the workers time out (an error, never a hang), and the workers
 * are unref'd: they never keep the process alive; `close()` stops them.
 */
import type { WasmKernels } from './index.js';
import { attentionChunkBytes, RANGE_KERNELS, type ParallelRunner, type RangeRunner } from './parallel.js';
import { ARGS, CTL_BYTES, DONE, ERR, MAX_ARGS, OP, OP_ATTN_BWD, OP_ATTN_FWD, OP_EXIT, OP_GATHER_DOT, OP_GATHER_DOT_BWD, OP_GEMM, OP_RANGE, type PoolWorkerData, SEQ } from './pool-worker.js';
import { sizeClass, SplitTuner } from './split-tuner.js';
import { xoshiroJump } from './xoshiro-jump.js';

/** One started pool worker. */
export interface PoolThread {
  /** Resolves once the worker has instantiated the module; rejects when it fails to start. */
  readonly ready: Promise<void>;
  terminate(): Promise<unknown>;
}

/** What starts the pool's threads: Node's worker_threads (pool-node.ts) or Web Workers (pool-web.ts). */
export interface PoolThreadHost {
  /** Starts one worker on `data`; errors it reports later go to `onError`. */
  spawn(data: PoolWorkerData, onError: (message: string) => void): PoolThread;
  /** Whether the calling thread may sleep in Atomics.wait (a page's main thread may not: it spins). */
  readonly canBlock: boolean;
}

export interface ThreadPoolOptions {
  /** Smallest GEMM call split across threads, in flops (2·M·N·K·batch). */
  gemmMinFlops?: number;
  /** Smallest packed-attention call split across threads, in heads·headDim·Σ n(n+3)/2. */
  attnMinWork?: number;
  /** Smallest element-wise call (fill, add, axpy, …, Adam) split by index range, in elements. */
  rangeMinElems?: number;
  /** Iterations a waiting thread spins before it sleeps in Atomics.wait. */
  spin?: number;
  /** A worker that has not finished its part after this long is an error (ms). */
  timeoutMs?: number;
  /**
   * true (default): above the thresholds, split or not by measurement (SplitTuner: per kernel and
   * size class, the faster of the two on recent calls, re-checked now and then: the other threads'
   * cores may be busy with other work). false: always split above the thresholds (tests, benches).
   */
  adaptive?: boolean;
}

/**
 * Size floors: no split of an element-wise call of a Games-sized step (fill, Adam, …: up to 1.2 M
 * elements) nor of its GEMMs (2^22–2^23 flops) was ever measured faster than one thread (a split
 * call first has to wake a worker from Atomics.wait), so the floors sit above them. ML-100k's
 * GEMMs (≥ 2^25 flops) and packed attention (≈ 2^25 units) are above the floors and left to the
 * tuner. The measurements: BENCHMARKS.md, "Two threads".
 */
export const DEFAULT_POOL_OPTIONS: Required<ThreadPoolOptions> = {
  gemmMinFlops: 2 ** 24,
  attnMinWork: 2 ** 22,
  rangeMinElems: 2 ** 21,
  spin: 20000,
  timeoutMs: 120_000,
  adaptive: true,
};

interface GatherExports {
  rowGatherDot(M: number, K: number, dim: number, f: number, table: number, idx: number, out: number): void;
  rowGatherDotBackward(M: number, K: number, dim: number, f: number, table: number, idx: number, dy: number, skip: number, df: number, dTable: number): void;
}

/** The SplitTuner kinds of gatherDot and its backward: after GEMM, attention and the range kernels. */
const GATHER_DOT_KIND = 3 + RANGE_KERNELS.length;

interface AttnExports {
  packedAttnForward(...args: number[]): void;
  packedAttnBackward(...args: number[]): void;
}

export class WasmThreadPool implements ParallelRunner, RangeRunner {
  readonly threads: number;
  readonly options: Required<ThreadPoolOptions>;
  private readonly k: WasmKernels;
  private readonly host: PoolThreadHost;
  private readonly workers: PoolThread[] = [];
  private readonly ctl: number[] = [];
  private readonly i32: Int32Array[] = [];
  private readonly f64: Float64Array[] = [];
  private readonly packs: number[] = [];
  private readonly seq: number[] = [];
  private readonly errors: string[] = [];
  private closed = false;
  private busy = false;
  /** Calls split across the threads so far (the rest ran on the calling thread alone). */
  readonly splits = { gemm: 0, attnForward: 0, attnBackward: 0, range: 0, gatherDot: 0, gatherDotBackward: 0 };
  readonly rangeMinElems: number;
  private readonly rangeFns: ((...args: number[]) => void)[];
  readonly tuner = new SplitTuner();

  /** Use `startPool` (it waits until every worker is up). */
  constructor(k: WasmKernels, threads: number, host: PoolThreadHost, options: ThreadPoolOptions = {}) {
    if (!(Number.isInteger(threads) && threads >= 1)) throw new RangeError(`threads must be a positive integer, got ${threads}`);
    this.k = k;
    this.host = host;
    this.threads = threads;
    this.options = { ...DEFAULT_POOL_OPTIONS, ...options };
    this.rangeMinElems = this.options.rangeMinElems;
    const ex = k.exports as unknown as Record<string, (...args: number[]) => void>;
    this.rangeFns = RANGE_KERNELS.map(([name]) => ex[name]);
    for (let w = 0; w < threads - 1; w++) {
      const ctl = k.arena.allocZeroed(CTL_BYTES);
      this.ctl.push(ctl);
      this.i32.push(new Int32Array(k.memory.buffer, ctl, CTL_BYTES / 4));
      this.f64.push(new Float64Array(k.memory.buffer, ctl, CTL_BYTES / 8));
      this.packs.push(k.arena.allocBytes(k.exports.packBytes()));
      this.seq.push(0);
      this.workers.push(host.spawn({ module: k.module, memory: k.memory, ctl, spin: this.options.spin }, (m) => this.errors.push(m)));
    }
  }

  /** Resolves when every worker has instantiated the module. */
  async ready(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.ready));
  }

  /** Detaches from the kernels (if attached) and stops the workers. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.k.parallel.runner === this) this.k.parallel.runner = null;
    for (let w = 0; w < this.workers.length; w++) {
      this.i32[w][OP] = OP_EXIT;
      Atomics.store(this.i32[w], SEQ, ++this.seq[w]);
      Atomics.notify(this.i32[w], SEQ);
    }
    await Promise.all(this.workers.map((w) => w.terminate()));
    for (let i = this.packs.length - 1; i >= 0; i--) {
      this.k.arena.freeBytes(this.packs[i], this.k.exports.packBytes());
      this.k.arena.freeBytes(this.ctl[i], CTL_BYTES);
    }
  }

  // ---- posting and joining -----------------------------------------------------------------

  private post(w: number, op: number, args: readonly number[]): void {
    if (args.length > MAX_ARGS) throw new Error('wasm thread pool: too many arguments');
    const f = this.f64[w];
    for (let i = 0; i < args.length; i++) f[ARGS + i] = args[i];
    this.i32[w][OP] = op;
    Atomics.store(this.i32[w], SEQ, ++this.seq[w]);
    Atomics.notify(this.i32[w], SEQ);
  }

  /** Waits for workers 0..count−1 to finish their posted jobs; throws on a worker error or timeout. */
  private join(count: number): void {
    const spin = this.options.spin;
    let failed = false;
    for (let w = 0; w < count; w++) {
      const i32 = this.i32[w];
      const want = this.seq[w];
      let n = 0;
      let t0 = 0;
      while (Atomics.load(i32, DONE) !== want) {
        if (++n <= spin) continue;
        if (t0 === 0) t0 = performance.now();
        if (this.host.canBlock) Atomics.wait(i32, DONE, Atomics.load(i32, DONE), 100);
        if (performance.now() - t0 > this.options.timeoutMs) {
          this.closed = true; // unusable: a worker may still write into the memory
          if (this.k.parallel.runner === this) this.k.parallel.runner = null;
          for (const wk of this.workers) void wk.terminate();
          throw new Error(`wasm thread pool: worker ${w + 1} did not finish within ${this.options.timeoutMs} ms`);
        }
      }
      if (i32[ERR] !== 0) {
        i32[ERR] = 0;
        failed = true;
      }
    }
    if (failed) throw new Error(`wasm thread pool: a worker failed${this.errors.length ? `: ${this.errors.join('; ')}` : ''}`);
  }

  /** Runs `main` on this thread after posting the worker jobs, then joins them (even when main throws). */
  private run(jobs: [op: number, args: number[]][], main: () => void): void {
    this.busy = true;
    try {
      for (let w = 0; w < jobs.length; w++) this.post(w, jobs[w][0], jobs[w][1]);
      try {
        main();
      } finally {
        this.join(jobs.length);
      }
    } finally {
      this.busy = false;
    }
  }

  private usable(): boolean {
    return !this.closed && !this.busy && this.threads > 1;
  }

  // ---- GEMM --------------------------------------------------------------------------------

  gemm(
    tA: number, tB: number, M: number, N: number, K: number, alpha: number,
    a: number, lda: number, b: number, ldb: number, beta: number, c: number, ldc: number,
    batch: number, sA: number, sB: number, sC: number, pack: number,
  ): boolean {
    const flops = 2 * M * N * K * batch;
    if (!this.usable() || flops < this.options.gemmMinFlops) return false;
    const ex = this.k.exports;
    const key = sizeClass(0, flops);
    if (this.options.adaptive && !this.tuner.wantSplit(key, flops)) {
      const t0 = performance.now();
      ex.gemmBatched(tA, tB, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc, batch, sA, sB, sC, pack);
      this.tuner.record(key, false, (performance.now() - t0) / flops);
      return true;
    }
    const T = this.threads;
    const parts: number[][] = [];
    if (batch > 1) {
      const p = Math.min(T, batch);
      for (let t = 0; t < p; t++) {
        const b0 = Math.floor((batch * t) / p), b1 = Math.floor((batch * (t + 1)) / p);
        parts.push([tA, tB, M, N, K, alpha, a + 4 * b0 * sA, lda, b + 4 * b0 * sB, ldb, beta, c + 4 * b0 * sC, ldc, b1 - b0, sA, sB, sC]);
      }
    } else if (M >= 4 * N || N < 16) {
      const units = Math.ceil(M / 10);
      const p = Math.min(T, units);
      if (p < 2) return false;
      for (let t = 0; t < p; t++) {
        const m0 = Math.floor((units * t) / p) * 10, m1 = Math.min(M, Math.floor((units * (t + 1)) / p) * 10);
        const aOff = 4 * m0 * (tA ? 1 : lda);
        parts.push([tA, tB, m1 - m0, N, K, alpha, a + aOff, lda, b, ldb, beta, c + 4 * m0 * ldc, ldc, 1, 0, 0, 0]);
      }
    } else {
      const units = Math.ceil(N / 8);
      const p = Math.min(T, units);
      for (let t = 0; t < p; t++) {
        const n0 = Math.floor((units * t) / p) * 8, n1 = Math.min(N, Math.floor((units * (t + 1)) / p) * 8);
        const bOff = 4 * n0 * (tB ? ldb : 1);
        parts.push([tA, tB, M, n1 - n0, K, alpha, a, lda, b + bOff, ldb, beta, c + 4 * n0, ldc, 1, 0, 0, 0]);
      }
    }
    const jobs: [number, number[]][] = [];
    for (let t = 1; t < parts.length; t++) jobs.push([OP_GEMM, [...parts[t], this.packs[t - 1]]]);
    this.splits.gemm++;
    const p0 = parts[0];
    const t0 = performance.now();
    this.run(jobs, () => ex.gemmBatched(p0[0], p0[1], p0[2], p0[3], p0[4], p0[5], p0[6], p0[7], p0[8], p0[9], p0[10],
      p0[11], p0[12], p0[13], p0[14], p0[15], p0[16], pack));
    this.tuner.record(key, true, (performance.now() - t0) / flops);
    return true;
  }

  // ---- each row against its own K table rows (sampled negatives) ----------------------------

  gatherDot(M: number, K: number, dim: number, f: number, table: number, idx: number, out: number): boolean {
    const flops = 2 * M * K * dim;
    if (!this.usable() || flops < this.options.gemmMinFlops) return false;
    const ex = this.k.exports as unknown as GatherExports;
    const key = sizeClass(GATHER_DOT_KIND, flops);
    if (this.options.adaptive && !this.tuner.wantSplit(key, flops)) {
      const t0 = performance.now();
      ex.rowGatherDot(M, K, dim, f, table, idx, out);
      this.tuner.record(key, false, (performance.now() - t0) / flops);
      return true;
    }
    const p = Math.min(this.threads, M);
    if (p < 2) return false;
    const part = (t: number): number[] => {
      const m0 = Math.floor((M * t) / p), m1 = Math.floor((M * (t + 1)) / p);
      return [m1 - m0, K, dim, f + 4 * m0 * dim, table, idx + 4 * m0 * K, out + 4 * m0 * K];
    };
    const jobs: [number, number[]][] = [];
    for (let t = 1; t < p; t++) jobs.push([OP_GATHER_DOT, part(t)]);
    const p0 = part(0);
    this.splits.gatherDot++;
    const t0 = performance.now();
    this.run(jobs, () => ex.rowGatherDot(p0[0], p0[1], p0[2], p0[3], p0[4], p0[5], p0[6]));
    this.tuner.record(key, true, (performance.now() - t0) / flops);
    return true;
  }

  gatherDotBackward(
    M: number, K: number, dim: number, f: number, table: number, idx: number, dy: number, skip: number, df: number, dTable: number,
  ): boolean {
    const flops = 4 * M * K * dim;
    if (!this.usable() || df === 0 || dTable === 0 || flops < this.options.gemmMinFlops) return false;
    const ex = this.k.exports as unknown as GatherExports;
    const key = sizeClass(GATHER_DOT_KIND + 1, flops);
    if (this.options.adaptive && !this.tuner.wantSplit(key, flops)) {
      const t0 = performance.now();
      ex.rowGatherDotBackward(M, K, dim, f, table, idx, dy, skip, df, dTable);
      this.tuner.record(key, false, (performance.now() - t0) / flops);
      return true;
    }
    // the two gradients write different arrays, each in the one-thread order
    this.splits.gatherDotBackward++;
    const t0 = performance.now();
    this.run([[OP_GATHER_DOT_BWD, [M, K, dim, f, table, idx, dy, skip, 0, dTable]]], () =>
      ex.rowGatherDotBackward(M, K, dim, f, table, idx, dy, skip, df, 0),
    );
    this.tuner.record(key, true, (performance.now() - t0) / flops);
    return true;
  }

  // ---- element-wise kernels by range -------------------------------------------------------

  range(id: number, n: number, args: readonly number[]): boolean {
    if (!this.usable() || n < this.options.rangeMinElems) return false;
    const fn = this.rangeFns[id];
    const key = sizeClass(3 + id, n);
    if (this.options.adaptive && !this.tuner.wantSplit(key, n)) {
      const t0 = performance.now();
      fn(n, ...args);
      this.tuner.record(key, false, (performance.now() - t0) / n);
      return true;
    }
    const pointers = RANGE_KERNELS[id][1];
    const units = Math.ceil(n / 16);
    const p = Math.min(this.threads, units);
    if (p < 2) return false;
    const part = (t: number): number[] => {
      const e0 = Math.floor((units * t) / p) * 16, e1 = Math.min(n, Math.floor((units * (t + 1)) / p) * 16);
      const a = [e1 - e0, ...args];
      for (const i of pointers) a[1 + i] += 4 * e0;
      return a;
    };
    const jobs: [number, number[]][] = [];
    for (let t = 1; t < p; t++) jobs.push([OP_RANGE, [id, ...part(t)]]);
    const p0 = part(0);
    this.splits.range++;
    const t0 = performance.now();
    this.run(jobs, () => fn(...p0));
    this.tuner.record(key, true, (performance.now() - t0) / n);
    return true;
  }

  // ---- packed attention ----------------------------------------------------------------------

  /**
   * Splits segments [0, numSeg) into at most `threads` ranges of about equal Σ tri: returns the
   * range starts (first is 0) and the triangle offsets (floats per head) at each start, or null
   * when the call is too small or does not split.
   */
  private splitSegments(numSeg: number, heads: number, hd: number, seg: number): { starts: number[]; triBefore: number[]; work: number } | null {
    const s = new Int32Array(this.k.memory.buffer, seg, 3 * numSeg);
    let total = 0;
    for (let i = 0; i < numSeg; i++) { const n = s[3 * i + 1]; total += (n * (n + 3)) / 2; }
    if (total * heads * hd < this.options.attnMinWork) return null;
    const T = this.threads;
    const starts = [0];
    const triBefore = [0];
    let acc = 0;
    for (let i = 0; i < numSeg && starts.length < T; i++) {
      if (acc > 0 && acc >= (total * starts.length) / T) { starts.push(i); triBefore.push(acc); }
      const n = s[3 * i + 1];
      acc += (n * (n + 3)) / 2;
    }
    return starts.length > 1 ? { starts, triBefore, work: total * heads * hd } : null;
  }

  attnForward(
    numSeg: number, heads: number, hd: number, seg: number, padRow: number,
    q: number, k: number, v: number, ldIn: number, dropP: number, rng: number,
    probs: number, dropped: number, out: number, ldOut: number, nmax: number, work: number, workBytes: number,
  ): boolean {
    if (!this.usable()) return false;
    const split = this.splitSegments(numSeg, heads, hd, seg);
    if (split === null) return false;
    const { starts, triBefore } = split;
    const ex = this.k.exports as unknown as AttnExports;
    const key = sizeClass(1, split.work);
    if (this.options.adaptive && !this.tuner.wantSplit(key, split.work)) {
      const t0 = performance.now();
      ex.packedAttnForward(numSeg, heads, hd, seg, padRow, q, k, v, ldIn, dropP, rng, probs, dropped, out, ldOut, nmax, work);
      this.tuner.record(key, false, (performance.now() - t0) / split.work);
      return true;
    }
    const t0 = performance.now();
    const chunk = attentionChunkBytes(workBytes, numSeg, heads * hd);
    const buf = this.k.memory.buffer;
    const s = new Int32Array(buf, seg, 3 * numSeg);
    // generator state at each range's start: jumped over the draws of the segments before it
    const state0 = rng !== 0 ? Uint32Array.from(new Uint32Array(buf, rng, 4)) : null;
    const jobs: [number, number[]][] = [];
    let draws = 0;
    let si = 0;
    let lastRng = 0;
    for (let t = 1; t < starts.length; t++) {
      const from = starts[t], to = t + 1 < starts.length ? starts[t + 1] : numSeg;
      const base = work + workBytes + (t - 1) * chunk; // this thread's chunk: work space, rng, …
      let wRng = 0;
      if (state0 !== null) {
        for (; si < from; si++) {
          const n = s[3 * si + 1], pad = s[3 * si + 2];
          if (n > 0) draws += heads * ((n * (n + 3)) / 2 - (pad > 0 ? 0 : n));
        }
        wRng = base + workBytes;
        new Uint32Array(buf, wRng, 4).set(xoshiroJump(state0, draws));
        lastRng = wRng;
      }
      const off = 4 * heads * triBefore[t];
      jobs.push([OP_ATTN_FWD, [to - from, heads, hd, seg + 12 * from, padRow, q, k, v, ldIn, dropP, wRng,
        probs + off, dropped + off, out, ldOut, nmax, base]]);
    }
    this.splits.attnForward++;
    this.run(jobs, () => ex.packedAttnForward(starts[1], heads, hd, seg, padRow, q, k, v, ldIn, dropP, rng,
      probs, dropped, out, ldOut, nmax, work));
    // the call's end state is the last range's
    if (lastRng !== 0) new Uint32Array(this.k.memory.buffer, rng, 4).set(new Uint32Array(this.k.memory.buffer, lastRng, 4));
    this.tuner.record(key, true, (performance.now() - t0) / split.work);
    return true;
  }

  attnBackward(
    numSeg: number, heads: number, hd: number, seg: number, padRow: number,
    q: number, k: number, v: number, ldIn: number,
    probs: number, dropped: number, dOut: number, ldOut: number,
    dq: number, dk: number, dv: number, ldGrad: number, nmax: number, work: number, workBytes: number,
  ): boolean {
    if (!this.usable()) return false;
    // The segment holding row padRow (SASRec: the last one, the padding row attending to itself)
    // adds its own key row to padRow: one thread must do it in order with the padding-key rows of
    // the segments before it, so it and everything after it run here after the join.
    let tail = numSeg;
    if (padRow >= 0) {
      const s = new Int32Array(this.k.memory.buffer, seg, 3 * numSeg);
      for (let i = 0; i < numSeg; i++) {
        if (s[3 * i + 1] > 0 && s[3 * i] <= padRow && padRow < s[3 * i] + s[3 * i + 1]) { tail = i; break; }
      }
    }
    const split = this.splitSegments(tail, heads, hd, seg);
    if (split === null) return false;
    const { starts, triBefore } = split;
    const ex = this.k.exports as unknown as AttnExports;
    const key = sizeClass(2, split.work);
    if (this.options.adaptive && !this.tuner.wantSplit(key, split.work)) {
      const t0 = performance.now();
      ex.packedAttnBackward(numSeg, heads, hd, seg, padRow, q, k, v, ldIn, probs, dropped, dOut, ldOut, dq, dk, dv, ldGrad, nmax, work);
      this.tuner.record(key, false, (performance.now() - t0) / split.work);
      return true;
    }
    const t0 = performance.now();
    const d = heads * hd;
    const chunk = attentionChunkBytes(workBytes, numSeg, d);
    const jobs: [number, number[]][] = [];
    const padBufs: number[] = [];
    for (let t = 1; t < starts.length; t++) {
      const from = starts[t], to = t + 1 < starts.length ? starts[t + 1] : tail;
      const base = work + workBytes + (t - 1) * chunk;
      const padGrad = base + workBytes + 64;
      padBufs.push(padGrad);
      const off = 4 * heads * triBefore[t];
      jobs.push([OP_ATTN_BWD, [to - from, heads, hd, seg + 12 * from, padRow, q, k, v, ldIn, probs + off, dropped + off,
        dOut, ldOut, dq, dk, dv, ldGrad, nmax, base, padGrad]]);
    }
    this.splits.attnBackward++;
    this.run(jobs, () => ex.packedAttnBackward(starts[1], heads, hd, seg, padRow, q, k, v, ldIn, probs, dropped,
      dOut, ldOut, dq, dk, dv, ldGrad, nmax, work));
    // the workers' padding-key rows, added in segment order (as the one-thread kernel does)
    if (padRow >= 0) {
      const buf = this.k.memory.buffer;
      const s = new Int32Array(buf, seg, 3 * numSeg);
      const f = new Float32Array(buf);
      const dvRow = dv / 4 + padRow * ldGrad, dkRow = dk / 4 + padRow * ldGrad;
      for (let t = 1; t < starts.length; t++) {
        const from = starts[t], to = t + 1 < starts.length ? starts[t + 1] : tail;
        const pg = padBufs[t - 1] / 4;
        for (let i = from; i < to; i++) {
          if (s[3 * i + 1] === 0 || s[3 * i + 2] === 0) continue;
          const r = pg + 2 * (i - from) * d;
          for (let c = 0; c < d; c++) f[dvRow + c] += f[r + c];
          for (let c = 0; c < d; c++) f[dkRow + c] += f[r + d + c];
        }
      }
    }
    if (tail < numSeg) {
      let triTail = 0;
      const s = new Int32Array(this.k.memory.buffer, seg, 3 * numSeg);
      for (let i = 0; i < tail; i++) { const n = s[3 * i + 1]; triTail += (n * (n + 3)) / 2; }
      const off = 4 * heads * triTail;
      ex.packedAttnBackward(numSeg - tail, heads, hd, seg + 12 * tail, padRow, q, k, v, ldIn, probs + off, dropped + off,
        dOut, ldOut, dq, dk, dv, ldGrad, nmax, work);
    }
    this.tuner.record(key, true, (performance.now() - t0) / split.work);
    return true;
  }
}

/**
 * Starts a pool of `threads` threads (the caller + threads − 1 workers started by `host`) on the
 * backend's memory and attaches it (k.parallel.runner). threads = 1 attaches nothing. `close()`
 * detaches and stops.
 */
export async function startPool(k: WasmKernels, threads: number, host: PoolThreadHost, options: ThreadPoolOptions = {}): Promise<WasmThreadPool> {
  if (k.parallel.runner !== null) throw new Error('wasm thread pool: the kernels already have one');
  const pool = new WasmThreadPool(k, threads, host, options);
  try {
    await pool.ready();
  } catch (e) {
    await pool.close();
    throw e;
  }
  if (threads > 1) k.parallel.runner = pool;
  return pool;
}

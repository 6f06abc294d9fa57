/**
 * Intra-op thread pool for the wasm backend (Node only: worker_threads). `startThreadPool(k, n)`
 * starts n − 1 workers that instantiate the backend's compiled module on the SAME shared memory,
 * and installs itself as `k.parallel.runner`: from then on big kernel calls are split, the calling
 * thread computing the first part, each worker one of the others.
 *
 * Splits (only along independent outputs, never inside a reduction, so every output float is
 * computed by the same instructions in the same order as on one thread — results are bit-identical
 * to `--threads 1`):
 * - GEMM: by matrices of a batch; else by rows of C in multiples of 10 (two 5-row slivers: the
 *   GEMM's 10×4 edge kernel pairs slivers, so the pairing stays the same) when M ≥ 4N; else by
 *   columns in multiples of 8 (its panels).
 * - packed attention forward / backward: by segments (sequences), balanced by their triangle
 *   sizes. Forward dropout draws from one serial xoshiro128** stream: each worker starts from the
 *   state jumped ahead by the draws before its first segment (xoshiro-jump.ts) and the last part's
 *   end state is the call's end state. Backward: segments share the padding key's gradient row
 *   (row padRow of dK, dV); workers write their segments' contributions to scratch rows and the
 *   calling thread adds them afterwards in segment order, as one thread would have.
 * - element-wise kernels (fill, add, axpy, scale, mul, mulAcc, relu, reluBackward, Adam): by index
 *   ranges starting at multiples of 16 elements (parallel.ts RANGE_KERNELS).
 * Calls below a size floor stay on the calling thread; above it, SplitTuner decides by measured
 * time (default `adaptive`): on a machine whose other core is busy with other work a split call
 * waits for the worker to be scheduled (measured here under load ≈ 10 on 2 cores: 5–40× slower
 * per call), so the tuner then keeps calls on one thread; with a free core it splits.
 *
 * Synchronisation: one 256-byte control block per worker in the shared memory (job sequence
 * number, op, arguments as float64, done sequence number, error flag). A job is posted by writing
 * the arguments and bumping the sequence number (Atomics.store + notify); the worker spins briefly
 * on it, then sleeps in Atomics.wait. No postMessage per call. Waits time out (an error, never a
 * hang), and the workers are unref'd: they never keep the process alive; `close()` stops them.
 *
 * The worker's code is a plain-JavaScript string (eval worker): no worker entry file to resolve,
 * so the pool runs the same from the TypeScript sources (tsx) and from the compiled dist/.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { WasmKernels } from './index.js';
import { attentionChunkBytes, RANGE_KERNELS, type ParallelRunner, type RangeRunner } from './parallel.js';
import { xoshiroJump } from './xoshiro-jump.js';

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
 * Size floors, set from bench/step.ts --threads 1,2 on this 2-core Zen 4 (2026-11-25, shared with
 * other jobs, load 3–12): a worker's wake-up from Atomics.wait alone is ≥ 50 µs, and no split of an
 * element-wise call (fill/Adam/…, ≤ 1.2 M elements) nor of a Games-sized GEMM (2^22–2^23 flops) was
 * ever measured faster than one thread (forced splits made the Games step 15–25% slower), so those
 * stay single-threaded: the floors sit above them. ML-100k's GEMMs (≥ 2^25 flops) and packed
 * attention (≈ 2^25 units) are above the floors and left to the tuner (the split won there on some
 * calls even under load).
 */
export const DEFAULT_POOL_OPTIONS: Required<ThreadPoolOptions> = {
  gemmMinFlops: 2 ** 24,
  attnMinWork: 2 ** 22,
  rangeMinElems: 2 ** 21,
  spin: 20000,
  timeoutMs: 120_000,
  adaptive: true,
};

/**
 * Chooses, per size class of a kernel, between one thread and the split by their measured time
 * per unit of work (exponential moving averages; each mode's first call is not counted: tier-up,
 * page faults). Now and then a call takes the other mode, so a change of load on the machine is
 * noticed: when the time spent in the better mode since the last such try reaches EXPLORE_RATIO
 * times what one try is expected to lose (and at least EXPLORE_MIN calls passed), so trying costs
 * at most ~1/EXPLORE_RATIO of the time, and a mode that is far worse (a busy second core: a split
 * call can take 40× longer) is tried rarely. Either choice gives the same bits, so timing noise
 * only costs time.
 */
export class SplitTuner {
  static readonly WARM = 2;
  static readonly EXPLORE_MIN = 8;
  static readonly EXPLORE_RATIO = 20;
  private readonly classes = new Map<number, { calls: number; n: [number, number]; t: [number, number]; since: number; sinceCalls: number }>();

  /** Whether the next call of class `key`, of `work` units, should be split. */
  wantSplit(key: number, work: number): boolean {
    let c = this.classes.get(key);
    if (c === undefined) this.classes.set(key, (c = { calls: 0, n: [0, 0], t: [0, 0], since: 0, sinceCalls: 0 }));
    c.calls++;
    if (c.n[1] < SplitTuner.WARM) return true;
    if (c.n[0] < SplitTuner.WARM) return false;
    const splitFaster = c.t[1] < c.t[0];
    const best = Math.min(c.t[0], c.t[1]), other = Math.max(c.t[0], c.t[1]);
    if (c.sinceCalls >= SplitTuner.EXPLORE_MIN && c.since >= SplitTuner.EXPLORE_RATIO * (other - best) * work) {
      c.since = 0;
      c.sinceCalls = 0;
      return !splitFaster;
    }
    c.since += best * work;
    c.sinceCalls++;
    return splitFaster;
  }

  /** Records a call's time per unit of work. */
  record(key: number, split: boolean, perUnit: number): void {
    const c = this.classes.get(key);
    if (c === undefined) return;
    const i = split ? 1 : 0;
    c.n[i]++;
    if (c.n[i] === 2) c.t[i] = perUnit;
    else if (c.n[i] > 2) c.t[i] += 0.25 * (perUnit - c.t[i]);
  }

  /** [class key, calls, time per unit single, split] for each class seen (for benchmarks). */
  summary(): [number, number, number, number][] {
    return [...this.classes].map(([k, c]) => [k, c.calls, c.t[0], c.t[1]]);
  }
}

/** Size class of a call: kernel × power of two of its work. */
function sizeClass(kernel: number, work: number): number {
  return kernel * 64 + Math.floor(Math.log2(Math.max(1, work)));
}

/** `os.availableParallelism()`: the default thread count. */
export function defaultThreads(): number {
  return Math.max(1, availableParallelism());
}

// control block layout (Int32 slots / Float64 slots)
const CTL_BYTES = 256;
const SEQ = 0; // job sequence number (caller writes)
const DONE = 1; // finished sequence number (worker writes)
const OP = 2;
const ERR = 3;
const ARGS = 4; // float64 index of the first argument (byte 32)
const MAX_ARGS = 27;

const OP_EXIT = 0;
const OP_GEMM = 1;
const OP_ATTN_FWD = 2;
const OP_ATTN_BWD = 3;
const OP_RANGE = 4;

const WORKER_SRC = `
const { workerData, parentPort } = require('node:worker_threads');
const { module, memory, ctl, spin } = workerData;
const ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
const rangeFns = ${JSON.stringify(RANGE_KERNELS.map(([name]) => name))}.map((name) => ex[name]);
const i32 = new Int32Array(memory.buffer, ctl, ${CTL_BYTES / 4});
const a = new Float64Array(memory.buffer, ctl, ${CTL_BYTES / 8});
parentPort.postMessage('ready');
let seen = 0;
for (;;) {
  let n = 0;
  while (Atomics.load(i32, ${SEQ}) === seen) {
    if (++n > spin) { Atomics.wait(i32, ${SEQ}, seen); n = 0; }
  }
  seen = Atomics.load(i32, ${SEQ});
  const op = i32[${OP}];
  if (op === ${OP_EXIT}) break;
  try {
    if (op === ${OP_GEMM}) {
      ex.gemmBatched(a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16],
                     a[17], a[18], a[19], a[20], a[21]);
    } else if (op === ${OP_ATTN_FWD}) {
      ex.packedAttnForward(a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16],
                           a[17], a[18], a[19], a[20]);
    } else if (op === ${OP_ATTN_BWD}) {
      ex.packedAttnBackwardPad(a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16],
                               a[17], a[18], a[19], a[20], a[21], a[22], a[23]);
    } else if (op === ${OP_RANGE}) {
      rangeFns[a[4]](a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15]);
    } else {
      throw new Error('unknown op ' + op);
    }
  } catch (e) {
    i32[${ERR}] = 1;
    try { parentPort.postMessage({ error: String(e && e.stack || e) }); } catch {}
  }
  Atomics.store(i32, ${DONE}, seen);
  Atomics.notify(i32, ${DONE});
}
`;

interface AttnExports {
  packedAttnForward(...args: number[]): void;
  packedAttnBackward(...args: number[]): void;
}

export class WasmThreadPool implements ParallelRunner, RangeRunner {
  readonly threads: number;
  readonly options: Required<ThreadPoolOptions>;
  private readonly k: WasmKernels;
  private readonly workers: Worker[] = [];
  private readonly ctl: number[] = [];
  private readonly i32: Int32Array[] = [];
  private readonly f64: Float64Array[] = [];
  private readonly packs: number[] = [];
  private readonly seq: number[] = [];
  private readonly errors: string[] = [];
  private closed = false;
  private busy = false;
  /** Calls split across the threads so far (the rest ran on the calling thread alone). */
  readonly splits = { gemm: 0, attnForward: 0, attnBackward: 0, range: 0 };
  readonly rangeMinElems: number;
  private readonly rangeFns: ((...args: number[]) => void)[];
  readonly tuner = new SplitTuner();

  /** Use `startThreadPool` (it waits until every worker is up). */
  constructor(k: WasmKernels, threads: number, options: ThreadPoolOptions = {}) {
    if (!(Number.isInteger(threads) && threads >= 1)) throw new RangeError(`threads must be a positive integer, got ${threads}`);
    this.k = k;
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
      const worker = new Worker(WORKER_SRC, {
        eval: true,
        execArgv: [], // plain JS: no loader (tsx) needed; V8 flags are process-wide anyway
        workerData: { module: k.module, memory: k.memory, ctl, spin: this.options.spin },
      });
      worker.on('message', (m: unknown) => {
        if (typeof m === 'object' && m !== null && 'error' in m) this.errors.push(String((m as { error: unknown }).error));
      });
      worker.on('error', (e) => this.errors.push(String(e)));
      this.workers.push(worker);
    }
  }

  /** Resolves when every worker has instantiated the module; then unrefs them. */
  async ready(): Promise<void> {
    await Promise.all(this.workers.map((w) => new Promise<void>((resolve, reject) => {
      const onMsg = (m: unknown): void => {
        if (m === 'ready') { w.off('message', onMsg); w.off('error', reject); resolve(); }
      };
      w.on('message', onMsg);
      w.once('error', reject);
      w.once('exit', (code) => reject(new Error(`wasm thread pool: a worker exited during start-up (code ${code})`)));
    })));
    for (const w of this.workers) w.unref();
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
        Atomics.wait(i32, DONE, Atomics.load(i32, DONE), 100);
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
 * Starts a pool of `threads` threads (the caller + threads − 1 workers) on the backend's memory
 * and attaches it (k.parallel.runner). threads = 1 attaches nothing. `close()` detaches and stops.
 */
export async function startThreadPool(k: WasmKernels, threads: number, options: ThreadPoolOptions = {}): Promise<WasmThreadPool> {
  if (k.parallel.runner !== null) throw new Error('wasm thread pool: the kernels already have one');
  const pool = new WasmThreadPool(k, threads, options);
  try {
    await pool.ready();
  } catch (e) {
    await pool.close();
    throw e;
  }
  if (threads > 1) k.parallel.runner = pool;
  return pool;
}

/**
 * For the CLI: `threads` threads on the active kernels when they are the wasm backend and
 * threads > 1 (else nothing to do: null). A pool already attached (a run inside a run) is left as
 * it is (null: the caller closes nothing).
 */
export async function startKernelThreads(k: object, threads: number, options: ThreadPoolOptions = {}): Promise<WasmThreadPool | null> {
  if (threads <= 1 || !isWasmKernels(k) || k.parallel.runner !== null) return null;
  return startThreadPool(k, threads, options);
}

function isWasmKernels(k: object): k is WasmKernels {
  return 'parallel' in k && 'module' in k && 'arena' in k && 'memory' in k;
}

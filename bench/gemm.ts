/**
 * GEMM micro-benchmark: GFLOPS of the wasm backend (plain SIMD and relaxed-SIMD FMA) vs a plain
 * TypeScript triple loop, on SASRec's dominant shapes (forward and backward).
 *
 *   node --import tsx bench/gemm.ts [--quick] [--json] [--threads] [--variant simd|relaxed-simd]
 *
 * Relaxed SIMD needs `--experimental-wasm-relaxed-simd` on Node 20; when this process lacks it,
 * the benchmark re-runs itself with the flag for that column. Timings are the best of several
 * repetitions (the machine is shared, so the best is the least disturbed).
 *
 * --threads adds a two-thread column: a prototype of the planned split, not the backend's API yet.
 * A worker_thread instantiates the same compiled module on the same shared memory with its own
 * pack buffer; each call splits the work in two (the batch; else M in multiples of 10 rows; else
 * N in multiples of 8 columns), the main thread computes one half, and the two meet through
 * Atomics.wait/notify on a control block in the shared memory.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { createWasmKernelsSync, relaxedSimdSupported, type WasmKernels, type WasmVariant } from '../src/kernels/wasm/index.js';

interface Shape {
  name: string;
  tA: boolean;
  tB: boolean;
  M: number;
  N: number;
  K: number;
  batch: number;
}

const B = 128, L = 200, D = 50, ROWS = 25600;
const SHAPES: Shape[] = [
  // (i) projections over all batch×maxlen rows (PyTorch Linear: y = x·Wᵀ)
  { name: '(i) proj fwd  X·Wᵀ  [25600×50]·[50×50]ᵀ', tA: false, tB: true, M: ROWS, N: D, K: D, batch: 1 },
  { name: '(i) proj fwd  X·W   [25600×50]·[50×50]', tA: false, tB: false, M: ROWS, N: D, K: D, batch: 1 },
  { name: '(i) bwd dX = dY·W   [25600×50]·[50×50]', tA: false, tB: false, M: ROWS, N: D, K: D, batch: 1 },
  { name: '(i) bwd dW = dYᵀ·X  [50×25600]·[25600×50]', tA: true, tB: false, M: D, N: D, K: ROWS, batch: 1 },
  // (ii) attention, 128 sequences of length 200, d = 50
  { name: '(ii) S = Q·Kᵀ      128×[200×50]·[50×200]', tA: false, tB: true, M: L, N: L, K: D, batch: B },
  { name: '(ii) O = P·V       128×[200×200]·[200×50]', tA: false, tB: false, M: L, N: D, K: L, batch: B },
  { name: '(ii) dV = Pᵀ·dO    128×[200×200]ᵀ·[200×50]', tA: true, tB: false, M: L, N: D, K: L, batch: B },
  { name: '(ii) dP = dO·Vᵀ    128×[200×50]·[50×200]', tA: false, tB: true, M: L, N: L, K: D, batch: B },
  { name: '(ii) dK = dSᵀ·Q    128×[200×200]ᵀ·[200×50]', tA: true, tB: false, M: L, N: D, K: L, batch: B },
  // the same product on one sequence, operands in cache: the 128-sequence rows above also stream
  // ~30 MB of operands from memory per call
  { name: '(ii) O = P·V       1×[200×200]·[200×50] (cached)', tA: false, tB: false, M: L, N: D, K: L, batch: 1 },
];

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const threads = args.includes('--threads');
const asJson = args.includes('--json');
const variantArg = args.includes('--variant') ? (args[args.indexOf('--variant') + 1] as WasmVariant) : undefined;

function rand(n: number, seed: number, out: Float32Array): Float32Array {
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = (s / 4294967296) * 2 - 1;
  }
  return out;
}

function dims(s: Shape): { lda: number; ldb: number; ldc: number; sA: number; sB: number; sC: number } {
  const lda = s.tA ? s.M : s.K, ldb = s.tB ? s.K : s.N, ldc = s.N;
  return { lda, ldb, ldc, sA: s.M * s.K, sB: s.K * s.N, sC: s.M * s.N };
}

/** Best-of-reps seconds for one call of fn, each rep running fn until ≥ minTime. */
function timeIt(fn: () => void, minTime: number, reps: number): number {
  fn(); // warm-up (tier-up, page faults)
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    let n = 0;
    const t0 = performance.now();
    let t = t0;
    do { fn(); n++; t = performance.now(); } while (t - t0 < minTime * 1000);
    best = Math.min(best, (t - t0) / 1000 / n);
  }
  return best;
}

function benchWasm(k: WasmKernels, s: Shape): number {
  const { lda, ldb, ldc, sA, sB, sC } = dims(s);
  const A = rand(s.batch * sA, 1, k.alloc(s.batch * sA));
  const Bm = rand(s.batch * sB, 2, k.alloc(s.batch * sB));
  const C = k.alloc(s.batch * sC);
  const sec = timeIt(() => {
    if (s.batch === 1) k.gemm(s.tA, s.tB, s.M, s.N, s.K, 1, A, 0, lda, Bm, 0, ldb, 0, C, 0, ldc);
    else k.gemmBatched(s.tA, s.tB, s.M, s.N, s.K, 1, A, 0, lda, Bm, 0, ldb, 0, C, 0, ldc, s.batch, sA, sB, sC);
  }, quick ? 0.1 : 0.25, quick ? 3 : 7);
  k.free(C); k.free(Bm); k.free(A);
  return (2 * s.M * s.N * s.K * s.batch) / sec / 1e9;
}

/** Plain TypeScript triple loop (i-k-j, float32 arrays), the "no backend" baseline. */
function tsGemm(s: Shape, A: Float32Array, Bm: Float32Array, C: Float32Array): void {
  const { lda, ldb, ldc, sA, sB, sC } = dims(s);
  for (let t = 0; t < s.batch; t++) {
    const ao = t * sA, bo = t * sB, co = t * sC;
    for (let i = 0; i < s.M; i++) {
      const ci = co + i * ldc;
      for (let j = 0; j < s.N; j++) C[ci + j] = 0;
      for (let kk = 0; kk < s.K; kk++) {
        const a = s.tA ? A[ao + kk * lda + i] : A[ao + i * lda + kk];
        if (s.tB) for (let j = 0; j < s.N; j++) C[ci + j] += a * Bm[bo + j * ldb + kk];
        else { const bk = bo + kk * ldb; for (let j = 0; j < s.N; j++) C[ci + j] += a * Bm[bk + j]; }
      }
    }
  }
}

function benchTs(s: Shape): number {
  const { sA, sB, sC } = dims(s);
  const A = rand(s.batch * sA, 1, new Float32Array(s.batch * sA));
  const Bm = rand(s.batch * sB, 2, new Float32Array(s.batch * sB));
  const C = new Float32Array(s.batch * sC);
  const sec = timeIt(() => tsGemm(s, A, Bm, C), 0.2, quick ? 1 : 2);
  return (2 * s.M * s.N * s.K * s.batch) / sec / 1e9;
}

// ---- two-thread prototype ------------------------------------------------------------------

const WORKER_SRC = `
const { workerData } = require('node:worker_threads');
const { module, memory, ctl } = workerData;
const ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
const i32 = new Int32Array(memory.buffer, ctl, 32);
const f32 = new Float32Array(memory.buffer, ctl, 32);
let seen = 0;
for (;;) {
  Atomics.wait(i32, 0, seen);
  seen = Atomics.load(i32, 0);
  if (i32[1] === -1) break;
  try {
    ex.gemmBatched(i32[2], i32[3], i32[4], i32[5], i32[6], f32[7], i32[8], i32[9], i32[10], i32[11],
                   f32[12], i32[13], i32[14], i32[15], i32[16], i32[17], i32[18], i32[19]);
  } catch (e) {
    i32[21] = 1;
    console.error('worker:', e);
  }
  Atomics.store(i32, 20, seen);
  Atomics.notify(i32, 20);
}
`;

/** Raw gemmBatched arguments (byte addresses). */
type Call = [tA: number, tB: number, M: number, N: number, K: number, alpha: number, a: number, lda: number,
  b: number, ldb: number, beta: number, c: number, ldc: number, batch: number, sA: number, sB: number, sC: number];

/** Splits one call into two halves of about equal work. */
function split(x: Call): [Call, Call] {
  const [tA, tB, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc, batch, sA, sB, sC] = x;
  if (batch > 1) {
    const b0 = batch >> 1;
    return [[tA, tB, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc, b0, sA, sB, sC],
      [tA, tB, M, N, K, alpha, a + 4 * b0 * sA, lda, b + 4 * b0 * sB, ldb, beta, c + 4 * b0 * sC, ldc, batch - b0, sA, sB, sC]];
  }
  if (M >= 4 * N) {
    const m0 = Math.round(M / 20) * 10;
    const a1 = a + 4 * m0 * (tA ? 1 : lda);
    return [[tA, tB, m0, N, K, alpha, a, lda, b, ldb, beta, c, ldc, 1, 0, 0, 0],
      [tA, tB, M - m0, N, K, alpha, a1, lda, b, ldb, beta, c + 4 * m0 * ldc, ldc, 1, 0, 0, 0]];
  }
  const n0 = Math.floor(N / 16) * 8;
  const b1 = b + 4 * n0 * (tB ? ldb : 1);
  return [[tA, tB, M, n0, K, alpha, a, lda, b, ldb, beta, c, ldc, 1, 0, 0, 0],
    [tA, tB, M, N - n0, K, alpha, a, lda, b1, ldb, beta, c + 4 * n0, ldc, 1, 0, 0, 0]];
}

class TwoThreads {
  private readonly worker: Worker;
  private readonly i32: Int32Array;
  private readonly f32: Float32Array;
  private readonly pack0: number;
  private readonly pack1: number;
  private seq = 0;
  constructor(private readonly k: WasmKernels) {
    const ctl = k.arena.allocZeroed(128); // (zeroed: the arena may hand out dirty memory)
    this.i32 = new Int32Array(k.memory.buffer, ctl, 32);
    this.f32 = new Float32Array(k.memory.buffer, ctl, 32);
    this.pack0 = k.arena.allocBytes(k.exports.packBytes());
    this.pack1 = k.arena.allocBytes(k.exports.packBytes());
    this.worker = new Worker(WORKER_SRC, { eval: true, workerData: { module: k.module, memory: k.memory, ctl } });
    this.worker.on('error', (e) => console.error('two-thread prototype worker:', e));
  }
  run(x: Call): void {
    const [p0, p1] = split(x);
    const i32 = this.i32, f32 = this.f32;
    for (let j = 0; j < 17; j++) i32[2 + j] = p1[j];
    f32[7] = p1[5];
    f32[12] = p1[10];
    i32[19] = this.pack1;
    const seq = ++this.seq;
    Atomics.store(i32, 0, seq);
    Atomics.notify(i32, 0);
    const [tA, tB, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc, batch, sA, sB, sC] = p0;
    this.k.exports.gemmBatched(tA, tB, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc, batch, sA, sB, sC, this.pack0);
    const t0 = performance.now();
    while (Atomics.load(i32, 20) !== seq) {
      Atomics.wait(i32, 20, Atomics.load(i32, 20), 1000);
      if (performance.now() - t0 > 30_000) throw new Error('two-thread prototype: the worker did not answer');
    }
    if (i32[21] !== 0) throw new Error('two-thread prototype: the worker failed');
  }
  async close(): Promise<void> {
    this.i32[1] = -1;
    Atomics.store(this.i32, 0, ++this.seq);
    Atomics.notify(this.i32, 0);
    await this.worker.terminate();
  }
}

function benchTwoThreads(k: WasmKernels, tt: TwoThreads, s: Shape): number {
  const { lda, ldb, ldc, sA, sB, sC } = dims(s);
  const A = rand(s.batch * sA, 1, k.alloc(s.batch * sA));
  const Bm = rand(s.batch * sB, 2, k.alloc(s.batch * sB));
  const C = k.alloc(s.batch * sC);
  const want = k.alloc(s.batch * sC);
  const call: Call = [s.tA ? 1 : 0, s.tB ? 1 : 0, s.M, s.N, s.K, 1, A.byteOffset, lda, Bm.byteOffset, ldb, 0,
    C.byteOffset, ldc, s.batch, sA, sB, sC];
  // the split must give the same result as one call
  k.gemmBatched(s.tA, s.tB, s.M, s.N, s.K, 1, A, 0, lda, Bm, 0, ldb, 0, want, 0, ldc, s.batch, sA, sB, sC);
  tt.run(call);
  for (let i = 0; i < C.length; i++) if (C[i] !== want[i]) throw new Error(`two-thread split differs at ${i}`);
  const sec = timeIt(() => tt.run(call), quick ? 0.1 : 0.25, quick ? 3 : 7);
  k.free(want); k.free(C); k.free(Bm); k.free(A);
  return (2 * s.M * s.N * s.K * s.batch) / sec / 1e9;
}

interface VariantResult { one: number[]; two: number[] | null }

async function measure(variant: WasmVariant): Promise<VariantResult> {
  const k = createWasmKernelsSync({ variant });
  const one = SHAPES.map((s) => benchWasm(k, s));
  let two: number[] | null = null;
  if (threads) {
    const tt = new TwoThreads(k);
    two = SHAPES.map((s) => { if (process.env.BENCH_DEBUG) console.error('2T', s.name); return benchTwoThreads(k, tt, s); });
    await tt.close();
  }
  return { one, two };
}

if (variantArg !== undefined) {
  // child mode: one variant, JSON out
  console.log(JSON.stringify(await measure(variantArg)));
} else {
  const simd = await measure('simd');
  let relaxed: VariantResult | null = null;
  if (relaxedSimdSupported()) {
    relaxed = await measure('relaxed-simd');
  } else {
    try {
      const out = execFileSync(process.execPath, [
        '--experimental-wasm-relaxed-simd', ...process.execArgv, fileURLToPath(import.meta.url),
        '--variant', 'relaxed-simd', ...(quick ? ['--quick'] : []), ...(threads ? ['--threads'] : []),
      ], { encoding: 'utf8' });
      relaxed = JSON.parse(out.trim().split('\n').pop()!) as VariantResult;
    } catch (e) {
      console.error(`relaxed SIMD run failed: ${(e as Error).message}`);
    }
  }
  const ts = SHAPES.map((s) => benchTs(s));
  if (asJson) {
    console.log(JSON.stringify({ shapes: SHAPES.map((s) => s.name), simd, relaxed, ts }));
  } else {
    const head = ['shape', 'wasm simd', 'wasm relaxed', 'TS loop', 'simd/TS'];
    if (threads) head.splice(3, 0, 'simd 2T', 'relaxed 2T');
    const f = (x: number | undefined) => (x === undefined ? 'n/a' : x.toFixed(1));
    const rows = SHAPES.map((s, i) => {
      const r = [s.name, f(simd.one[i]), f(relaxed?.one[i])];
      if (threads) r.push(f(simd.two?.[i]), f(relaxed?.two?.[i] ?? undefined));
      r.push(ts[i].toFixed(2), (simd.one[i] / ts[i]).toFixed(0) + '×');
      return r;
    });
    const w = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
    const line = (r: string[]) => r.map((x, c) => (c === 0 ? x.padEnd(w[c]) : x.padStart(w[c]))).join('  ');
    console.log(`GEMM GFLOPS, best of repetitions (node ${process.version}; 1 thread unless 2T)`);
    console.log(line(head));
    console.log(w.map((n) => '-'.repeat(n)).join('  '));
    for (const r of rows) console.log(line(r));
  }
}

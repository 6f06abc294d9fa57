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
 * --threads adds a two-thread column: the backend's thread pool (src/kernels/wasm/pool.ts: a
 * worker_thread on the same compiled module and shared memory; each call split in two by batch,
 * rows or columns; Atomics.wait/notify on a control block) with its size threshold set to 0, so
 * every shape splits; each split result is checked against one thread's, bit for bit.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WasmThreadPool } from '../src/kernels/wasm/pool.js';
import { startThreadPool } from '../src/kernels/wasm/pool-start.js';
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

const B = 128,
  L = 200,
  D = 50,
  ROWS = 25600;
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
  // Games (maxlen 50, ~12% real tokens): ~760 packed rows per batch; smaller calls
  { name: '(iii) proj fwd X·Wᵀ [760×50]·[50×50]ᵀ', tA: false, tB: true, M: 760, N: D, K: D, batch: 1 },
  { name: '(iii) bwd dW = dYᵀ·X [50×760]·[760×50]', tA: true, tB: false, M: D, N: D, K: 760, batch: 1 },
  { name: '(iii) proj fwd X·Wᵀ [2000×50]·[50×50]ᵀ', tA: false, tB: true, M: 2000, N: D, K: D, batch: 1 },
  { name: '(iii) proj fwd X·Wᵀ [400×50]·[50×50]ᵀ', tA: false, tB: true, M: 400, N: D, K: D, batch: 1 },
];

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const threads = args.includes('--threads');
const asJson = args.includes('--json');
const variantArg = args.includes('--variant') ? (args[args.indexOf('--variant') + 1] as WasmVariant) : undefined;

function rand(n: number, seed: number, out: Float32Array): Float32Array {
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = (s / 4294967296) * 2 - 1;
  }
  return out;
}

function dims(s: Shape): { lda: number; ldb: number; ldc: number; sA: number; sB: number; sC: number } {
  const lda = s.tA ? s.M : s.K,
    ldb = s.tB ? s.K : s.N,
    ldc = s.N;
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
    do {
      fn();
      n++;
      t = performance.now();
    } while (t - t0 < minTime * 1000);
    best = Math.min(best, (t - t0) / 1000 / n);
  }
  return best;
}

function benchWasm(k: WasmKernels, s: Shape): number {
  const { lda, ldb, ldc, sA, sB, sC } = dims(s);
  const A = rand(s.batch * sA, 1, k.alloc(s.batch * sA));
  const Bm = rand(s.batch * sB, 2, k.alloc(s.batch * sB));
  const C = k.alloc(s.batch * sC);
  const sec = timeIt(
    () => {
      if (s.batch === 1) k.gemm(s.tA, s.tB, s.M, s.N, s.K, 1, A, 0, lda, Bm, 0, ldb, 0, C, 0, ldc);
      else k.gemmBatched(s.tA, s.tB, s.M, s.N, s.K, 1, A, 0, lda, Bm, 0, ldb, 0, C, 0, ldc, s.batch, sA, sB, sC);
    },
    quick ? 0.1 : 0.25,
    quick ? 3 : 7,
  );
  k.free(C);
  k.free(Bm);
  k.free(A);
  return (2 * s.M * s.N * s.K * s.batch) / sec / 1e9;
}

/** Plain TypeScript triple loop (i-k-j, float32 arrays), the "no backend" baseline. */
function tsGemm(s: Shape, A: Float32Array, Bm: Float32Array, C: Float32Array): void {
  const { lda, ldb, ldc, sA, sB, sC } = dims(s);
  for (let t = 0; t < s.batch; t++) {
    const ao = t * sA,
      bo = t * sB,
      co = t * sC;
    for (let i = 0; i < s.M; i++) {
      const ci = co + i * ldc;
      for (let j = 0; j < s.N; j++) C[ci + j] = 0;
      for (let kk = 0; kk < s.K; kk++) {
        const a = s.tA ? A[ao + kk * lda + i] : A[ao + i * lda + kk];
        if (s.tB) for (let j = 0; j < s.N; j++) C[ci + j] += a * Bm[bo + j * ldb + kk];
        else {
          const bk = bo + kk * ldb;
          for (let j = 0; j < s.N; j++) C[ci + j] += a * Bm[bk + j];
        }
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

// ---- two threads: the backend's thread pool (src/kernels/wasm/pool.ts) -------------------

function benchTwoThreads(k: WasmKernels, pool: WasmThreadPool, s: Shape): number {
  const { lda, ldb, ldc, sA, sB, sC } = dims(s);
  const A = rand(s.batch * sA, 1, k.alloc(s.batch * sA));
  const Bm = rand(s.batch * sB, 2, k.alloc(s.batch * sB));
  const C = k.alloc(s.batch * sC);
  const want = k.alloc(s.batch * sC);
  const call = (out: Float32Array) => {
    if (s.batch === 1) k.gemm(s.tA, s.tB, s.M, s.N, s.K, 1, A, 0, lda, Bm, 0, ldb, 0, out, 0, ldc);
    else k.gemmBatched(s.tA, s.tB, s.M, s.N, s.K, 1, A, 0, lda, Bm, 0, ldb, 0, out, 0, ldc, s.batch, sA, sB, sC);
  };
  // the split must give the same result as one call
  k.parallel.runner = null;
  call(want);
  k.parallel.runner = pool;
  call(C);
  for (let i = 0; i < C.length; i++) if (C[i] !== want[i]) throw new Error(`two-thread split differs at ${i}`);
  const sec = timeIt(() => call(C), quick ? 0.1 : 0.25, quick ? 3 : 7);
  k.parallel.runner = null;
  k.free(want);
  k.free(C);
  k.free(Bm);
  k.free(A);
  return (2 * s.M * s.N * s.K * s.batch) / sec / 1e9;
}

interface VariantResult {
  one: number[];
  two: number[] | null;
}

async function measure(variant: WasmVariant): Promise<VariantResult> {
  const k = createWasmKernelsSync({ variant });
  const one = SHAPES.map((s) => benchWasm(k, s));
  let two: number[] | null = null;
  if (threads) {
    const pool = await startThreadPool(k, 2, { gemmMinFlops: 0, adaptive: false });
    k.parallel.runner = null;
    two = SHAPES.map((s) => benchTwoThreads(k, pool, s));
    await pool.close();
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
      const out = execFileSync(
        process.execPath,
        [
          '--experimental-wasm-relaxed-simd',
          ...process.execArgv,
          fileURLToPath(import.meta.url),
          '--variant',
          'relaxed-simd',
          ...(quick ? ['--quick'] : []),
          ...(threads ? ['--threads'] : []),
        ],
        { encoding: 'utf8' },
      );
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
      r.push(ts[i].toFixed(2), `${(simd.one[i] / ts[i]).toFixed(0)}×`);
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

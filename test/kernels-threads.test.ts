/**
 * The wasm thread pool (src/kernels/wasm/pool.ts): GEMM and packed attention split across 2 and 3
 * threads give BIT-IDENTICAL results to one thread (odd sizes, all transposes, batches, beta ≠ 0;
 * attention with and without padding, dropout, 1–2 heads, head dims 50 / 25 / 7), the dropout
 * generator ends in the same state; xoshiro jump-ahead equals stepping. Thresholds are set to 0 so
 * every call splits. Waits in the pool time out, workers are unref'd and closed.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createWasmKernelsSync, type WasmKernels } from '../src/kernels/wasm/index.js';
import type { WasmThreadPool } from '../src/kernels/wasm/pool.js';
import { startThreadPool } from '../src/kernels/wasm/pool-start.js';
import { SplitTuner } from '../src/kernels/wasm/split-tuner.js';
import { xoshiroJump, xoshiroStep } from '../src/kernels/wasm/xoshiro-jump.js';
import { RANGE_KERNELS } from '../src/kernels/wasm/parallel.js';
import { fillRand, rng32 } from './helpers/random.js';
import { segmentLayout, type SegmentLayout } from './helpers/attention-layout.js';

function assertSame(got: Float32Array, want: Float32Array, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) assert.fail(`${what}: [${i}] got ${got[i]}, want ${want[i]}`);
  }
}

const pools: WasmThreadPool[] = [];
after(async () => {
  for (const p of pools) await p.close();
});

/** Runs fn once without and once with the pool; both results must be equal bit for bit. */
async function withPool(threads: number): Promise<{ k: WasmKernels; pool: WasmThreadPool }> {
  const k = createWasmKernelsSync();
  const pool = await startThreadPool(k, threads, { gemmMinFlops: 0, attnMinWork: 0, rangeMinElems: 0, adaptive: false, timeoutMs: 20_000 });
  pools.push(pool);
  return { k, pool };
}

test('xoshiro128** jump-ahead equals stepping', () => {
  const s = Uint32Array.from([0x9e3779b9, 0x243f6a88, 0xb7e15162, 12345]);
  for (const n of [0, 1, 2, 5, 31, 32, 33, 1000, 65537]) {
    const a = Uint32Array.from(s);
    for (let i = 0; i < n; i++) xoshiroStep(a);
    assert.deepEqual([...xoshiroJump(s, n)], [...a], `n = ${n}`);
  }
});

for (const threads of [2, 3]) {
  test(`GEMM on ${threads} threads is bit-identical to one thread`, { timeout: 120_000 }, async () => {
    const { k, pool } = await withPool(threads);
    const r = rng32(7);
    const cases: [number, number, number, number][] = [ // M, N, K, batch
      [37, 29, 13, 1], [203, 50, 50, 1], [50, 50, 2001, 1], [7, 70, 33, 1], [1000, 3, 17, 1],
      [13, 17, 19, 5], [200, 200, 50, 3], [45, 530, 260, 1], [1203, 50, 50, 1], [11, 9, 300, 1],
    ];
    for (const [M, N, K, batch] of cases) {
      for (const tA of [false, true]) {
        for (const tB of [false, true]) {
          for (const beta of [0, 0.5]) {
            const lda = (tA ? M : K) + 1, ldb = (tB ? K : N) + 2, ldc = N + 3;
            const sA = (tA ? K : M) * lda, sB = (tB ? N : K) * ldb, sC = M * ldc;
            const A = fillRand(k.alloc(batch * sA), r), B = fillRand(k.alloc(batch * sB), r);
            const C0 = fillRand(k.alloc(batch * sC), r);
            const C1 = k.alloc(batch * sC); C1.set(C0);
            const C2 = k.alloc(batch * sC); C2.set(C0);
            const alpha = 1 / Math.sqrt(7);
            k.parallel.runner = null;
            k.gemmBatched(tA, tB, M, N, K, alpha, A, 0, lda, B, 0, ldb, beta, C1, 0, ldc, batch, sA, sB, sC);
            k.parallel.runner = pool;
            k.gemmBatched(tA, tB, M, N, K, alpha, A, 0, lda, B, 0, ldb, beta, C2, 0, ldc, batch, sA, sB, sC);
            assertSame(C2, C1, `M=${M} N=${N} K=${K} batch=${batch} tA=${tA} tB=${tB} beta=${beta}`);
            k.free(C2); k.free(C1); k.free(C0); k.free(B); k.free(A);
          }
        }
      }
    }
  });
}

function attnCase(k: WasmKernels, pool: WasmThreadPool, lay: SegmentLayout, heads: number, hd: number, dropP: number, seed: number): void {
  const r = rng32(seed);
  const d = heads * hd, ld = 3 * d;
  const label = `segs=${lay.segLen.length} heads=${heads} hd=${hd} p=${dropP}`;
  const qkv = fillRand(k.alloc(lay.rows * ld), r, 1.5);
  const dOut = fillRand(k.alloc(lay.rows * d), r);
  const g0 = fillRand(k.alloc(3 * lay.rows * ld), r, 0.1); // dq, dk, dv start non-zero (accumulated)
  const pSize = Math.max(1, heads * lay.tri);
  const state0 = Uint32Array.from([0x9e3779b9, 0x243f6a88, 0xb7e15162, seed >>> 0 || 7]);
  const results: { probs: Float32Array; dropped: Float32Array; out: Float32Array; grads: Float32Array; state: Uint32Array }[] = [];
  for (const useThreads of [false, true]) {
    k.parallel.runner = useThreads ? pool : null;
    const probs = k.alloc(pSize), dropped = dropP > 0 ? k.alloc(pSize) : probs, out = k.alloc(lay.rows * d);
    const state = Uint32Array.from(state0);
    k.packedCausalAttentionForward(lay.segLen.length, heads, hd, lay.segStart, lay.segLen, lay.segPad, lay.padRow,
      qkv, 0, qkv, d, qkv, 2 * d, ld, dropP, dropP > 0 ? state : null, probs, 0, dropped, 0, out, 0, d);
    const grads = k.alloc(g0.length); grads.set(g0);
    // dq, dk, dv interleaved in one buffer (ldGrad = 3d), as the fused QKV gradient is
    k.packedCausalAttentionBackward(lay.segLen.length, heads, hd, lay.segStart, lay.segLen, lay.segPad, lay.padRow,
      qkv, 0, qkv, d, qkv, 2 * d, ld, probs, 0, dropped, 0, dOut, 0, d, grads, 0, grads, d, grads, 2 * d, ld);
    results.push({ probs, dropped, out, grads, state });
  }
  k.parallel.runner = pool;
  const [one, two] = results;
  assert.deepEqual([...two.state], [...one.state], `${label}: generator state`);
  assertSame(two.probs, one.probs, `${label}: probs`);
  assertSame(two.dropped, one.dropped, `${label}: dropped`);
  assertSame(two.out, one.out, `${label}: out`);
  assertSame(two.grads, one.grads, `${label}: dq/dk/dv`);
}

for (const threads of [2, 3]) {
  test(`packed attention on ${threads} threads is bit-identical to one thread`, { timeout: 120_000 }, async () => {
    const { k, pool } = await withPool(threads);
    const r = rng32(11);
    let seed = 1;
    for (const [heads, hd] of [[1, 50], [2, 25], [1, 7], [3, 5]]) {
      for (const dropP of [0, 0.3]) {
        // mixed lengths with padding, an empty segment, one long one
        const lens = Array.from({ length: 23 }, (_, i) => (i === 5 ? 0 : i === 9 ? 57 : 1 + Math.floor(r() * 30)));
        const pads = lens.map((n, i) => (i % 3 === 0 ? 0 : 60 - n));
        attnCase(k, pool, segmentLayout(lens, pads), heads, hd, dropP, seed++);
        // no padding anywhere
        attnCase(k, pool, segmentLayout(lens, lens.map(() => 0)), heads, hd, dropP, seed++);
        // a single segment (does not split), two segments
        attnCase(k, pool, segmentLayout([40], [3]), heads, hd, dropP, seed++);
        attnCase(k, pool, segmentLayout([12, 31], [4, 0]), heads, hd, dropP, seed++);
      }
    }
  });
}

test('adaptive pool (splits or not by measured time): same bits whichever it picks', { timeout: 120_000 }, async () => {
  const k = createWasmKernelsSync();
  const pool = await startThreadPool(k, 2, { gemmMinFlops: 0, attnMinWork: 0, timeoutMs: 20_000 });
  pools.push(pool);
  const r = rng32(5);
  const [M, N, K] = [203, 50, 50];
  const A = fillRand(k.alloc(M * K), r), B = fillRand(k.alloc(K * N), r);
  const want = k.alloc(M * N), got = k.alloc(M * N);
  k.parallel.runner = null;
  k.gemm(false, true, M, N, K, 1, A, 0, K, B, 0, K, 0, want, 0, N);
  k.parallel.runner = pool;
  for (let i = 0; i < 40; i++) {
    got.fill(NaN);
    k.gemm(false, true, M, N, K, 1, A, 0, K, B, 0, K, 0, got, 0, N);
    assertSame(got, want, `call ${i}`);
  }
  const [[, calls, one, two]] = pool.tuner.summary();
  assert.equal(calls, 40);
  assert.ok(one > 0 && two > 0, 'both modes were timed');
  const lens = Array.from({ length: 17 }, (_, i) => 3 + ((i * 7) % 25));
  for (let i = 0; i < 24; i++) attnCase(k, pool, segmentLayout(lens, lens.map((n) => (n % 2 ? 30 - n : 0))), 1, 10, 0.2, 100 + i);
  assert.ok(pool.splits.attnForward > 0 && pool.splits.attnBackward > 0);
});

for (const threads of [2, 3]) {
  test(`element-wise kernels split by range on ${threads} threads are bit-identical to one thread`, { timeout: 120_000 }, async () => {
    const { k, pool } = await withPool(threads);
    const ex = k.exports as unknown as Record<string, (...args: number[]) => void>;
    const r = rng32(3);
    for (const n of [1, 17, 1000, 100_003]) {
      RANGE_KERNELS.forEach(([name, pointers], id) => {
        // 4 arrays (every kernel uses at most 4); scalars: alpha 0.37 / Adam's hyper-parameters
        const bufs = [0, 1, 2, 3].map(() => fillRand(k.alloc(n), r));
        for (const [i, x] of bufs[3].entries()) bufs[3][i] = Math.abs(x); // Adam's v ≥ 0
        const scalars = name === 'optAdam' ? [1e-3, 0.9, 0.98, 1e-8, 0.1, 0.0199] : [0.37];
        const run = (arrays: Float32Array[], split: boolean): void => {
          let ai = 0, si = 0;
          const args: number[] = [];
          const nArgs = ex[name].length - 1;
          for (let i = 0; i < nArgs; i++) args.push(pointers.includes(i) ? arrays[ai++].byteOffset : scalars[si++]);
          if (!split) ex[name](n, ...args);
          else if (!pool.range(id, n, args)) {
            assert.ok(n <= 16, `${name}: split declined`); // one 16-element unit does not split
            ex[name](n, ...args);
          }
        };
        const one = bufs.map((b) => { const c = k.alloc(n); c.set(b); return c; });
        const two = bufs.map((b) => { const c = k.alloc(n); c.set(b); return c; });
        run(one, false);
        run(two, true);
        for (let j = 0; j < 4; j++) assertSame(two[j], one[j], `${name} n=${n} array ${j}`);
        for (const b of [...two, ...one, ...bufs].reverse()) k.free(b);
      });
    }
  });
}

test('a worker that traps is reported as an error (no hang) and the pool stays usable; close() detaches', { timeout: 60_000 }, async () => {
  const k = createWasmKernelsSync();
  const pool = await startThreadPool(k, 2, { rangeMinElems: 0, adaptive: false, timeoutMs: 20_000 });
  const fill = RANGE_KERNELS.findIndex(([name]) => name === 'ewFill');
  const n = 1 << 12;
  // the first half (this thread) fits at the end of the memory, the worker's half is past it
  const x = k.memory.buffer.byteLength - 4 * (n / 2);
  assert.throws(() => pool.range(fill, n, [1, x]), /worker failed/);
  const y = k.alloc(n);
  assert.ok(pool.range(fill, n, [2, y.byteOffset]));
  assert.ok(y.every((v) => v === 2));
  assert.equal(k.parallel.runner, pool);
  await pool.close();
  assert.equal(k.parallel.runner, null);
  assert.equal(pool.range(fill, n, [3, y.byteOffset]), false, 'a closed pool declines');
});

test('SplitTuner: picks the faster mode; tries the other at a bounded cost', () => {
  const simulate = (single: number, split: number, calls: number): { splits: number; time: number } => {
    const t = new SplitTuner();
    let splits = 0, time = 0;
    for (let i = 0; i < calls; i++) {
      const s = t.wantSplit(7, 100);
      const perUnit = s ? split : single;
      if (s) splits++;
      time += perUnit * 100;
      t.record(7, s, perUnit);
    }
    return { splits, time };
  };
  // the split 40× slower (busy second core): tried rarely, ≤ ~5% overhead beyond warm-up
  const slow = simulate(1, 40, 2000);
  assert.ok(slow.splits < 10, `splits ${slow.splits}`);
  assert.ok(slow.time < 2000 * 100 * 1.06 + 2 * 40 * 100, `time ${slow.time}`);
  // the split twice as fast: nearly always split
  const fast = simulate(1, 0.5, 2000);
  assert.ok(fast.splits > 1900, `splits ${fast.splits}`);
});

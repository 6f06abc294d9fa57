/**
 * The WebAssembly SIMD kernel backend.
 *
 * `createWasmKernels()` returns a `Kernels` object that starts from the reference kernels (so any
 * kernel the wasm module does not implement falls back to plain TypeScript) and overrides `alloc`,
 * `gemm` and `gemmBatched` with the wasm versions (this file) and the other kernel groups with
 * theirs (kernel-groups.ts).
 *
 * Variants: the module (asm/kernels.entry.ts) is built twice (scripts/build-wasm.mjs): relaxed
 * SIMD (`f32x4.relaxed_madd`, a fused multiply-add) and plain SIMD. The relaxed one is chosen when
 * the runtime validates it (Node 20 only with `--experimental-wasm-relaxed-simd`, which
 * useWasmKernels in install.ts sets; Node ≥ 22 has it on). `kernels.name` says which is active:
 * 'wasm-relaxed-simd' or 'wasm-simd'.
 *
 * Memory: one shared `WebAssembly.Memory` imported by the module, so that the thread pool's
 * workers (pool.ts) compute on the same bytes. `alloc` hands out zeroed, 64-byte-aligned
 * Float32Array views into it (see arena.ts for free / mark / release). Arrays from `alloc` go to
 * the kernels zero-copy; GEMM copies any other Float32Array into scratch, computes on it and (for
 * outputs) copies it back, the other kernel groups hand such calls to the base kernels: correct,
 * just slower.
 *
 * Neither this file nor anything it imports uses Node built-ins, so the backend runs in the
 * browser too (shared memory there needs a cross-origin-isolated page). The thread pool (pool.ts)
 * runs in both, its threads started by a host: pool-node.ts (worker_threads; Node-only, as are
 * pool-start.ts and install.ts) or pool-web.ts (Web Workers).
 */
import type { Kernels } from '../types.js';
import { referenceKernels } from '../reference/index.js';
import { WasmArena } from './arena.js';
import { kernelsWasm, kernelsRelaxedWasm } from './generated/kernels.js';
import { kernelGroups } from './kernel-groups.js';
import type { ParallelSlot } from './parallel.js';

export { WasmArena } from './arena.js';
export type { ParallelRunner, ParallelSlot } from './parallel.js';

export type WasmVariant = 'relaxed-simd' | 'simd';

export interface WasmKernelOptions {
  /** 'auto' (default): relaxed SIMD when the runtime validates it, else plain SIMD. */
  variant?: 'auto' | WasmVariant;
  /** Kernels used for everything wasm does not implement (default: the reference kernels). */
  base?: Kernels;
  /** Initial memory in MiB (default 16); it grows on demand. */
  initialMiB?: number;
  /** Upper bound of the memory in MiB (default 4096, the wasm32 limit). Address space is reserved, not committed. */
  maximumMiB?: number;
}

/** The GEMM exports of the kernel module (asm/gemm.ts; pointers are byte addresses, leading dims in elements). */
export interface GemmExports {
  gemm(transA: number, transB: number, M: number, N: number, K: number, alpha: number,
       a: number, lda: number, b: number, ldb: number, beta: number, c: number, ldc: number, pack: number): void;
  gemmBatched(transA: number, transB: number, M: number, N: number, K: number, alpha: number,
              a: number, lda: number, b: number, ldb: number, beta: number, c: number, ldc: number,
              batch: number, strideA: number, strideB: number, strideC: number, pack: number): void;
  packBytes(): number;
  heapBase(): number;
  isRelaxed(): number;
}

export interface WasmKernels extends Kernels {
  readonly variant: WasmVariant;
  readonly memory: WebAssembly.Memory;
  /** The compiled module, for instantiating on the same memory in a worker. */
  readonly module: WebAssembly.Module;
  readonly arena: WasmArena;
  /** The raw wasm exports (byte addresses). */
  readonly exports: GemmExports;
  /**
   * Intra-op parallelism: while `parallel.runner` is set (a thread pool, see pool.ts),
   * big GEMM, packed-attention and element-wise calls may be split across its threads
   * (bit-identical results); null (the default): everything runs on the calling thread.
   */
  readonly parallel: ParallelSlot;
  gemmBatched(
    transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
    A: Float32Array, aOff: number, lda: number,
    B: Float32Array, bOff: number, ldb: number,
    beta: number, C: Float32Array, cOff: number, ldc: number,
    batch: number, strideA: number, strideB: number, strideC: number,
  ): void;
  /** Returns an array from `alloc` to the allocator (reused by the next alloc of the same rounded size). */
  free(array: Float32Array): void;
  /** Scratch scope: `const m = k.mark(); …alloc…; k.release(m)` frees everything allocated in between. */
  mark(): number;
  release(mark: number): void;
  /** Whether `array` is a view of this backend's memory (zero-copy for the kernels). */
  owns(array: Float32Array): boolean;
}

const PAGE = 65536;

export function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

let bytesCache: { simd: Uint8Array<ArrayBuffer>; relaxed: Uint8Array<ArrayBuffer> } | undefined;
function moduleBytes(): { simd: Uint8Array<ArrayBuffer>; relaxed: Uint8Array<ArrayBuffer> } {
  bytesCache ??= { simd: decodeBase64(kernelsWasm), relaxed: decodeBase64(kernelsRelaxedWasm) };
  return bytesCache;
}

/** Whether this runtime accepts the relaxed-SIMD build. */
export function relaxedSimdSupported(): boolean {
  try {
    return WebAssembly.validate(moduleBytes().relaxed);
  } catch {
    return false;
  }
}

function pickVariant(opt: WasmKernelOptions['variant']): WasmVariant {
  const want = opt ?? 'auto';
  if (want === 'simd') return 'simd';
  const ok = relaxedSimdSupported();
  if (want === 'relaxed-simd' && !ok) {
    throw new Error('relaxed SIMD is not supported by this runtime (Node 20: run with --experimental-wasm-relaxed-simd)');
  }
  return ok ? 'relaxed-simd' : 'simd';
}

function makeMemory(options: WasmKernelOptions): { memory: WebAssembly.Memory; maxPages: number } {
  const maxPages = Math.min(65536, Math.max(1, Math.floor(((options.maximumMiB ?? 4096) * 2 ** 20) / PAGE)));
  const initial = Math.min(maxPages, Math.max(1, Math.ceil(((options.initialMiB ?? 16) * 2 ** 20) / PAGE)));
  return { memory: new WebAssembly.Memory({ initial, maximum: maxPages, shared: true }), maxPages };
}

/** Creates the wasm backend (async compile: works on a browser's main thread). */
export async function createWasmKernels(options: WasmKernelOptions = {}): Promise<WasmKernels> {
  const variant = pickVariant(options.variant);
  const bytes = variant === 'relaxed-simd' ? moduleBytes().relaxed : moduleBytes().simd;
  const module = await WebAssembly.compile(bytes);
  return build(module, variant, options);
}

/** Synchronous variant (Node, workers; browsers refuse synchronous compiles on the main thread). */
export function createWasmKernelsSync(options: WasmKernelOptions = {}): WasmKernels {
  const variant = pickVariant(options.variant);
  const bytes = variant === 'relaxed-simd' ? moduleBytes().relaxed : moduleBytes().simd;
  return build(new WebAssembly.Module(bytes), variant, options);
}

function build(module: WebAssembly.Module, variant: WasmVariant, options: WasmKernelOptions): WasmKernels {
  const { memory, maxPages } = makeMemory(options);
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const ex = instance.exports as unknown as GemmExports;
  if ((ex.isRelaxed() === 1) !== (variant === 'relaxed-simd')) throw new Error('wasm kernels: variant mismatch');
  const arena = new WasmArena(memory, Math.max(ex.heapBase(), 1024), maxPages);
  const pack = arena.allocBytes(ex.packBytes());
  const base = options.base ?? referenceKernels;
  const parallel: ParallelSlot = { runner: null };

  /** Byte address of element `off` of an array living in our memory. */
  const addr = (x: Float32Array, off: number): number => x.byteOffset + 4 * off;

  /**
   * Makes an operand addressable by wasm: zero-copy when it lives in our memory, else copies
   * x[off, off+extent) into scratch (the caller holds a mark). Returns the byte address of x[off].
   */
  const stage = (x: Float32Array, off: number, extent: number, copyIn: boolean): number => {
    if (arena.owns(x)) return addr(x, off);
    const p = arena.allocBytes(extent * 4);
    if (copyIn) arena.view(p, extent).set(x.subarray(off, off + extent));
    return p;
  };

  const gemmBatched = (
    transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
    A: Float32Array, aOff: number, lda: number,
    B: Float32Array, bOff: number, ldb: number,
    beta: number, C: Float32Array, cOff: number, ldc: number,
    batch: number, strideA: number, strideB: number, strideC: number,
  ): void => {
    checkDims(M, N, K, batch, strideA, strideB, strideC);
    if (M === 0 || N === 0 || batch === 0) return;
    const useAB = K > 0 && alpha !== 0;
    // extents of the touched ranges (in elements), checked against the arrays
    const extA = useAB ? operandExtent('A', transA ? K : M, transA ? M : K, lda, batch, strideA) : 0;
    const extB = useAB ? operandExtent('B', transB ? N : K, transB ? K : N, ldb, batch, strideB) : 0;
    const extC = operandExtent('C', M, N, ldc, batch, strideC);
    checkRange('A', A, aOff, extA);
    checkRange('B', B, bOff, extB);
    checkRange('C', C, cOff, extC);
    const ownC = arena.owns(C);
    if (ownC && arena.owns(A) && arena.owns(B)) {
      callWasm(transA, transB, M, N, K, alpha, addr(A, aOff), lda, addr(B, bOff), ldb, beta, addr(C, cOff), ldc,
               batch, strideA, strideB, strideC);
      return;
    }
    const m = arena.mark();
    try {
      const a = useAB ? stage(A, aOff, extA, true) : 0;
      const b = useAB ? stage(B, bOff, extB, true) : 0;
      // C: copy in unless beta = 0 and the region has no gaps (else the gaps must survive the copy back)
      const contiguous = ldc === N && (batch === 1 || strideC === M * N);
      const c = stage(C, cOff, extC, beta !== 0 || !contiguous);
      callWasm(transA, transB, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc, batch, strideA, strideB, strideC);
      if (!ownC) C.set(arena.view(c, extC), cOff);
    } finally {
      arena.release(m);
    }
  };

  const callWasm = (
    transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
    a: number, lda: number, b: number, ldb: number, beta: number, c: number, ldc: number,
    batch: number, strideA: number, strideB: number, strideC: number,
  ): void => {
    const tA = transA ? 1 : 0;
    const tB = transB ? 1 : 0;
    const runner = parallel.runner;
    if (runner?.gemm(tA, tB, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc, batch, strideA, strideB, strideC, pack)) return;
    if (batch === 1) ex.gemm(tA, tB, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc, pack);
    else ex.gemmBatched(tA, tB, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc, batch, strideA, strideB, strideC, pack);
  };

  const gemm = (
    transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
    A: Float32Array, aOff: number, lda: number,
    B: Float32Array, bOff: number, ldb: number,
    beta: number, C: Float32Array, cOff: number, ldc: number,
  ): void => gemmBatched(transA, transB, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc, 1, 0, 0, 0);

  const alloc = (length: number): Float32Array => {
    if (!isCount(length)) throw new RangeError(`wasm alloc: length must be a non-negative integer, got ${length}`);
    return arena.view(arena.allocZeroed(length * 4), length);
  };

  const kernels: WasmKernels = {
    ...base,
    ...kernelGroups(instance.exports, arena, base, parallel), // attention, element-wise, mHC, time (kernel-groups.ts)
    name: `wasm-${variant}`,
    variant,
    memory,
    module,
    arena,
    exports: ex,
    parallel,
    alloc,
    gemm,
    gemmBatched,
    free: (array: Float32Array): void => {
      if (!arena.owns(array)) throw new RangeError('wasm free: array is not from this backend');
      arena.freeBytes(array.byteOffset, array.length * 4);
    },
    mark: () => arena.mark(),
    release: (m: number) => arena.release(m),
    owns: (array: Float32Array) => arena.owns(array),
  };
  return kernels;
}

function isCount(v: number): boolean {
  return (v | 0) === v && v >= 0;
}

function checkDims(M: number, N: number, K: number, batch: number, sA: number, sB: number, sC: number): void {
  if (isCount(M) && isCount(N) && isCount(K) && isCount(batch) && isCount(sA) && isCount(sB) && isCount(sC)) return;
  const all: [string, number][] = [['M', M], ['N', N], ['K', K], ['batch', batch], ['strideA', sA], ['strideB', sB], ['strideC', sC]];
  for (const [name, v] of all) {
    if (!isCount(v)) throw new RangeError(`gemm: ${name} must be a non-negative integer, got ${v}`);
  }
}

/** Elements spanned by `batch` rows × cols blocks with leading dim ld, `stride` apart. */
function operandExtent(name: string, rows: number, cols: number, ld: number, batch: number, stride: number): number {
  if ((ld | 0) !== ld || ld < cols || ld < 1) {
    throw new RangeError(`gemm: leading dimension of ${name} (${ld}) is smaller than its row length ${cols}`);
  }
  if (rows === 0 || cols === 0) return 0;
  return (batch - 1) * stride + (rows - 1) * ld + cols;
}

function checkRange(name: string, x: Float32Array, off: number, extent: number): void {
  if ((off | 0) !== off || off < 0 || off + extent > x.length) {
    throw new RangeError(`gemm: ${name}[${off}, ${off + extent}) is out of bounds (length ${x.length})`);
  }
}

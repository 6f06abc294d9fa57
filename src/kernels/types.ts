/**
 * The hot loops behind the ops. Ops call these and never care which backend runs them:
 * `reference.ts` is plain TypeScript (the ground truth in tests), the WebAssembly SIMD backend
 * implements the same interface and falls back to the reference for anything it lacks.
 * All matrices are row-major Float32Arrays addressed by (array, offset, leading dimension).
 */
export interface Kernels {
  readonly name: string;
  /** A float32 buffer the backend computes on fastest (wasm: a view into its linear memory). */
  alloc(length: number): Float32Array;
  /**
   * C = alpha · op(A) · op(B) + beta · C, with op(A) of shape M×K and op(B) of shape K×N.
   * transA: A is stored K×M; transB: B is stored N×K. beta = 0 ignores C's old contents (even NaN).
   */
  gemm(
    transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
    A: Float32Array, aOff: number, lda: number,
    B: Float32Array, bOff: number, ldb: number,
    beta: number, C: Float32Array, cOff: number, ldc: number,
  ): void;
  /**
   * `batch` independent GEMMs of one shape (e.g. every sequence × head of attention) in one call:
   * matrix t reads A at aOff + t·strideA, B at bOff + t·strideB and updates C at cOff + t·strideC
   * (strides in elements, ≥ 0; a stride of 0 shares that operand, e.g. one weight for every item).
   * Same semantics as `gemm` per matrix. Optional until every backend has it (the wasm backend
   * always does); without it, loop over `gemm`.
   */
  gemmBatched?(
    transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
    A: Float32Array, aOff: number, lda: number,
    B: Float32Array, bOff: number, ldb: number,
    beta: number, C: Float32Array, cOff: number, ldc: number,
    batch: number, strideA: number, strideB: number, strideC: number,
  ): void;
}

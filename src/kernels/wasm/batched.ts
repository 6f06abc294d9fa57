/**
 * `gemmBatched` for any backend: calls the backend's own `gemmBatched` when it has one (the wasm
 * backend does: one call into wasm for the whole batch), else loops over `gemm`. Ops can use this
 * to run every sequence × head of attention with one call whatever backend is active.
 * No wasm dependency: importing this does not load the wasm module.
 */
import type { Kernels } from '../types.js';

export function gemmBatched(
  k: Kernels,
  transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
  A: Float32Array, aOff: number, lda: number,
  B: Float32Array, bOff: number, ldb: number,
  beta: number, C: Float32Array, cOff: number, ldc: number,
  batch: number, strideA: number, strideB: number, strideC: number,
): void {
  if (k.gemmBatched) {
    k.gemmBatched(transA, transB, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc, batch, strideA, strideB, strideC);
    return;
  }
  gemmBatchedLoop(k, transA, transB, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc, batch, strideA, strideB, strideC);
}

/** The plain loop: matrix t uses offsets aOff + t·strideA, bOff + t·strideB, cOff + t·strideC. */
export function gemmBatchedLoop(
  k: Pick<Kernels, 'gemm'>,
  transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
  A: Float32Array, aOff: number, lda: number,
  B: Float32Array, bOff: number, ldb: number,
  beta: number, C: Float32Array, cOff: number, ldc: number,
  batch: number, strideA: number, strideB: number, strideC: number,
): void {
  for (let t = 0; t < batch; t++) {
    k.gemm(transA, transB, M, N, K, alpha, A, aOff + t * strideA, lda, B, bOff + t * strideB, ldb, beta, C, cOff + t * strideC, ldc);
  }
}

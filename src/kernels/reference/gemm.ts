/** GEMM of the reference backend: one row of C at a time, summed in float64. */

export function gemm(
  transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
  A: Float32Array, aOff: number, lda: number,
  B: Float32Array, bOff: number, ldb: number,
  beta: number, C: Float32Array, cOff: number, ldc: number,
): void {
  const acc = new Float64Array(N);
  // op(A)[i, k] lives at aOff + i*aRow + k*aCol
  const aRow = transA ? 1 : lda;
  const aCol = transA ? lda : 1;
  for (let i = 0; i < M; i++) {
    acc.fill(0);
    const ai = aOff + i * aRow;
    if (transB) {
      for (let j = 0; j < N; j++) {
        const bj = bOff + j * ldb;
        let s = 0;
        for (let k = 0; k < K; k++) s += A[ai + k * aCol] * B[bj + k];
        acc[j] = s;
      }
    } else {
      for (let k = 0; k < K; k++) {
        const a = A[ai + k * aCol];
        if (a === 0) continue;
        const bk = bOff + k * ldb;
        for (let j = 0; j < N; j++) acc[j] += a * B[bk + j];
      }
    }
    const ci = cOff + i * ldc;
    if (beta === 0) for (let j = 0; j < N; j++) C[ci + j] = alpha * acc[j];
    else for (let j = 0; j < N; j++) C[ci + j] = alpha * acc[j] + beta * C[ci + j];
  }
}

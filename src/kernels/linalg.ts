/**
 * Dense symmetric positive-definite inversion, blocked on the GEMM kernel (EASE's P = (XᵀX + λI)⁻¹).
 *
 * Storage: the lower triangle in column panels (`SymmetricPanels`). Panel p holds columns
 * [p·b, p·b + w_p) for the rows p·b..n−1, row-major with leading dimension w_p: n²/2 + n·b/2 floats
 * instead of n², and each panel is its own Float32Array, so nothing needs one array of n² floats
 * (and nothing needs to fit in the WebAssembly backend's 4 GB memory: the GEMM stages a panel's
 * touched rows into its scratch per call, (n − p·b)·b floats for 2·(n − p·b)·b² flops).
 *
 * Algorithm: the symmetric block sweep (Gauss–Jordan elimination without pivoting, which is stable
 * for SPD matrices: every pivot block is a Schur complement, itself SPD). For each block k, with
 * C = A[:, k] (gathered from the lower triangle), D = A_kk⁻¹ (float64, b×b) and W = C·D (one GEMM):
 *   A_ij −= W_i · C_jᵀ (i, j ≠ k; one GEMM per panel j, lower rows only),
 *   A_ik = W_i, A_kj = W_jᵀ, A_kk = −D.
 * After every block has been swept, A = −A₀⁻¹ (negated at the end). Work: n³ flops (the same as
 * Cholesky + triangular inverse + LᵀL), almost all in GEMMs of n−j × b × b, which the wasm backend
 * runs with SIMD and, when a thread pool is attached, splits across its threads.
 */
import type { Kernels } from './types.js';

export interface SymmetricPanels {
  readonly n: number;
  /** block size b: panel p covers columns [p·b, min(n, (p+1)·b)) */
  readonly block: number;
  /** panels[p]: rows p·b..n−1 × its columns, row-major, leading dimension = its width */
  readonly panels: Float32Array[];
}

/** Zeroed lower-triangle panels of an n×n symmetric matrix. */
export function createSymmetricPanels(n: number, block = 256): SymmetricPanels {
  if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`n must be a non-negative integer, got ${n}`);
  if (!(Number.isInteger(block) && block >= 1)) throw new RangeError(`block must be a positive integer, got ${block}`);
  const panels: Float32Array[] = [];
  for (let p0 = 0; p0 < n; p0 += block) {
    const w = Math.min(block, n - p0);
    panels.push(new Float32Array((n - p0) * w));
  }
  return { n, block, panels };
}

/** Floats held by createSymmetricPanels(n, block). */
export function symmetricPanelFloats(n: number, block = 256): number {
  let total = 0;
  for (let p0 = 0; p0 < n; p0 += block) total += (n - p0) * Math.min(block, n - p0);
  return total;
}

/** A[i][j] (any i, j: the lower triangle is read for both). */
export function panelGet(s: SymmetricPanels, i: number, j: number): number {
  if (i < j) [i, j] = [j, i];
  const p = Math.floor(j / s.block);
  const p0 = p * s.block;
  const w = Math.min(s.block, s.n - p0);
  return s.panels[p][(i - p0) * w + (j - p0)];
}

/** A[i][j] += v for i ≥ j (the caller keeps to the lower triangle). */
export function panelAddLower(s: SymmetricPanels, i: number, j: number, v: number): void {
  const p = Math.floor(j / s.block);
  const p0 = p * s.block;
  const w = Math.min(s.block, s.n - p0);
  s.panels[p][(i - p0) * w + (j - p0)] += v;
}

/** Inverse of a w×w SPD matrix (row-major float64, both triangles) via Cholesky, in float64. */
function spdInverse64(a: Float64Array, w: number): Float64Array {
  const L = new Float64Array(w * w);
  for (let j = 0; j < w; j++) {
    let d = a[j * w + j];
    for (let k = 0; k < j; k++) d -= L[j * w + k] * L[j * w + k];
    if (!(d > 0)) throw new Error(`matrix is not positive definite (pivot ${j}: ${d})`);
    const ljj = Math.sqrt(d);
    L[j * w + j] = ljj;
    for (let i = j + 1; i < w; i++) {
      let s = a[i * w + j];
      for (let k = 0; k < j; k++) s -= L[i * w + k] * L[j * w + k];
      L[i * w + j] = s / ljj;
    }
  }
  // Linv (lower): L · Linv = I, column by column
  const Li = new Float64Array(w * w);
  for (let c = 0; c < w; c++) {
    for (let i = c; i < w; i++) {
      let s = i === c ? 1 : 0;
      for (let k = c; k < i; k++) s -= L[i * w + k] * Li[k * w + c];
      Li[i * w + c] = s / L[i * w + i];
    }
  }
  // A⁻¹ = Linvᵀ · Linv
  const out = new Float64Array(w * w);
  for (let i = 0; i < w; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < w; k++) s += Li[k * w + i] * Li[k * w + j];
      out[i * w + j] = s;
      out[j * w + i] = s;
    }
  }
  return out;
}

export type SweepProgress = (done: number, total: number) => void

/**
 * Replaces the SPD matrix held in `s` by its inverse, in place (see the file comment). Throws when a
 * pivot block is not positive definite. `k` runs the GEMMs (any backend; buffers it allocates are
 * handed back to it when it can take them).
 */
export function invertSymmetricPanels(k: Kernels, s: SymmetricPanels, progress?: SweepProgress): void {
  const { n, block: b, panels } = s;
  if (n === 0) return;
  const wmax = Math.min(b, n);
  const kk = k as Kernels & { free?(a: Float32Array): void; owns?(a: Float32Array): boolean };
  const C = k.alloc(n * wmax);
  const W = k.alloc(n * wmax);
  const D = k.alloc(wmax * wmax);
  const nb = panels.length;
  try {
    for (let kb = 0; kb < nb; kb++) {
      const k0 = kb * b;
      const wk = Math.min(b, n - k0);
      const pk = panels[kb];
      // C[i, t] = A[i, k0 + t], rows 0..n−1, leading dimension wk
      for (let jb = 0; jb < kb; jb++) {
        const j0 = jb * b;
        const wj = Math.min(b, n - j0);
        const pj = panels[jb];
        for (let t = 0; t < wk; t++) {
          const src = (k0 + t - j0) * wj;
          for (let sIdx = 0; sIdx < wj; sIdx++) C[(j0 + sIdx) * wk + t] = pj[src + sIdx];
        }
      }
      C.set(pk.subarray(0, (n - k0) * wk), k0 * wk);
      // the k-block is stored lower only: mirror it
      for (let t = 0; t < wk; t++) for (let u = t + 1; u < wk; u++) C[(k0 + t) * wk + u] = C[(k0 + u) * wk + t];
      // D = A_kk⁻¹ (float64)
      const a64 = new Float64Array(wk * wk);
      for (let t = 0; t < wk * wk; t++) a64[t] = C[k0 * wk + t];
      let d64: Float64Array;
      try {
        d64 = spdInverse64(a64, wk);
      } catch (e) {
        throw new Error(`invertSymmetricPanels: block ${kb}: ${(e as Error).message}`);
      }
      for (let t = 0; t < wk * wk; t++) D[t] = d64[t];
      // W = C · D
      k.gemm(false, false, n, wk, wk, 1, C, 0, wk, D, 0, wk, 0, W, 0, wk);
      // trailing update of every other panel, its lower rows
      for (let jb = 0; jb < nb; jb++) {
        if (jb === kb) continue;
        const j0 = jb * b;
        const wj = Math.min(b, n - j0);
        const pj = panels[jb];
        k.gemm(false, true, n - j0, wj, wk, -1, W, j0 * wk, wk, C, j0 * wk, wk, 1, pj, 0, wj);
        if (jb < kb) {
          // row block k of panel j: A_kj = W_jᵀ
          for (let t = 0; t < wk; t++) {
            const dst = (k0 + t - j0) * wj;
            for (let sIdx = 0; sIdx < wj; sIdx++) pj[dst + sIdx] = W[(j0 + sIdx) * wk + t];
          }
        }
      }
      // panel k: A_ik = W_i below the block, A_kk = −D
      pk.set(W.subarray(k0 * wk, n * wk));
      for (let t = 0; t < wk * wk; t++) pk[t] = -d64[t];
      progress?.(kb + 1, nb);
    }
    // A = −A₀⁻¹
    for (const p of panels) for (let t = 0; t < p.length; t++) p[t] = -p[t];
  } finally {
    if (kk.free && kk.owns) {
      for (const a of [D, W, C]) if (kk.owns(a)) kk.free(a);
    }
  }
}

/**
 * Solves A·x = b for a small dense SPD matrix in place (float64): A (d×d, row-major; only its lower
 * triangle is read) becomes its Cholesky factor L (A = L·Lᵀ, in the lower triangle), b becomes x.
 * d³/6 flops; for the d×d normal equations of alternating least squares. Throws on a matrix that is
 * not positive definite (a pivot ≤ 0 or not finite).
 */
export function choleskySolveInPlace(d: number, a: Float64Array, b: Float64Array): void {
  if (a.length < d * d || b.length < d) throw new RangeError(`choleskySolveInPlace: ${a.length} entries and ${b.length} for d = ${d}`);
  for (let j = 0; j < d; j++) {
    const rj = j * d;
    let s = a[rj + j];
    for (let k = 0; k < j; k++) s -= a[rj + k] * a[rj + k];
    if (!(s > 0) || !Number.isFinite(s)) throw new Error(`choleskySolveInPlace: the matrix is not positive definite (pivot ${j} is ${s})`);
    const ljj = Math.sqrt(s);
    a[rj + j] = ljj;
    for (let i = j + 1; i < d; i++) {
      const ri = i * d;
      let t = a[ri + j];
      for (let k = 0; k < j; k++) t -= a[ri + k] * a[rj + k];
      a[ri + j] = t / ljj;
    }
  }
  // L·y = b, then Lᵀ·x = y
  for (let i = 0; i < d; i++) {
    const ri = i * d;
    let t = b[i];
    for (let k = 0; k < i; k++) t -= a[ri + k] * b[k];
    b[i] = t / a[ri + i];
  }
  for (let i = d - 1; i >= 0; i--) {
    let t = b[i];
    for (let k = i + 1; k < d; k++) t -= a[k * d + i] * b[k];
    b[i] = t / a[i * d + i];
  }
}

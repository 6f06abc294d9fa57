// GEMM for the WebAssembly SIMD backend (AssemblyScript).
//
// C = alpha · op(A) · op(B) + beta · C, row-major, BLAS semantics (beta = 0 ignores C's contents).
// All pointers are byte addresses into the (imported, shared) linear memory; leading dimensions
// and strides are in elements. `pack` points at a per-thread scratch area of `packBytes()` bytes
// (the JS side allocates it; each worker thread needs its own).
//
// Blocking (GotoBLAS-style, sized for one core's L1/L2):
//   for jc in N by NC:  for pc in K by KC:  pack op(B)[pc:pc+kc, jc:jc+nc] into 8-column panels
//     for ic in M by MC:  pack op(A)[ic:ic+MC, pc:pc+kc] into 5-row slivers (rows interleaved per
//                         k; transposed A: the whole block up front, else each sliver when used)
//       for each sliver:  for each 8-column panel: micro-kernel 5×8 (10 v128 accumulators);
//                         a last panel of at most 4 columns: 10×4 over this and the previous
//                         sliver, every second sliver (5×4 for a lone last sliver).
// Packing makes the micro-kernel identical for all four transpose combinations and turns every
// edge (M, N, K not multiples of the block) into zero padding, except the final store which
// writes only the valid rows/columns.
//
// Why 5×8: V8 has 15 allocatable xmm registers; 5×8 uses 10 accumulators + 2 B vectors + 1
// broadcast (+1 temp for mul+add) and measured faster than 4×8 in both builds, while 6×8 spills
// without FMA. And 5 divides SASRec's row counts (50, 200, batch·maxlen), so no row tail.
// The k loop does one k per iteration: unrolling makes V8 hoist all the broadcasts and spill
// accumulators (slower end to end). Reading A in place instead of packing it costs more per k
// (4 pointer bumps + zero-extensions) than the packing does.
//
// Built twice by scripts/build-wasm.mjs: plain SIMD (mul + add) and relaxed SIMD
// (f32x4.relaxed_madd, a fused multiply-add on x64 with FMA).

const MR: i32 = 5;
const NR: i32 = 8;
const KC: i32 = 256;
const NC: i32 = 512;

// Pack-area layout (bytes from `pack`): packed B (KC·NC floats), packed A (KC·MC floats),
// an MR×NR float tile for edge stores.
const PACK_B_BYTES: i32 = KC * NC * 4;
const MC: i32 = 200; // rows of A packed per block (multiple of MR)
const PACK_A_BYTES: i32 = KC * MC * 4 + 16; // MC ≥ 2·MR (two slivers for row-major A)
const TILE_BYTES: i32 = MR * NR * 4;

/** Bytes of scratch a caller must pass as `pack` (per thread). */
export function packBytes(): i32 {
  return PACK_B_BYTES + PACK_A_BYTES + TILE_BYTES;
}

/** First byte the JS allocator may use (everything below belongs to AssemblyScript's statics). */
export function heapBase(): usize {
  return __heap_base;
}

/** 1 when this build uses relaxed-SIMD fused multiply-add. */
export function isRelaxed(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}

@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

@inline function imin(a: i32, b: i32): i32 {
  return a < b ? a : b;
}

// ---------------------------------------------------------------------------------------------
// Packing

/**
 * Packs op(B)[pc:pc+kc, jc:jc+nc] into ceil(nc/8) panels; panel p holds kc rows of 8 floats
 * (columns jc+8p … jc+8p+7, zero beyond nc). A last panel of at most 4 columns is packed 4 wide
 * (kc rows of 4 floats) for the 5×4 micro-kernel.
 */
function packB(transB: bool, b: usize, ldb: i32, pc: i32, jc: i32, kc: i32, nc: i32, dst: usize): void {
  const ldbB = <usize>ldb << 2;
  for (let j0 = 0; j0 < nc; j0 += NR) {
    const w = imin(NR, nc - j0);
    const pw = w <= 4 ? 4 : NR; // packed width
    let d = dst + (<usize>(j0 * kc) << 2);
    if (!transB) {
      // op(B)[k][j] = B[k*ldb + j]: rows are contiguous along j.
      let s = b + ((<usize>pc * <usize>ldb + <usize>(jc + j0)) << 2);
      if (w == 8) {
        for (let k = 0; k < kc; k++) {
          v128.store(d, v128.load(s));
          v128.store(d, v128.load(s, 16), 16);
          s += ldbB;
          d += 32;
        }
      } else if (w == 4) {
        for (let k = 0; k < kc; k++) {
          v128.store(d, v128.load(s));
          s += ldbB;
          d += 16;
        }
      } else {
        const pwB = <usize>pw << 2;
        for (let k = 0; k < kc; k++) {
          v128.store(d, f32x4.splat(0));
          if (pw == 8) v128.store(d, f32x4.splat(0), 16);
          for (let j = 0; j < w; j++) store<f32>(d + (<usize>j << 2), load<f32>(s + (<usize>j << 2)));
          s += ldbB;
          d += pwB;
        }
      }
    } else {
      // op(B)[k][j] = B[j*ldb + k]: column j of op(B) is row j of B, contiguous along k.
      const pwB = <usize>pw << 2;
      if (w < pw) {
        // zero the padding columns
        let z = d;
        for (let k = 0; k < kc; k++) {
          v128.store(z, f32x4.splat(0));
          if (pw == 8) v128.store(z, f32x4.splat(0), 16);
          z += pwB;
        }
      }
      let j = 0;
      // 4 columns at a time: load 4 k-values from each of 4 rows of B, transpose 4×4.
      for (; j + 4 <= w; j += 4) {
        const s0 = b + ((<usize>(jc + j0 + j) * <usize>ldb + <usize>pc) << 2);
        const s1 = s0 + ldbB;
        const s2 = s1 + ldbB;
        const s3 = s2 + ldbB;
        let dd = d + (<usize>j << 2);
        let k = 0;
        for (; k + 4 <= kc; k += 4) {
          const o = <usize>k << 2;
          const r0 = v128.load(s0 + o);
          const r1 = v128.load(s1 + o);
          const r2 = v128.load(s2 + o);
          const r3 = v128.load(s3 + o);
          const t0 = f32x4.shuffle(r0, r1, 0, 4, 1, 5);
          const t1 = f32x4.shuffle(r0, r1, 2, 6, 3, 7);
          const t2 = f32x4.shuffle(r2, r3, 0, 4, 1, 5);
          const t3 = f32x4.shuffle(r2, r3, 2, 6, 3, 7);
          v128.store(dd, f32x4.shuffle(t0, t2, 0, 1, 4, 5));
          dd += pwB;
          v128.store(dd, f32x4.shuffle(t0, t2, 2, 3, 6, 7));
          dd += pwB;
          v128.store(dd, f32x4.shuffle(t1, t3, 0, 1, 4, 5));
          dd += pwB;
          v128.store(dd, f32x4.shuffle(t1, t3, 2, 3, 6, 7));
          dd += pwB;
        }
        for (; k < kc; k++) {
          const o = <usize>k << 2;
          store<f32>(dd, load<f32>(s0 + o));
          store<f32>(dd, load<f32>(s1 + o), 4);
          store<f32>(dd, load<f32>(s2 + o), 8);
          store<f32>(dd, load<f32>(s3 + o), 12);
          dd += pwB;
        }
      }
      for (; j < w; j++) {
        let s = b + ((<usize>(jc + j0 + j) * <usize>ldb + <usize>pc) << 2);
        let dd = d + (<usize>j << 2);
        for (let k = 0; k < kc; k++) {
          store<f32>(dd, load<f32>(s));
          s += 4;
          dd += pwB;
        }
      }
    }
  }
}

/**
 * Packs op(A)[ic:ic+mc, pc:pc+kc] (times alpha) as ceil(mc/5) slivers of kc groups of 5 floats
 * (rows 5q…5q+4 at one k; zero for rows ≥ mc); sliver q starts at dst + q·kc·20 bytes.
 * Writes up to 12 bytes past the last sliver (PACK_A_BYTES has room).
 */
function packA(transA: bool, a: usize, lda: i32, ic: i32, pc: i32, mc: i32, kc: i32, dst: usize, alpha: f32): void {
  const sliverB = <usize>kc * <usize>(MR << 2);
  if (transA) {
    packAT(a, lda, ic, pc, mc, kc, dst, sliverB);
  } else {
    for (let q = 0; q < mc; q += MR) packANSliver(a, lda, ic + q, pc, imin(MR, mc - q), kc, dst + <usize>(q / MR) * sliverB);
  }
  if (alpha != 1) {
    // alpha is folded into packed A so the micro-kernels never see it: keeping alpha live
    // across their loop (or scaling the accumulators after it) makes V8 spill accumulators.
    const av = f32x4.splat(alpha);
    const end = dst + <usize>((mc + MR - 1) / MR) * sliverB;
    for (let d = dst; d < end; d += 16) v128.store(d, f32x4.mul(v128.load(d), av));
  }
}

/**
 * Transposed A (op(A)[i][k] = A[k*lda + i]): the rows at one k are contiguous, so walk A row by
 * row (k), reading sequentially, and scatter 5 floats to each sliver.
 */
function packAT(a: usize, lda: i32, ic: i32, pc: i32, mc: i32, kc: i32, dst: usize, sliverB: usize): void {
  const ldaB = <usize>lda << 2;
  const G: usize = <usize>MR << 2; // bytes per k group
  const full = mc / MR;
  const rest = mc - full * MR;
  let s = a + ((<usize>pc * <usize>lda + <usize>ic) << 2);
  let d = dst;
  for (let k = 0; k < kc; k++) {
    let sq = s;
    let dq = d;
    for (let q = 0; q < full; q++) {
      v128.store(dq, v128.load(sq));
      store<f32>(dq, load<f32>(sq, 16), 16);
      sq += G;
      dq += sliverB;
    }
    if (rest > 0) {
      v128.store(dq, f32x4.splat(0));
      store<f32>(dq, 0, 16);
      for (let r = 0; r < rest; r++) store<f32>(dq + (<usize>r << 2), load<f32>(sq + (<usize>r << 2)));
    }
    s += ldaB;
    d += G;
  }
}

/**
 * Row-major A (op(A)[i][k] = A[i*lda + k]), one sliver of mr ≤ 5 rows: each row is contiguous
 * along k; transpose 4×4 blocks of rows 0-3 and copy row 4 lane by lane.
 */
function packANSliver(a: usize, lda: i32, i0: i32, pc: i32, mr: i32, kc: i32, dst: usize): void {
  const ldaB = <usize>lda << 2;
  const G: usize = <usize>MR << 2; // bytes per k group
  const s0 = a + ((<usize>i0 * <usize>lda + <usize>pc) << 2);
  if (mr == 5) {
    const s1 = s0 + ldaB;
    const s2 = s1 + ldaB;
    const s3 = s2 + ldaB;
    const s4 = s3 + ldaB;
    let d = dst;
    let k = 0;
    for (; k + 4 <= kc; k += 4) {
      const o = <usize>k << 2;
      const r0 = v128.load(s0 + o);
      const r1 = v128.load(s1 + o);
      const r2 = v128.load(s2 + o);
      const r3 = v128.load(s3 + o);
      const r4 = v128.load(s4 + o);
      const t0 = f32x4.shuffle(r0, r1, 0, 4, 1, 5);
      const t1 = f32x4.shuffle(r0, r1, 2, 6, 3, 7);
      const t2 = f32x4.shuffle(r2, r3, 0, 4, 1, 5);
      const t3 = f32x4.shuffle(r2, r3, 2, 6, 3, 7);
      v128.store(d, f32x4.shuffle(t0, t2, 0, 1, 4, 5));
      v128.store32_lane(d, r4, 0, 16);
      v128.store(d, f32x4.shuffle(t0, t2, 2, 3, 6, 7), 20);
      v128.store32_lane(d, r4, 1, 36);
      v128.store(d, f32x4.shuffle(t1, t3, 0, 1, 4, 5), 40);
      v128.store32_lane(d, r4, 2, 56);
      v128.store(d, f32x4.shuffle(t1, t3, 2, 3, 6, 7), 60);
      v128.store32_lane(d, r4, 3, 76);
      d += 80;
    }
    for (; k < kc; k++) {
      const o = <usize>k << 2;
      store<f32>(d, load<f32>(s0 + o));
      store<f32>(d, load<f32>(s1 + o), 4);
      store<f32>(d, load<f32>(s2 + o), 8);
      store<f32>(d, load<f32>(s3 + o), 12);
      store<f32>(d, load<f32>(s4 + o), 16);
      d += G;
    }
  } else {
    let d = dst;
    for (let k = 0; k < kc; k++) {
      v128.store(d, f32x4.splat(0));
      store<f32>(d, 0, 16);
      d += G;
    }
    for (let r = 0; r < mr; r++) {
      let s = s0 + <usize>r * ldaB;
      let dd = dst + (<usize>r << 2);
      for (let k = 0; k < kc; k++) {
        store<f32>(dd, load<f32>(s));
        s += 4;
        dd += G;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Micro-kernels

/** Edge store from the tile: rows < mr, columns < nr. */
function storeTile(tile: usize, tileW: i32, c: usize, ldc: i32, mr: i32, nr: i32, beta: f32): void {
  const ldcB = <usize>ldc << 2;
  for (let r = 0; r < mr; r++) {
    const cr = c + <usize>r * ldcB;
    const tr = tile + (<usize>(r * tileW) << 2);
    if (beta == 0) {
      for (let j = 0; j < nr; j++) store<f32>(cr + (<usize>j << 2), load<f32>(tr + (<usize>j << 2)));
    } else {
      for (let j = 0; j < nr; j++) {
        const p = cr + (<usize>j << 2);
        store<f32>(p, load<f32>(tr + (<usize>j << 2)) + beta * load<f32>(p));
      }
    }
  }
}

/** C row segment update: c = acc (beta 0), c += acc (beta 1), c = beta·c + acc. */
@inline function upd(c: usize, acc: v128, beta: f32, bv: v128): void {
  if (beta == 0) v128.store(c, acc);
  else if (beta == 1) v128.store(c, f32x4.add(v128.load(c), acc));
  else v128.store(c, madd(v128.load(c), bv, acc));
}

/** 5×8 block of C: ap = packed A (kc × 5), bp = packed B panel (kc × 8). */
function kernel5x8(kc: i32, ap: usize, bp: usize, c: usize, ldc: i32, beta: f32,
                   mr: i32, nr: i32, tile: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let c40 = f32x4.splat(0), c41 = f32x4.splat(0);
  const end = bp + (<usize>kc << 5);
  while (bp < end) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let x = v128.load32_splat(ap);
    c00 = madd(x, b0, c00); c01 = madd(x, b1, c01);
    x = v128.load32_splat(ap, 4);
    c10 = madd(x, b0, c10); c11 = madd(x, b1, c11);
    x = v128.load32_splat(ap, 8);
    c20 = madd(x, b0, c20); c21 = madd(x, b1, c21);
    x = v128.load32_splat(ap, 12);
    c30 = madd(x, b0, c30); c31 = madd(x, b1, c31);
    x = v128.load32_splat(ap, 16);
    c40 = madd(x, b0, c40); c41 = madd(x, b1, c41);
    ap += 20;
    bp += 32;
  }
  if (mr == 5 && nr == 8) {
    const ldcB = <usize>ldc << 2;
    const bv = f32x4.splat(beta);
    upd(c, c00, beta, bv); upd(c + 16, c01, beta, bv);
    c += ldcB;
    upd(c, c10, beta, bv); upd(c + 16, c11, beta, bv);
    c += ldcB;
    upd(c, c20, beta, bv); upd(c + 16, c21, beta, bv);
    c += ldcB;
    upd(c, c30, beta, bv); upd(c + 16, c31, beta, bv);
    c += ldcB;
    upd(c, c40, beta, bv); upd(c + 16, c41, beta, bv);
  } else {
    v128.store(tile, c00); v128.store(tile, c01, 16);
    v128.store(tile, c10, 32); v128.store(tile, c11, 48);
    v128.store(tile, c20, 64); v128.store(tile, c21, 80);
    v128.store(tile, c30, 96); v128.store(tile, c31, 112);
    v128.store(tile, c40, 128); v128.store(tile, c41, 144);
    storeTile(tile, 8, c, ldc, mr, nr, beta);
  }
}

/**
 * 5×4 block for a last panel of at most 4 columns (bp = packed B panel, kc × 4): cheaper than a
 * 5×8 block over a zero-padded 8-wide panel.
 */
function kernel5x4(kc: i32, ap: usize, bp: usize, c: usize, ldc: i32, beta: f32,
                   mr: i32, nr: i32, tile: usize): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0), c4 = f32x4.splat(0);
  const end = bp + (<usize>kc << 4);
  while (bp < end) {
    const b = v128.load(bp);
    c0 = madd(v128.load32_splat(ap), b, c0);
    c1 = madd(v128.load32_splat(ap, 4), b, c1);
    c2 = madd(v128.load32_splat(ap, 8), b, c2);
    c3 = madd(v128.load32_splat(ap, 12), b, c3);
    c4 = madd(v128.load32_splat(ap, 16), b, c4);
    ap += 20;
    bp += 16;
  }
  if (mr == 5 && nr == 4) {
    const ldcB = <usize>ldc << 2;
    const bv = f32x4.splat(beta);
    upd(c, c0, beta, bv);
    c += ldcB;
    upd(c, c1, beta, bv);
    c += ldcB;
    upd(c, c2, beta, bv);
    c += ldcB;
    upd(c, c3, beta, bv);
    c += ldcB;
    upd(c, c4, beta, bv);
  } else {
    v128.store(tile, c0);
    v128.store(tile, c1, 16);
    v128.store(tile, c2, 32);
    v128.store(tile, c3, 48);
    v128.store(tile, c4, 64);
    storeTile(tile, 4, c, ldc, mr, nr, beta);
  }
}

/**
 * 10×4 block for a last panel of at most 4 columns over two slivers (ap0: rows 0-4, ap1: rows
 * 5-9): 10 accumulators like the 5×8 kernel, so a narrow tail (N = 50: 2 columns) costs less per
 * 5 rows than with the 5×4 kernel.
 */
function kernel10x4(kc: i32, ap0: usize, ap1: usize, bp: usize, c: usize, ldc: i32, beta: f32,
                    mr: i32, nr: i32, tile: usize): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0), c4 = f32x4.splat(0);
  let c5 = f32x4.splat(0), c6 = f32x4.splat(0), c7 = f32x4.splat(0), c8 = f32x4.splat(0), c9 = f32x4.splat(0);
  const end = bp + (<usize>kc << 4);
  while (bp < end) {
    const b = v128.load(bp);
    c0 = madd(v128.load32_splat(ap0), b, c0);
    c1 = madd(v128.load32_splat(ap0, 4), b, c1);
    c2 = madd(v128.load32_splat(ap0, 8), b, c2);
    c3 = madd(v128.load32_splat(ap0, 12), b, c3);
    c4 = madd(v128.load32_splat(ap0, 16), b, c4);
    c5 = madd(v128.load32_splat(ap1), b, c5);
    c6 = madd(v128.load32_splat(ap1, 4), b, c6);
    c7 = madd(v128.load32_splat(ap1, 8), b, c7);
    c8 = madd(v128.load32_splat(ap1, 12), b, c8);
    c9 = madd(v128.load32_splat(ap1, 16), b, c9);
    ap0 += 20;
    ap1 += 20;
    bp += 16;
  }
  if (mr == 10 && nr == 4) {
    const ldcB = <usize>ldc << 2;
    const bv = f32x4.splat(beta);
    upd(c, c0, beta, bv); c += ldcB;
    upd(c, c1, beta, bv); c += ldcB;
    upd(c, c2, beta, bv); c += ldcB;
    upd(c, c3, beta, bv); c += ldcB;
    upd(c, c4, beta, bv); c += ldcB;
    upd(c, c5, beta, bv); c += ldcB;
    upd(c, c6, beta, bv); c += ldcB;
    upd(c, c7, beta, bv); c += ldcB;
    upd(c, c8, beta, bv); c += ldcB;
    upd(c, c9, beta, bv);
  } else {
    v128.store(tile, c0); v128.store(tile, c1, 16); v128.store(tile, c2, 32);
    v128.store(tile, c3, 48); v128.store(tile, c4, 64); v128.store(tile, c5, 80);
    v128.store(tile, c6, 96); v128.store(tile, c7, 112); v128.store(tile, c8, 128);
    v128.store(tile, c9, 144);
    storeTile(tile, 4, c, ldc, mr, nr, beta);
  }
}

// ---------------------------------------------------------------------------------------------
// Drivers

/** C = beta·C over M×N (used when alpha = 0 or K = 0); beta = 0 writes zeros. */
function scaleC(M: i32, N: i32, beta: f32, c: usize, ldc: i32): void {
  for (let i = 0; i < M; i++) {
    const cr = c + (<usize>i * <usize>ldc << 2);
    for (let j = 0; j < N; j++) {
      const p = cr + (<usize>j << 2);
      store<f32>(p, beta == 0 ? 0 : beta * load<f32>(p));
    }
  }
}

/** C = alpha · op(A) · op(B) + beta · C. transA/transB: 0 or 1. */
export function gemm(transA: i32, transB: i32, M: i32, N: i32, K: i32, alpha: f32,
                     a: usize, lda: i32, b: usize, ldb: i32,
                     beta: f32, c: usize, ldc: i32, pack: usize): void {
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == 0) {
    if (beta != 1) scaleC(M, N, beta, c, ldc);
    return;
  }
  const tA = transA != 0;
  const tB = transB != 0;
  const packedB = pack;
  const packedA = pack + <usize>PACK_B_BYTES;
  const tile = packedA + <usize>PACK_A_BYTES;
  // split K into equal blocks of at most KC (so no short last block)
  const kBlocks = (K + KC - 1) / KC;
  const kcMax = (K + kBlocks - 1) / kBlocks;
  const ldcB = <usize>ldc << 2;
  for (let jc = 0; jc < N; jc += NC) {
    const nc = imin(NC, N - jc);
    for (let pc = 0; pc < K; pc += kcMax) {
      const kc = imin(kcMax, K - pc);
      const betaK: f32 = pc == 0 ? beta : 1;
      packB(tB, b, ldb, pc, jc, kc, nc, packedB);
      for (let ic = 0; ic < M; ic += MC) {
        const mc = imin(MC, M - ic);
        // Transposed A: pack the whole block first, reading A row by row (sequentially; per
        // sliver it would be a strided walk, slower on attention's backward). Row-major A:
        // pack each sliver right before its panels (it stays in L1; a 200-row block would not,
        // and was slower on the projections).
        if (tA) packA(true, a, lda, ic, pc, mc, kc, packedA, alpha);
        const sliverB = <usize>kc * <usize>(MR << 2);
        for (let ir = 0; ir < mc; ir += MR) {
          const q = ir / MR; // sliver index
          const mr = imin(MR, mc - ir);
          // transposed A: the packed block; row-major A: two alternating sliver buffers (a
          // narrow last panel is done for two slivers at once by the 10×4 kernel)
          const ap = packedA + <usize>(tA ? q : q & 1) * sliverB;
          if (!tA) packA(false, a, lda, ic + ir, pc, mr, kc, ap, alpha);
          const cRow = c + <usize>(ic + ir) * ldcB + (<usize>jc << 2);
          let j0 = 0;
          for (; j0 + NR <= nc; j0 += NR) {
            kernel5x8(kc, ap, packedB + (<usize>(j0 * kc) << 2), cRow + (<usize>j0 << 2), ldc, betaK, mr, NR, tile);
          }
          if (j0 < nc) {
            const nr = nc - j0;
            const bp = packedB + (<usize>(j0 * kc) << 2);
            const cj = <usize>j0 << 2;
            if (nr > 4) {
              kernel5x8(kc, ap, bp, cRow + cj, ldc, betaK, mr, nr, tile);
            } else if ((q & 1) == 1) {
              // this sliver and the previous one (always a full 5 rows)
              kernel10x4(kc, ap - sliverB, ap, bp, cRow - <usize>MR * ldcB + cj, ldc, betaK, MR + mr, nr, tile);
            } else if (ir + MR >= mc) {
              kernel5x4(kc, ap, bp, cRow + cj, ldc, betaK, mr, nr, tile); // a lone last sliver
            } // else: done with the next sliver
          }
        }
      }
    }
  }
}

/**
 * `batch` independent GEMMs of the same shape; matrix t uses A + t·strideA, B + t·strideB,
 * C + t·strideC (strides in elements; a stride of 0 shares that operand across the batch).
 */
export function gemmBatched(transA: i32, transB: i32, M: i32, N: i32, K: i32, alpha: f32,
                            a: usize, lda: i32, b: usize, ldb: i32,
                            beta: f32, c: usize, ldc: i32,
                            batch: i32, strideA: i32, strideB: i32, strideC: i32, pack: usize): void {
  const sA = <usize>strideA << 2;
  const sB = <usize>strideB << 2;
  const sC = <usize>strideC << 2;
  for (let t = 0; t < batch; t++) {
    gemm(transA, transB, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc, pack);
    a += sA;
    b += sB;
    c += sC;
  }
}

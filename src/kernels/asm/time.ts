// TiSASRec's time-aware attention kernels for the WebAssembly SIMD backend: relation indices, the
// softmax (with the interval-table gather and the bucket scatter) and its backward, the per-sequence
// compaction of relation indices, and the query-rows ↔ dense-rows copies.
// Semantics: the "time-aware attention" kernels of Kernels in src/kernels/types.ts.
//
// Pointers are byte addresses of element 0 of each array (offsets applied by the caller); qStart,
// qCount and qPadded are i32 arrays. Per-row arrays: row r at base + r·len (or r·numBuckets).
// The gathers and scatters through rel are scalar (wasm has no gather); exp, the normalisation,
// the dropout and the softmax backward's products are vectorised. Kernels that index through rel
// check every index first-use and return the flat position of the first bad one + 1 (0: all fine),
// so that a bad index never writes outside its row in the shared memory.

import { dropApply, dropThresholdU32, expv, hmax, hsum, rngLoad, rngRaw, rngSave } from './common';

/** Work space (bytes) the softmax kernels need for rows of `len` keys. */
export function timeScratchBytes(len: i32): i32 {
  return 2 * (((len + 8) * 4 + 63) & ~63);
}

/** s[0..count) = e^(s − max) in place; returns Σ (float32). Lanes past count are not written. */
function expShiftSum(s: usize, count: i32, max: f32): f32 {
  const mv = f32x4.splat(max);
  let acc = f32x4.splat(0);
  let j = 0;
  for (; j + 4 <= count; j += 4) {
    const p = s + (<usize>j << 2);
    const e = expv(f32x4.sub(v128.load(p), mv));
    v128.store(p, e);
    acc = f32x4.add(acc, e);
  }
  let sum = hsum(acc);
  if (j < count) {
    // the tail as one vector; the work row has room past count, lanes ≥ count are masked out
    const p = s + (<usize>j << 2);
    const keepLanes = i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(count - j));
    const e = v128.and(expv(f32x4.sub(v128.load(p), mv)), keepLanes);
    v128.store(p, e);
    sum += hsum(e);
  }
  return sum;
}

/** dst[j] = src[j] · inv for j < count. */
function scaleRow(src: usize, count: i32, inv: f32, dst: usize): void {
  const iv = f32x4.splat(inv);
  let j = 0;
  for (; j + 4 <= count; j += 4) {
    const o = <usize>j << 2;
    v128.store(dst + o, f32x4.mul(v128.load(src + o), iv));
  }
  for (; j < count; j++) {
    const o = <usize>j << 2;
    store<f32>(dst + o, load<f32>(src + o) * inv);
  }
}

/** dst[j] = value for j < count. */
function splatRow(dst: usize, count: i32, value: f32): void {
  const v = f32x4.splat(value);
  let j = 0;
  for (; j + 4 <= count; j += 4) v128.store(dst + (<usize>j << 2), v);
  for (; j < count; j++) store<f32>(dst + (<usize>j << 2), value);
}

/**
 * Zeroes n floats at p. (A store loop: V8 runs memory.fill as a call into the runtime, which costs
 * more than the few hundred bytes of a row.)
 */
function zeroFloats(p: usize, n: i32): void {
  const z = f32x4.splat(0);
  let j = 0;
  for (; j + 4 <= n; j += 4) v128.store(p + (<usize>j << 2), z);
  for (; j < n; j++) store<f32>(p + (<usize>j << 2), 0);
}

/** Zeroes floats [from, to) of a row. */
@inline function zeroTail(row: usize, from: i32, to: i32): void {
  if (to > from) zeroFloats(row + (<usize>from << 2), to - from);
}

/**
 * bucket[rel_j] += w_j for j < count, with each run of equal indices summed in a register first
 * (runs are common: all padding keys share the clipped interval), 4 at a time inside a run, so that
 * consecutive adds to one bucket neither wait on each other's stores nor form one long add chain.
 * (Float sums in a different order than the reference's: equal up to rounding.)
 */
function scatterRuns(rRow: usize, w: usize, count: i32, bucket: usize): void {
  let cur = load<i32>(rRow);
  let acc: f32 = 0;
  let j = 0;
  for (; j + 4 <= count; j += 4) {
    const o = <usize>j << 2;
    if (i32x4.all_true(i32x4.eq(v128.load(rRow + o), i32x4.splat(cur)))) {
      acc += hsum(v128.load(w + o));
      continue;
    }
    for (let jj = 0; jj < 4; jj++) {
      const oo = o + (<usize>jj << 2);
      const k = load<i32>(rRow + oo);
      const v = load<f32>(w + oo);
      if (k == cur) {
        acc += v;
      } else {
        const p = bucket + (<usize>cur << 2);
        store<f32>(p, load<f32>(p) + acc);
        cur = k;
        acc = v;
      }
    }
  }
  for (; j < count; j++) {
    const o = <usize>j << 2;
    const k = load<i32>(rRow + o);
    const v = load<f32>(w + o);
    if (k == cur) {
      acc += v;
    } else {
      const p = bucket + (<usize>cur << 2);
      store<f32>(p, load<f32>(p) + acc);
      cur = k;
      acc = v;
    }
  }
  const p = bucket + (<usize>cur << 2);
  store<f32>(p, load<f32>(p) + acc);
}

/** The 4 floats table[idx lane] for the 4 indices in idx. */
@inline function gather4(table: usize, idx: v128): v128 {
  let v = v128.load32_zero(table + (<usize>i32x4.extract_lane(idx, 0) << 2));
  v = v128.load32_lane(table + (<usize>i32x4.extract_lane(idx, 1) << 2), v, 1);
  v = v128.load32_lane(table + (<usize>i32x4.extract_lane(idx, 2) << 2), v, 2);
  return v128.load32_lane(table + (<usize>i32x4.extract_lane(idx, 3) << 2), v, 3);
}

/** Returns the first j < count with rel[j] ∉ [0, nb) + 1, or 0. */
function checkRel(rRow: usize, count: i32, nb: i32): i32 {
  const lim = <u32>nb;
  for (let j = 0; j < count; j++) if (load<u32>(rRow + (<usize>j << 2)) >= lim) return j + 1;
  return 0;
}

/**
 * Kernels.timeAttentionSoftmaxForward. rng: 4 u32 of xoshiro128** state (0: no dropout).
 * Returns 0, or 1 + the flat element (r·len + j) of the first relation index out of [0, nb).
 */
export function timeSoftmaxForward(
  numSeq: i32, len: i32, nb: i32, qStart: usize, qCount: usize, qPadded: usize,
  scores: usize, tq: usize, rel: usize, dropP: f64, rng: usize,
  probs: usize, dropped: usize, bucket: usize, work: usize,
): i32 {
  const useDrop = dropP > 0 && rng != 0;
  if (useDrop) rngLoad(rng);
  const thr = dropThresholdU32(dropP);
  const keep: f64 = 1 / (1 - dropP);
  const uniform: f32 = <f32>(1.0 / <f64>len);
  const lenB = <usize>len << 2;
  const nbB = <usize>nb << 2;
  const s = work;
  const raw = work + ((((<usize>len + 8) << 2) + 63) & ~63);
  let bad = 0;
  for (let b = 0; b < numSeq && bad == 0; b++) {
    const n = load<i32>(qCount + (<usize>b << 2));
    const r0 = load<i32>(qStart + (<usize>b << 2));
    for (let i = 0; i < n; i++) {
      const r = r0 + i;
      const t = len - n + i;
      const pRow = probs + <usize>r * lenB;
      const aRow = dropped + <usize>r * lenB;
      const rRow = rel + <usize>r * lenB;
      const bRow = bucket + <usize>r * nbB;
      const padded = load<i32>(qPadded + (<usize>r << 2)) != 0;
      const count = padded ? len : t + 1;
      zeroFloats(bRow, nb);
      if (padded) {
        const badJ = checkRel(rRow, count, nb);
        if (badJ != 0) {
          bad = r * len + badJ;
          break;
        }
        splatRow(pRow, len, uniform);
      } else {
        // s_j = scores_j + tq[rel_j] (checking rel_j first), then e^(s − max) / Σ
        const sRow = scores + <usize>r * lenB;
        const tRow = tq + <usize>r * nbB;
        const limV = i32x4.splat(nb);
        let maxV = f32x4.splat(-Infinity);
        let j = 0;
        for (; j + 4 <= count; j += 4) {
          const o = <usize>j << 2;
          const kv = v128.load(rRow + o);
          if (!i32x4.all_true(i32x4.lt_u(kv, limV))) break; // a bad index: found by the scalar loop
          const v = f32x4.add(v128.load(sRow + o), gather4(tRow, kv));
          v128.store(s + o, v);
          maxV = f32x4.pmax(maxV, v);
        }
        let max = hmax(maxV);
        let badJ = 0;
        const lim = <u32>nb;
        for (; j < count; j++) {
          const o = <usize>j << 2;
          const k = load<u32>(rRow + o);
          if (k >= lim) {
            badJ = j + 1;
            break;
          }
          const v = load<f32>(sRow + o) + load<f32>(tRow + (<usize>k << 2));
          store<f32>(s + o, v);
          max = v > max ? v : max;
        }
        if (badJ != 0) {
          bad = r * len + badJ;
          break;
        }
        const sum = expShiftSum(s, count, max);
        scaleRow(s, count, <f32>1 / sum, pRow);
        zeroTail(pRow, count, len);
      }
      let src = pRow;
      if (useDrop) {
        rngRaw(count, raw);
        dropApply(count, raw, thr, keep, pRow, 0, aRow);
        zeroTail(aRow, count, len);
        src = aRow;
      }
      scatterRuns(rRow, src, count, bRow);
    }
  }
  if (useDrop) rngSave(rng);
  return bad;
}

/**
 * Kernels.timeAttentionSoftmaxBackward (dA is overwritten with dS). Returns 0, or 1 + the flat
 * element (r·len + j) of the first relation index out of [0, nb).
 */
export function timeSoftmaxBackward(
  numSeq: i32, len: i32, nb: i32, qStart: usize, qCount: usize, qPadded: usize,
  probs: usize, dropped: usize, g: usize, rel: usize, dA: usize, dBucket: usize, work: usize,
): i32 {
  const lenB = <usize>len << 2;
  const nbB = <usize>nb << 2;
  const x = work;
  for (let b = 0; b < numSeq; b++) {
    const n = load<i32>(qCount + (<usize>b << 2));
    const r0 = load<i32>(qStart + (<usize>b << 2));
    for (let i = 0; i < n; i++) {
      const r = r0 + i;
      const count = len - n + i + 1;
      const dRow = dA + <usize>r * lenB;
      const bRow = dBucket + <usize>r * nbB;
      if (load<i32>(qPadded + (<usize>r << 2)) != 0) {
        zeroFloats(bRow, nb);
        zeroFloats(dRow, len);
        continue;
      }
      const rRow = rel + <usize>r * lenB;
      zeroFloats(bRow, nb);
      const pRow = probs + <usize>r * lenB;
      const aRow = dropped + <usize>r * lenB;
      const gRow = g + <usize>r * nbB;
      // x_j = A_j · (dA_j + g[rel_j]) (checking rel_j first); Σ x
      const limV = i32x4.splat(nb);
      let acc = f32x4.splat(0);
      let j = 0;
      for (; j + 4 <= count; j += 4) {
        const o = <usize>j << 2;
        const kv = v128.load(rRow + o);
        if (!i32x4.all_true(i32x4.lt_u(kv, limV))) break; // a bad index: found by the scalar loop
        const v = f32x4.mul(v128.load(aRow + o), f32x4.add(v128.load(dRow + o), gather4(gRow, kv)));
        v128.store(x + o, v);
        acc = f32x4.add(acc, v);
      }
      let sum = hsum(acc);
      const lim = <u32>nb;
      for (; j < count; j++) {
        const o = <usize>j << 2;
        const k = load<u32>(rRow + o);
        if (k >= lim) return r * len + j + 1;
        const v = load<f32>(aRow + o) * (load<f32>(dRow + o) + load<f32>(gRow + (<usize>k << 2)));
        store<f32>(x + o, v);
        sum += v;
      }
      // dS_j = x_j − P_j · Σ, and its buckets
      const sv = f32x4.splat(sum);
      j = 0;
      for (; j + 4 <= count; j += 4) {
        const o = <usize>j << 2;
        v128.store(dRow + o, f32x4.sub(v128.load(x + o), f32x4.mul(v128.load(pRow + o), sv)));
      }
      for (; j < count; j++) {
        const o = <usize>j << 2;
        store<f32>(dRow + o, load<f32>(x + o) - load<f32>(pRow + o) * sum);
      }
      scatterRuns(rRow, dRow, count, bRow);
      zeroTail(dRow, count, len);
    }
  }
  return 0;
}

/**
 * Kernels.timeRelations. times: f64 at element 0 of the batch; rel rows for the query rows.
 * rel = trunc(min(|τ_t − τ_j|, span)), NaN → 0 (as the reference's Int32Array store).
 */
export function timeRelationsK(
  numSeq: i32, len: i32, qStart: usize, qCount: usize, times: usize, span: f64, rel: usize,
): void {
  const lenB = <usize>len << 2;
  const spanV = f64x2.splat(span);
  for (let b = 0; b < numSeq; b++) {
    const n = load<i32>(qCount + (<usize>b << 2));
    const r0 = load<i32>(qStart + (<usize>b << 2));
    const tb = times + ((<usize>b * <usize>len) << 3);
    for (let i = 0; i < n; i++) {
      const ti = load<f64>(tb + (<usize>(len - n + i) << 3));
      const tv = f64x2.splat(ti);
      const row = rel + <usize>(r0 + i) * lenB;
      let j = 0;
      for (; j + 4 <= len; j += 4) {
        const tj = tb + (<usize>j << 3);
        // pmin(d, span) = span < d ? span : d, and d stays when it is NaN
        const lo = f64x2.pmin(f64x2.abs(f64x2.sub(tv, v128.load(tj))), spanV);
        const hi = f64x2.pmin(f64x2.abs(f64x2.sub(tv, v128.load(tj, 16))), spanV);
        v128.store(row + (<usize>j << 2), i32x4.shuffle(
          i32x4.trunc_sat_f64x2_s_zero(lo), i32x4.trunc_sat_f64x2_s_zero(hi), 0, 1, 4, 5,
        ));
      }
      for (; j < len; j++) {
        const d = Math.abs(ti - load<f64>(tb + (<usize>j << 3)));
        store<i32>(row + (<usize>j << 2), d == d ? <i32>(d > span ? span : d) : 0);
      }
    }
  }
}

/**
 * Kernels.compactRelations. work: 2·nb i32 (first-seen stamps and local numbers). Returns Σ U_b,
 * or −1 − (flat element) of the first relation index out of [0, nb).
 */
export function compactRelationsK(
  numSeq: i32, len: i32, nb: i32, qStart: usize, qCount: usize, rel: usize, local: usize,
  bucketStart: usize, bucketCount: usize, bucketIndex: usize, work: usize,
): i32 {
  const mark = work;
  const slot = work + (<usize>nb << 2);
  memory.fill(mark, 0, <usize>nb << 2);
  const lim = <u32>nb;
  let total = 0;
  for (let b = 0; b < numSeq; b++) {
    store<i32>(bucketStart + (<usize>b << 2), total);
    const stamp = b + 1;
    let u = 0;
    const e0 = <usize>load<i32>(qStart + (<usize>b << 2)) * <usize>len;
    const e1 = e0 + <usize>load<i32>(qCount + (<usize>b << 2)) * <usize>len;
    for (let e = e0; e < e1; e++) {
      const v = load<u32>(rel + (e << 2));
      if (v >= lim) return -1 - <i32>e;
      const m = mark + (<usize>v << 2);
      const sl = slot + (<usize>v << 2);
      if (load<i32>(m) != stamp) {
        store<i32>(m, stamp);
        store<i32>(sl, u);
        store<i32>(bucketIndex + (<usize>(total + u) << 2), v);
        u++;
      }
      store<i32>(local + (e << 2), load<i32>(sl));
    }
    store<i32>(bucketCount + (<usize>b << 2), u);
    total += u;
  }
  return total;
}

/** Kernels.unpackRows; fill = 0: zeros. */
export function unpackRowsK(
  numSeq: i32, len: i32, dim: i32, qStart: usize, qCount: usize, x: usize, fill: usize, out: usize,
): void {
  const rowB = <usize>dim << 2;
  for (let b = 0; b < numSeq; b++) {
    const n = load<i32>(qCount + (<usize>b << 2));
    const t0 = len - n;
    const o = out + <usize>b * <usize>len * rowB;
    if (fill != 0) {
      for (let t = 0; t < t0; t++) memory.copy(o + <usize>t * rowB, fill, rowB);
    } else if (t0 > 0) {
      memory.fill(o, 0, <usize>t0 * rowB);
    }
    memory.copy(o + <usize>t0 * rowB, x + <usize>load<i32>(qStart + (<usize>b << 2)) * rowB, <usize>n * rowB);
  }
}

/**
 * Kernels.unpackRowsBackward; dx = 0 / dFill = 0: not wanted. The fill gradient is summed in float64
 * (acc: dim f64 of work space), as the reference.
 */
export function unpackRowsBackwardK(
  numSeq: i32, len: i32, dim: i32, qStart: usize, qCount: usize, dOut: usize, dx: usize, dFill: usize, acc: usize,
): void {
  const rowB = <usize>dim << 2;
  if (dFill != 0) memory.fill(acc, 0, <usize>dim << 3);
  for (let b = 0; b < numSeq; b++) {
    const n = load<i32>(qCount + (<usize>b << 2));
    const t0 = len - n;
    const o = dOut + <usize>b * <usize>len * rowB;
    if (dFill != 0) {
      for (let t = 0; t < t0; t++) {
        const r = o + <usize>t * rowB;
        let c = 0;
        for (; c + 2 <= dim; c += 2) {
          const a = acc + (<usize>c << 3);
          v128.store(a, f64x2.add(v128.load(a), f64x2.promote_low_f32x4(v128.load64_zero(r + (<usize>c << 2)))));
        }
        if (c < dim) {
          const a = acc + (<usize>c << 3);
          store<f64>(a, load<f64>(a) + <f64>load<f32>(r + (<usize>c << 2)));
        }
      }
    }
    if (dx != 0) {
      const src = o + <usize>t0 * rowB;
      const dst = dx + <usize>load<i32>(qStart + (<usize>b << 2)) * rowB;
      const m = n * dim;
      let e = 0;
      for (; e + 4 <= m; e += 4) {
        const p = dst + (<usize>e << 2);
        v128.store(p, f32x4.add(v128.load(p), v128.load(src + (<usize>e << 2))));
      }
      for (; e < m; e++) {
        const p = dst + (<usize>e << 2);
        store<f32>(p, load<f32>(p) + load<f32>(src + (<usize>e << 2)));
      }
    }
  }
  if (dFill != 0) {
    for (let c = 0; c < dim; c++) {
      const p = dFill + (<usize>c << 2);
      store<f32>(p, <f32>(<f64>load<f32>(p) + load<f64>(acc + (<usize>c << 3))));
    }
  }
}

/**
 * JS side of the wasm TiSASRec kernels (src/kernels/asm/time.ts): relation indices, the time-aware
 * softmax forward/backward, the per-sequence compaction of relation indices and the query-rows ↔
 * dense-rows copies. Float arrays must live in the backend's memory (zero-copy); otherwise the call
 * falls back to the base (reference) kernel. Int32 arrays (relation indices, layout arrays) go
 * zero-copy when they live in wasm memory and are staged in the scratch block otherwise. Ranges and
 * relation indices are checked, so bad input throws instead of touching other buffers. No Node built-ins.
 */
import type { Kernels } from '../types.js';
import type { WasmArena } from './arena.js';
import type { Scratch } from './scratch.js';

export interface TimeExports {
  timeScratchBytes(len: number): number;
  timeSoftmaxForward(
    numSeq: number, len: number, nb: number, qStart: number, qCount: number, qPadded: number,
    scores: number, tq: number, rel: number, dropP: number, rng: number,
    probs: number, dropped: number, bucket: number, work: number,
  ): number;
  timeSoftmaxBackward(
    numSeq: number, len: number, nb: number, qStart: number, qCount: number, qPadded: number,
    probs: number, dropped: number, g: number, rel: number, dA: number, dBucket: number, work: number,
  ): number;
  timeRelationsK(numSeq: number, len: number, qStart: number, qCount: number, times: number, span: number, rel: number): void;
  compactRelationsK(
    numSeq: number, len: number, nb: number, qStart: number, qCount: number, rel: number, local: number,
    bucketStart: number, bucketCount: number, bucketIndex: number, work: number,
  ): number;
  unpackRowsK(numSeq: number, len: number, dim: number, qStart: number, qCount: number, x: number, fill: number, out: number): void;
  unpackRowsBackwardK(
    numSeq: number, len: number, dim: number, qStart: number, qCount: number, dOut: number, dx: number, dFill: number, acc: number,
  ): void;
}

type TimeKernels = Pick<Kernels,
  'timeRelations' | 'timeAttentionSoftmaxForward' | 'timeAttentionSoftmaxBackward' | 'compactRelations' |
  'unpackRows' | 'unpackRowsBackward'>;

/**
 * One call's operands for the scratch block: an i32 array range that is used in place when it
 * lives in wasm memory, else copied in (copyIn) and/or back (copyOut); an f64 array range (always
 * copied in); or `bytes` of work space.
 */
type Part =
  | { kind: 'i32'; arr: Int32Array; off: number; n: number; copyIn: boolean; copyOut: boolean }
  | { kind: 'f64'; arr: Float64Array; off: number; n: number }
  | { kind: 'work'; bytes: number };

const isInt = (v: number): boolean => (v | 0) === v;

export function timeKernels(ex: TimeExports, arena: WasmArena, scratch: Scratch, base: Kernels): TimeKernels {
  /** Byte address of x[off] after checking that x[off, off + extent) exists. */
  const at = (name: string, what: string, x: Float32Array, off: number, extent: number): number => {
    if (!(isInt(off) && off >= 0 && off + extent <= x.length)) {
      throw new RangeError(`${name} (wasm): ${what}[${off}, ${off + extent}) is out of bounds (length ${x.length})`);
    }
    return x.byteOffset + 4 * off;
  };

  /** Checks the query-row layout; returns [lo, hi): the rows of the sequences that have queries. */
  const queryRows = (name: string, numSeq: number, len: number, qStart: Int32Array, qCount: Int32Array): [number, number] => {
    if (!(isInt(numSeq) && numSeq >= 0 && isInt(len) && len >= 1)) throw new RangeError(`${name} (wasm): bad sizes ${numSeq} × ${len}`);
    if (qStart.length < numSeq || qCount.length < numSeq) throw new RangeError(`${name} (wasm): layout arrays shorter than ${numSeq}`);
    let lo = Infinity, hi = 0;
    for (let b = 0; b < numSeq; b++) {
      const s = qStart[b], n = qCount[b];
      if (!(n >= 0 && n <= len && s >= 0)) throw new RangeError(`${name} (wasm): sequence ${b} has ${n} query rows from ${s} (len ${len})`);
      if (n === 0) continue;
      if (s < lo) lo = s;
      if (s + n > hi) hi = s + n;
    }
    return lo === Infinity ? [0, 0] : [lo, hi];
  };

  /**
   * Stages parts in the scratch block, runs fn with their addresses, copies staged outputs back.
   * qStart/qCount go first, qStart shifted by −lo so that row lo of every per-row array is row 0.
   */
  const withParts = <R>(numSeq: number, qStart: Int32Array, qCount: Int32Array, lo: number, parts: Part[], fn: (a: number[]) => R): R => {
    const seqBytes = (4 * numSeq + 63) & ~63;
    const offs: number[] = [];
    let total = 2 * seqBytes;
    for (const p of parts) {
      let bytes = 0;
      if (p.kind === 'work') bytes = p.bytes;
      else if (p.kind === 'f64') bytes = 8 * p.n;
      else if (!arena.owns(p.arr)) bytes = 4 * p.n;
      offs.push(bytes > 0 || p.kind === 'work' ? total : -1);
      total += (bytes + 63) & ~63;
    }
    const s0 = scratch.get(total);
    const starts = scratch.i32(s0, numSeq);
    for (let b = 0; b < numSeq; b++) starts[b] = qStart[b] - lo;
    scratch.i32(s0 + seqBytes, numSeq).set(qCount.subarray(0, numSeq));
    const addrs = parts.map((p, i) => {
      if (p.kind === 'work') return s0 + offs[i];
      if (p.off < 0 || p.off + p.n > p.arr.length) throw new RangeError(`wasm time kernels: index array range [${p.off}, ${p.off + p.n}) out of bounds (length ${p.arr.length})`);
      if (p.kind === 'f64') {
        new Float64Array(arena.currentBuffer(), s0 + offs[i], p.n).set(p.arr.subarray(p.off, p.off + p.n));
        return s0 + offs[i];
      }
      if (offs[i] < 0) return p.arr.byteOffset + 4 * p.off;
      if (p.copyIn) scratch.i32(s0 + offs[i], p.n).set(p.arr.subarray(p.off, p.off + p.n));
      return s0 + offs[i];
    });
    const result = fn([s0, s0 + seqBytes, ...addrs]);
    parts.forEach((p, i) => {
      if (p.kind === 'i32' && p.copyOut && offs[i] >= 0) p.arr.set(scratch.i32(s0 + offs[i], p.n), p.off);
    });
    return result;
  };

  const ints = (arr: Int32Array, off: number, n: number, copyIn = true, copyOut = false): Part =>
    ({ kind: 'i32', arr, off, n, copyIn, copyOut });

  const badRelation = (name: string, rel: Int32Array, relOff: number, flat: number, nb: number): RangeError =>
    new RangeError(`${name} (wasm): relation index ${rel[relOff + flat]} at [${flat}] is out of [0, ${nb})`);

  const timeRelations: Kernels['timeRelations'] = (numSeq, len, qStart, qCount, times, timesOff, timeSpan, rel, relOff) => {
    const name = 'timeRelations';
    const [lo, hi] = queryRows(name, numSeq, len, qStart, qCount);
    if (hi === lo) return;
    const rows = hi - lo;
    withParts(numSeq, qStart, qCount, lo, [
      { kind: 'f64', arr: times, off: timesOff, n: numSeq * len },
      ints(rel, relOff + lo * len, rows * len, true, true), // copied in too: rows between sequences keep their values
    ], ([qs, qc, t, r]) => ex.timeRelationsK(numSeq, len, qs, qc, t, timeSpan, r));
  };

  const forward: Kernels['timeAttentionSoftmaxForward'] = (
    numSeq, len, nb, qStart, qCount, qPadded, scores, scoresOff, tq, tqOff, rel, relOff, dropP, rngState,
    probs, probsOff, dropped, droppedOff, bucket, bucketOff,
  ) => {
    const useDrop = dropP > 0 && rngState !== null;
    if (!(arena.owns(scores) && arena.owns(tq) && arena.owns(probs) && arena.owns(bucket) && (!useDrop || arena.owns(dropped)))) {
      base.timeAttentionSoftmaxForward(
        numSeq, len, nb, qStart, qCount, qPadded, scores, scoresOff, tq, tqOff, rel, relOff, dropP, rngState,
        probs, probsOff, dropped, droppedOff, bucket, bucketOff,
      );
      return;
    }
    const name = 'timeAttentionSoftmaxForward';
    const [lo, hi] = queryRows(name, numSeq, len, qStart, qCount);
    if (hi === lo) return;
    const rows = hi - lo;
    const sA = at(name, 'scores', scores, scoresOff + lo * len, rows * len);
    const tA = at(name, 'tq', tq, tqOff + lo * nb, rows * nb);
    const pA = at(name, 'probs', probs, probsOff + lo * len, rows * len);
    const dA = useDrop ? at(name, 'dropped', dropped, droppedOff + lo * len, rows * len) : pA;
    const bA = at(name, 'bucket', bucket, bucketOff + lo * nb, rows * nb);
    const bad = withParts(numSeq, qStart, qCount, lo, [
      ints(qPadded, lo, rows), ints(rel, relOff + lo * len, rows * len), { kind: 'work', bytes: 64 + ex.timeScratchBytes(len) },
    ], ([qs, qc, qp, r, work]) => {
      const rng = work;
      if (useDrop) scratch.u32(rng, 4).set(rngState.subarray(0, 4));
      const res = ex.timeSoftmaxForward(numSeq, len, nb, qs, qc, qp, sA, tA, r, useDrop ? dropP : 0, useDrop ? rng : 0, pA, dA, bA, work + 64);
      if (useDrop) rngState.set(scratch.u32(rng, 4));
      return res;
    });
    if (bad !== 0) throw badRelation(name, rel, relOff, lo * len + bad - 1, nb);
  };

  const backward: Kernels['timeAttentionSoftmaxBackward'] = (
    numSeq, len, nb, qStart, qCount, qPadded, probs, probsOff, dropped, droppedOff, g, gOff, rel, relOff, dAr, dAOff, dBucket, dBucketOff,
  ) => {
    if (!(arena.owns(probs) && arena.owns(dropped) && arena.owns(g) && arena.owns(dAr) && arena.owns(dBucket))) {
      base.timeAttentionSoftmaxBackward(
        numSeq, len, nb, qStart, qCount, qPadded, probs, probsOff, dropped, droppedOff, g, gOff, rel, relOff, dAr, dAOff, dBucket, dBucketOff,
      );
      return;
    }
    const name = 'timeAttentionSoftmaxBackward';
    const [lo, hi] = queryRows(name, numSeq, len, qStart, qCount);
    if (hi === lo) return;
    const rows = hi - lo;
    const pA = at(name, 'probs', probs, probsOff + lo * len, rows * len);
    const aA = at(name, 'dropped', dropped, droppedOff + lo * len, rows * len);
    const gA = at(name, 'g', g, gOff + lo * nb, rows * nb);
    const dA = at(name, 'dA', dAr, dAOff + lo * len, rows * len);
    const bA = at(name, 'dBucket', dBucket, dBucketOff + lo * nb, rows * nb);
    const bad = withParts(numSeq, qStart, qCount, lo, [
      ints(qPadded, lo, rows), ints(rel, relOff + lo * len, rows * len), { kind: 'work', bytes: ex.timeScratchBytes(len) },
    ], ([qs, qc, qp, r, work]) => ex.timeSoftmaxBackward(numSeq, len, nb, qs, qc, qp, pA, aA, gA, r, dA, bA, work));
    if (bad !== 0) throw badRelation(name, rel, relOff, lo * len + bad - 1, nb);
  };

  const compactRelations: Kernels['compactRelations'] = (
    numSeq, len, numBuckets, qStart, qCount, rel, relOff, local, localOff, bucketStart, bucketCount, bucketIndex, bucketIndexOff,
  ) => {
    const name = 'compactRelations';
    const [lo, hi] = queryRows(name, numSeq, len, qStart, qCount);
    if (!(isInt(numBuckets) && numBuckets >= 1)) throw new RangeError(`${name} (wasm): bad numBuckets ${numBuckets}`);
    if (bucketStart.length < numSeq || bucketCount.length < numSeq) throw new RangeError(`${name} (wasm): bucketStart/bucketCount shorter than ${numSeq}`);
    let cap = 0;
    for (let b = 0; b < numSeq; b++) cap += Math.min(numBuckets, qCount[b] * len);
    const rows = hi - lo;
    const total = withParts(numSeq, qStart, qCount, lo, [
      ints(rel, relOff + lo * len, rows * len),
      ints(local, localOff + lo * len, rows * len, true, true),
      ints(bucketStart, 0, numSeq, false, true),
      ints(bucketCount, 0, numSeq, false, true),
      ints(bucketIndex, bucketIndexOff, cap, true, true), // only Σ U_b of the cap entries are written
      { kind: 'work', bytes: 8 * numBuckets },
    ], ([qs, qc, r, l, bs, bc, bi, work]) => ex.compactRelationsK(numSeq, len, numBuckets, qs, qc, r, l, bs, bc, bi, work));
    if (total < 0) throw badRelation(name, rel, relOff, lo * len - 1 - total, numBuckets);
    return total;
  };

  const unpackRows: Kernels['unpackRows'] = (numSeq, len, dim, qStart, qCount, x, xOff, fill, fillOff, out, outOff) => {
    if (!(arena.owns(x) && arena.owns(out) && (fill === null || arena.owns(fill)))) {
      base.unpackRows(numSeq, len, dim, qStart, qCount, x, xOff, fill, fillOff, out, outOff);
      return;
    }
    const name = 'unpackRows';
    const [, hi] = queryRows(name, numSeq, len, qStart, qCount);
    if (!(isInt(dim) && dim >= 0)) throw new RangeError(`${name} (wasm): bad dim ${dim}`);
    const xA = at(name, 'x', x, xOff, hi * dim);
    const oA = at(name, 'out', out, outOff, numSeq * len * dim);
    const fA = fill ? at(name, 'fill', fill, fillOff, dim) : 0;
    withParts(numSeq, qStart, qCount, 0, [], ([qs, qc]) => ex.unpackRowsK(numSeq, len, dim, qs, qc, xA, fA, oA));
  };

  const unpackRowsBackward: Kernels['unpackRowsBackward'] = (numSeq, len, dim, qStart, qCount, dOut, dOutOff, dx, dxOff, dFill, dFillOff) => {
    if (!(arena.owns(dOut) && (dx === null || arena.owns(dx)) && (dFill === null || arena.owns(dFill)))) {
      base.unpackRowsBackward(numSeq, len, dim, qStart, qCount, dOut, dOutOff, dx, dxOff, dFill, dFillOff);
      return;
    }
    const name = 'unpackRowsBackward';
    const [, hi] = queryRows(name, numSeq, len, qStart, qCount);
    if (!(isInt(dim) && dim >= 0)) throw new RangeError(`${name} (wasm): bad dim ${dim}`);
    const oA = at(name, 'dOut', dOut, dOutOff, numSeq * len * dim);
    const xA = dx ? at(name, 'dx', dx, dxOff, hi * dim) : 0;
    const fA = dFill ? at(name, 'dFill', dFill, dFillOff, dim) : 0;
    withParts(numSeq, qStart, qCount, 0, [{ kind: 'work', bytes: 8 * dim }],
      ([qs, qc, acc]) => ex.unpackRowsBackwardK(numSeq, len, dim, qs, qc, oA, xA, fA, acc));
  };

  return {
    timeRelations, timeAttentionSoftmaxForward: forward, timeAttentionSoftmaxBackward: backward,
    compactRelations, unpackRows, unpackRowsBackward,
  };
}

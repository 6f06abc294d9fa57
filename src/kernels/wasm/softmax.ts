/**
 * JS side of the full-catalogue and sampled softmax kernels (src/kernels/asm/softmax.ts). The logits
 * must live in wasm memory (the ops allocate them from the backend), else the base kernel runs; the
 * targets, skip flags and the rows' f64 statistics are staged in the scratch block on every call.
 * No Node built-ins.
 */
import type { Kernels } from '../types.js';
import { byteAddress } from './address.js';
import type { WasmArena } from './arena.js';
import type { Scratch } from './scratch.js';

export interface SoftmaxExports {
  smChunkStats(rows: number, cols: number, logits: number, ld: number, c0: number, target: number, rowMax: number, rowSum: number, tlog: number): void;
  smChunkGrad(rows: number, cols: number, logits: number, ld: number, c0: number, target: number, lse: number, scale: number): void;
  ssForward(M: number, K: number, pos: number, neg: number, skip: number, lse: number): number;
  ssBackward(M: number, K: number, pos: number, neg: number, skip: number, lse: number, scale: number, dPos: number, dNeg: number): void;
}

type SoftmaxKernels = Pick<Kernels, 'softmaxChunkStats' | 'softmaxChunkGrad' | 'sampledSoftmaxForward' | 'sampledSoftmaxBackward'>;

export function softmaxKernels(ex: SoftmaxExports, arena: WasmArena, scratch: Scratch, base: Kernels): SoftmaxKernels {
  /** Whether the logits block [lOff, lOff + (rows − 1)·ld + cols) is in wasm memory and in bounds. */
  const inWasm = (logits: Float32Array, lOff: number, rows: number, cols: number, ld: number): boolean => {
    if (!(rows >= 1 && cols >= 1 && ld >= cols && lOff >= 0 && lOff + (rows - 1) * ld + cols <= logits.length)) {
      if (rows === 0 || cols === 0) return false;
      throw new RangeError(`wasm softmax chunk: [${lOff}, +${rows}×${ld}) is out of bounds (length ${logits.length})`);
    }
    return arena.owns(logits);
  };

  /** Stages target[targetOff, +rows) and `doubles` f64 arrays of `rows`; returns their addresses. */
  const stage = (target: Int32Array, targetOff: number, rows: number, doubles: Float64Array[]): number[] => {
    if (!(targetOff >= 0 && targetOff + rows <= target.length)) throw new RangeError(`wasm softmax chunk: targets [${targetOff}, +${rows}) out of bounds`);
    const dBytes = (8 * rows + 63) & ~63;
    const p = scratch.get(doubles.length * dBytes + 4 * rows);
    const buf = arena.currentBuffer();
    const addrs = doubles.map((d, i) => {
      const a = p + i * dBytes;
      new Float64Array(buf, a, rows).set(d.subarray(0, rows));
      return a;
    });
    const t = p + doubles.length * dBytes;
    scratch.i32(t, rows).set(target.subarray(targetOff, targetOff + rows));
    return [t, ...addrs];
  };

  const at = byteAddress;

  /** Stages the rows' lse (f64, M) and the skip bytes (M·K, or none: address 0); returns their addresses. */
  const stageSampled = (name: string, M: number, K: number, lse: Float64Array, skip: Uint8Array | null): [number, number] => {
    if (lse.length < M) throw new RangeError(`wasm ${name}: lse holds ${lse.length} of ${M} rows`);
    if (skip && skip.length < M * K) throw new RangeError(`wasm ${name}: skip holds ${skip.length} of ${M * K} flags`);
    const lBytes = (8 * M + 63) & ~63;
    const p = scratch.get(lBytes + (skip ? M * K : 0));
    const buf = arena.currentBuffer();
    new Float64Array(buf, p, M).set(lse.subarray(0, M));
    if (skip) new Uint8Array(buf, p + lBytes, M * K).set(skip.subarray(0, M * K));
    return [p, skip ? p + lBytes : 0];
  };

  return {
    sampledSoftmaxForward(M, K, pos, posOff, neg, negOff, skip, lse) {
      if (!(arena.owns(pos) && arena.owns(neg)) || M === 0) return base.sampledSoftmaxForward(M, K, pos, posOff, neg, negOff, skip, lse);
      const pa = at('sampledSoftmaxForward', pos, posOff, M), na = at('sampledSoftmaxForward', neg, negOff, M * K);
      const [l, sk] = stageSampled('sampledSoftmaxForward', M, K, lse, skip);
      const total = ex.ssForward(M, K, pa, na, sk, l);
      lse.set(new Float64Array(arena.currentBuffer(), l, M));
      return total;
    },
    sampledSoftmaxBackward(M, K, pos, posOff, neg, negOff, skip, lse, scale, dPos, dPosOff, dNeg, dNegOff) {
      if (!(arena.owns(pos) && arena.owns(neg) && arena.owns(dPos) && arena.owns(dNeg)) || M === 0) {
        base.sampledSoftmaxBackward(M, K, pos, posOff, neg, negOff, skip, lse, scale, dPos, dPosOff, dNeg, dNegOff);
        return;
      }
      const name = 'sampledSoftmaxBackward';
      const pa = at(name, pos, posOff, M), na = at(name, neg, negOff, M * K);
      const dpa = at(name, dPos, dPosOff, M), dna = at(name, dNeg, dNegOff, M * K);
      const [l, sk] = stageSampled(name, M, K, lse, skip);
      ex.ssBackward(M, K, pa, na, sk, l, scale, dpa, dna);
    },
    softmaxChunkStats(rows, cols, logits, lOff, ld, c0, target, targetOff, rowMax, rowSum, targetLogit) {
      if (!inWasm(logits, lOff, rows, cols, ld) || rowMax.length < rows || rowSum.length < rows || targetLogit.length < rows) {
        base.softmaxChunkStats(rows, cols, logits, lOff, ld, c0, target, targetOff, rowMax, rowSum, targetLogit);
        return;
      }
      const [t, m, s, tl] = stage(target, targetOff, rows, [rowMax, rowSum, targetLogit]);
      ex.smChunkStats(rows, cols, logits.byteOffset + 4 * lOff, ld, c0, t, m, s, tl);
      const buf = arena.currentBuffer();
      rowMax.set(new Float64Array(buf, m, rows));
      rowSum.set(new Float64Array(buf, s, rows));
      targetLogit.set(new Float64Array(buf, tl, rows));
    },
    softmaxChunkGrad(rows, cols, logits, lOff, ld, c0, target, targetOff, lse, scale) {
      if (!inWasm(logits, lOff, rows, cols, ld) || lse.length < rows) {
        base.softmaxChunkGrad(rows, cols, logits, lOff, ld, c0, target, targetOff, lse, scale);
        return;
      }
      const [t, l] = stage(target, targetOff, rows, [lse]);
      ex.smChunkGrad(rows, cols, logits.byteOffset + 4 * lOff, ld, c0, t, l, scale);
    },
  };
}

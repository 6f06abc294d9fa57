/**
 * JS side of the wasm packed-attention kernels (src/kernels/asm/attention.ts): stages the segment
 * arrays, the dropout state and a scratch area in wasm memory and calls the module. Float arrays
 * must live in the backend's memory (zero-copy); otherwise the call falls back to the base
 * (reference) kernel, which is correct, just slower. No Node built-ins.
 */
import type { Kernels } from '../types.js';
import type { WasmArena } from './arena.js';
import type { Scratch } from './scratch.js';
import { attentionChunkBytes, type ParallelSlot } from './parallel.js';

export interface AttentionExports {
  attentionScratchBytes(nmax: number, headDim: number, backward: number): number;
  packedAttnForward(
    numSeg: number, heads: number, hd: number, seg: number, padRow: number,
    q: number, k: number, v: number, ldIn: number, dropP: number, rng: number,
    probs: number, dropped: number, out: number, ldOut: number, nmax: number, scratch: number,
  ): void;
  packedAttnBackward(
    numSeg: number, heads: number, hd: number, seg: number, padRow: number,
    q: number, k: number, v: number, ldIn: number,
    probs: number, dropped: number, dOut: number, ldOut: number,
    dq: number, dk: number, dv: number, ldGrad: number, nmax: number, scratch: number,
  ): void;
  /** packedAttnBackward writing the padding key's dV / dK rows to padGrad (a worker's share). */
  packedAttnBackwardPad(
    numSeg: number, heads: number, hd: number, seg: number, padRow: number,
    q: number, k: number, v: number, ldIn: number,
    probs: number, dropped: number, dOut: number, ldOut: number,
    dq: number, dk: number, dv: number, ldGrad: number, nmax: number, scratch: number, padGrad: number,
  ): void;
}

type AttentionKernels = Pick<Kernels, 'packedCausalAttentionForward' | 'packedCausalAttentionBackward'>;

export function attentionKernels(
  ex: AttentionExports, arena: WasmArena, scratch: Scratch, base: Kernels, parallel?: ParallelSlot,
): AttentionKernels {
  const addr = (x: Float32Array, off: number): number => x.byteOffset + 4 * off;

  /** Validates the segments: [nmax, Σ tri]. */
  const scanSegments = (
    numSeg: number, segStart: Int32Array, segLen: Int32Array, segPad: Int32Array, padRow: number, rowsAvail: number,
  ): [number, number] => {
    let nmax = 0;
    let tri = 0;
    for (let s = 0; s < numSeg; s++) {
      const r0 = segStart[s], n = segLen[s], pad = segPad[s];
      if (!(n >= 0 && r0 >= 0 && r0 + n <= rowsAvail && pad >= 0 && (pad === 0 || (padRow >= 0 && padRow < rowsAvail)))) {
        throw new RangeError(`packedCausalAttention (wasm): segment ${s} (start ${r0}, length ${n}, padding ${pad}) out of range`);
      }
      if (n > nmax) nmax = n;
      tri += (n * (n + 3)) / 2;
    }
    return [nmax, tri];
  };

  /**
   * Stages segments (start, len, pad triples), 16 bytes for the generator state and `work` bytes of
   * work space in the scratch block: returns their addresses.
   */
  const stage = (numSeg: number, segStart: Int32Array, segLen: Int32Array, segPad: Int32Array, work: number): [number, number, number] => {
    const segBytes = (12 * numSeg + 63) & ~63;
    const p = scratch.get(segBytes + 64 + work);
    const view = scratch.i32(p, 3 * numSeg);
    for (let s = 0; s < numSeg; s++) {
      view[3 * s] = segStart[s];
      view[3 * s + 1] = segLen[s];
      view[3 * s + 2] = segPad[s];
    }
    return [p, p + segBytes, p + segBytes + 64];
  };

  /** Rows of an [rows, ld] operand at offset off whose first `cols` columns fit in x. */
  const rowsOf = (x: Float32Array, off: number, ld: number, cols: number): number =>
    x.length - off < cols ? 0 : Math.floor((x.length - off - cols) / ld) + 1;

  const checkTri = (name: string, x: Float32Array, off: number, need: number): void => {
    if (off < 0 || off + need > x.length) throw new RangeError(`packedCausalAttention (wasm): ${name} too short (${x.length - off} < ${need})`);
  };

  const forward: Kernels['packedCausalAttentionForward'] = (
    numSeg, heads, headDim, segStart, segLen, segPad, padRow,
    q, qOff, k, kOff, v, vOff, ldIn, dropP, rngState, probs, probsOff, dropped, droppedOff, out, outOff, ldOut,
  ) => {
    if (!(arena.owns(q) && arena.owns(k) && arena.owns(v) && arena.owns(probs) && arena.owns(dropped) && arena.owns(out))) {
      base.packedCausalAttentionForward(
        numSeg, heads, headDim, segStart, segLen, segPad, padRow,
        q, qOff, k, kOff, v, vOff, ldIn, dropP, rngState, probs, probsOff, dropped, droppedOff, out, outOff, ldOut,
      );
      return;
    }
    const d = heads * headDim;
    const rowsAvail = Math.min(rowsOf(q, qOff, ldIn, d), rowsOf(k, kOff, ldIn, d), rowsOf(v, vOff, ldIn, d), rowsOf(out, outOff, ldOut, d));
    const [nmax, tri] = scanSegments(numSeg, segStart, segLen, segPad, padRow, rowsAvail);
    const useDrop = dropP > 0 && rngState !== null;
    checkTri('probs', probs, probsOff, heads * tri);
    if (useDrop) checkTri('dropped', dropped, droppedOff, heads * tri);
    const runner = parallel?.runner ?? null;
    const wb = (ex.attentionScratchBytes(nmax, headDim, 0) + 63) & ~63;
    const extra = runner === null ? 0 : (runner.threads - 1) * attentionChunkBytes(wb, numSeg, d);
    const [seg, rng, work] = stage(numSeg, segStart, segLen, segPad, wb + extra);
    if (useDrop) scratch.u32(rng, 4).set(rngState.subarray(0, 4));
    const args = [
      numSeg, heads, headDim, seg, padRow, addr(q, qOff), addr(k, kOff), addr(v, vOff), ldIn,
      useDrop ? dropP : 0, useDrop ? rng : 0, addr(probs, probsOff), addr(dropped, droppedOff), addr(out, outOff), ldOut, nmax, work,
    ] as const;
    if (runner === null || !runner.attnForward(...args, wb)) ex.packedAttnForward(...args);
    if (useDrop) rngState.set(scratch.u32(rng, 4));
  };

  const backward: Kernels['packedCausalAttentionBackward'] = (
    numSeg, heads, headDim, segStart, segLen, segPad, padRow,
    q, qOff, k, kOff, v, vOff, ldIn, probs, probsOff, dropped, droppedOff, dOut, dOutOff, ldOut,
    dq, dqOff, dk, dkOff, dv, dvOff, ldGrad,
  ) => {
    if (!(arena.owns(q) && arena.owns(k) && arena.owns(v) && arena.owns(probs) && arena.owns(dropped) && arena.owns(dOut) &&
          arena.owns(dq) && arena.owns(dk) && arena.owns(dv))) {
      base.packedCausalAttentionBackward(
        numSeg, heads, headDim, segStart, segLen, segPad, padRow,
        q, qOff, k, kOff, v, vOff, ldIn, probs, probsOff, dropped, droppedOff, dOut, dOutOff, ldOut,
        dq, dqOff, dk, dkOff, dv, dvOff, ldGrad,
      );
      return;
    }
    const d = heads * headDim;
    const rowsAvail = Math.min(
      rowsOf(q, qOff, ldIn, d), rowsOf(k, kOff, ldIn, d), rowsOf(v, vOff, ldIn, d), rowsOf(dOut, dOutOff, ldOut, d),
      rowsOf(dq, dqOff, ldGrad, d), rowsOf(dk, dkOff, ldGrad, d), rowsOf(dv, dvOff, ldGrad, d),
    );
    const [nmax, tri] = scanSegments(numSeg, segStart, segLen, segPad, padRow, rowsAvail);
    checkTri('probs', probs, probsOff, heads * tri);
    checkTri('dropped', dropped, droppedOff, heads * tri);
    const runner = parallel?.runner ?? null;
    const wb = (ex.attentionScratchBytes(nmax, headDim, 1) + 63) & ~63;
    const extra = runner === null ? 0 : (runner.threads - 1) * attentionChunkBytes(wb, numSeg, d);
    const [seg, , work] = stage(numSeg, segStart, segLen, segPad, wb + extra);
    const args = [
      numSeg, heads, headDim, seg, padRow, addr(q, qOff), addr(k, kOff), addr(v, vOff), ldIn,
      addr(probs, probsOff), addr(dropped, droppedOff), addr(dOut, dOutOff), ldOut,
      addr(dq, dqOff), addr(dk, dkOff), addr(dv, dvOff), ldGrad, nmax, work,
    ] as const;
    if (runner === null || !runner.attnBackward(...args, wb)) ex.packedAttnBackward(...args);
  };

  return { packedCausalAttentionForward: forward, packedCausalAttentionBackward: backward };
}

/**
 * JS side of the wasm mHC kernels (src/kernels/asm/mhc.ts): RMS normalisation, scaled sigmoid,
 * Sinkhorn-Knopp and the stream mixes. Float arrays from the backend's `alloc` go to wasm zero-copy;
 * if any operand is a plain array the call falls back to the base (reference) kernel. Ranges are
 * checked, so a bad offset throws instead of touching another buffer in the shared memory.
 */
import type { Kernels } from '../types.js';
import { byteAddress } from './address.js';
import type { WasmArena } from './arena.js';
import type { Scratch } from './scratch.js';

export interface MHCExports {
  mhcRmsForward(rows: number, dim: number, x: number, eps: number, out: number, rstd: number): void;
  mhcRmsBackward(rows: number, dim: number, x: number, rstd: number, dy: number, dx: number): void;
  mhcSigmoidForward(n: number, scale: number, x: number, out: number): void;
  mhcSigmoidBackward(n: number, scale: number, y: number, dy: number, dx: number): void;
  mhcSinkhornScratchBytes(n: number, iters: number): number;
  mhcSinkhornForward(rows: number, n: number, iters: number, logits: number, out: number, work: number): void;
  mhcSinkhornBackward(rows: number, n: number, iters: number, logits: number, dOut: number, dLogits: number, work: number): void;
  mhcCopyBlock(rows: number, cols: number, src: number, ldSrc: number, dst: number, ldDst: number): void;
  mhcWeightedSum(rows: number, n: number, d: number, w: number, x: number, out: number): void;
  mhcWeightedSumBackward(rows: number, n: number, d: number, w: number, x: number, dOut: number, dW: number, dX: number): void;
  mhcMixForward(rows: number, n: number, d: number, hRes: number, x: number, hPost: number, y: number, out: number): void;
  mhcMixBackward(
    rows: number, n: number, d: number, hRes: number, x: number, hPost: number, y: number, dOut: number,
    dHRes: number, dX: number, dHPost: number, dY: number,
  ): void;
}

type MHCKernels = Pick<Kernels,
  'rmsNormForward' | 'rmsNormBackward' | 'sigmoidForward' | 'sigmoidBackward' | 'sinkhornForward' | 'sinkhornBackward' |
  'copyBlock' | 'streamWeightedSum' | 'streamWeightedSumBackward' | 'streamMixForward' | 'streamMixBackward'>;

export function mhcKernels(ex: MHCExports, arena: WasmArena, scratch: Scratch, base: Kernels): MHCKernels {
  /** Whether every array lives in wasm memory (null: an absent gradient). */
  const owned = (...xs: Array<Float32Array | null>): boolean => xs.every((x) => x === null || arena.owns(x));

  const at = byteAddress;

  const counts = (name: string, ...ns: number[]): void => {
    for (const n of ns) if (!((n | 0) === n && n >= 0)) throw new RangeError(`wasm ${name}: bad count ${n}`);
  };

  const sinkhornWork = (n: number, iters: number): number => {
    if (!((iters | 0) === iters && iters >= 1)) throw new RangeError(`wasm sinkhorn: bad iteration count ${iters}`);
    return scratch.get(ex.mhcSinkhornScratchBytes(n, iters));
  };

  return {
    rmsNormForward(rows, dim, x, xOff, eps, out, outOff, rstd, rstdOff) {
      if (!owned(x, out, rstd)) return base.rmsNormForward(rows, dim, x, xOff, eps, out, outOff, rstd, rstdOff);
      counts('rmsNormForward', rows, dim);
      if (dim === 0) return base.rmsNormForward(rows, dim, x, xOff, eps, out, outOff, rstd, rstdOff);
      const m = rows * dim;
      ex.mhcRmsForward(rows, dim, at('rmsNorm', x, xOff, m), eps, at('rmsNorm', out, outOff, m), at('rmsNorm', rstd, rstdOff, rows));
    },
    rmsNormBackward(rows, dim, x, xOff, rstd, rstdOff, dy, dyOff, dx, dxOff) {
      if (!owned(x, rstd, dy, dx)) return base.rmsNormBackward(rows, dim, x, xOff, rstd, rstdOff, dy, dyOff, dx, dxOff);
      counts('rmsNormBackward', rows, dim);
      if (dim === 0) return;
      const m = rows * dim;
      const name = 'rmsNormBackward';
      ex.mhcRmsBackward(rows, dim, at(name, x, xOff, m), at(name, rstd, rstdOff, rows), at(name, dy, dyOff, m), at(name, dx, dxOff, m));
    },
    sigmoidForward(n, scale, x, xOff, out, outOff) {
      if (!owned(x, out)) return base.sigmoidForward(n, scale, x, xOff, out, outOff);
      counts('sigmoidForward', n);
      ex.mhcSigmoidForward(n, scale, at('sigmoid', x, xOff, n), at('sigmoid', out, outOff, n));
    },
    sigmoidBackward(n, scale, y, yOff, dy, dyOff, dx, dxOff) {
      if (!owned(y, dy, dx)) return base.sigmoidBackward(n, scale, y, yOff, dy, dyOff, dx, dxOff);
      counts('sigmoidBackward', n);
      ex.mhcSigmoidBackward(n, scale, at('sigmoid', y, yOff, n), at('sigmoid', dy, dyOff, n), at('sigmoid', dx, dxOff, n));
    },
    sinkhornForward(rows, n, iters, logits, lOff, out, outOff) {
      if (!owned(logits, out)) return base.sinkhornForward(rows, n, iters, logits, lOff, out, outOff);
      counts('sinkhornForward', rows, n);
      if (rows === 0 || n === 0) return;
      const m = rows * n * n;
      const work = sinkhornWork(n, iters);
      ex.mhcSinkhornForward(rows, n, iters, at('sinkhorn', logits, lOff, m), at('sinkhorn', out, outOff, m), work);
    },
    sinkhornBackward(rows, n, iters, logits, lOff, dOut, dOutOff, dLogits, dlOff) {
      if (!owned(logits, dOut, dLogits)) return base.sinkhornBackward(rows, n, iters, logits, lOff, dOut, dOutOff, dLogits, dlOff);
      counts('sinkhornBackward', rows, n);
      if (rows === 0 || n === 0) return;
      const m = rows * n * n;
      const name = 'sinkhornBackward';
      const work = sinkhornWork(n, iters);
      ex.mhcSinkhornBackward(rows, n, iters, at(name, logits, lOff, m), at(name, dOut, dOutOff, m), at(name, dLogits, dlOff, m), work);
    },
    copyBlock(rows, cols, src, srcOff, ldSrc, dst, dstOff, ldDst) {
      if (!owned(src, dst)) return base.copyBlock(rows, cols, src, srcOff, ldSrc, dst, dstOff, ldDst);
      counts('copyBlock', rows, cols, ldSrc, ldDst);
      if (rows === 0 || cols === 0) return;
      if (cols > ldSrc || cols > ldDst) throw new RangeError(`wasm copyBlock: ${cols} columns exceed a leading dimension (${ldSrc}, ${ldDst})`);
      const extent = (ld: number) => (rows - 1) * ld + cols;
      ex.mhcCopyBlock(rows, cols, at('copyBlock', src, srcOff, extent(ldSrc)), ldSrc, at('copyBlock', dst, dstOff, extent(ldDst)), ldDst);
    },
    streamWeightedSum(rows, n, d, w, wOff, x, xOff, out, outOff) {
      if (!owned(w, x, out)) return base.streamWeightedSum(rows, n, d, w, wOff, x, xOff, out, outOff);
      counts('streamWeightedSum', rows, n, d);
      const name = 'streamWeightedSum';
      ex.mhcWeightedSum(rows, n, d, at(name, w, wOff, rows * n), at(name, x, xOff, rows * n * d), at(name, out, outOff, rows * d));
    },
    streamWeightedSumBackward(rows, n, d, w, wOff, x, xOff, dOut, dOutOff, dW, dWOff, dX, dXOff) {
      if (!owned(w, x, dOut, dW, dX)) return base.streamWeightedSumBackward(rows, n, d, w, wOff, x, xOff, dOut, dOutOff, dW, dWOff, dX, dXOff);
      counts('streamWeightedSumBackward', rows, n, d);
      const name = 'streamWeightedSumBackward';
      ex.mhcWeightedSumBackward(rows, n, d, at(name, w, wOff, rows * n), at(name, x, xOff, rows * n * d), at(name, dOut, dOutOff, rows * d),
        at(name, dW, dWOff, rows * n), at(name, dX, dXOff, rows * n * d));
    },
    streamMixForward(rows, n, d, hRes, hResOff, x, xOff, hPost, hPostOff, y, yOff, out, outOff) {
      if (!owned(hRes, x, hPost, y, out)) return base.streamMixForward(rows, n, d, hRes, hResOff, x, xOff, hPost, hPostOff, y, yOff, out, outOff);
      counts('streamMixForward', rows, n, d);
      const name = 'streamMixForward';
      const m = rows * n * d;
      ex.mhcMixForward(rows, n, d, at(name, hRes, hResOff, rows * n * n), at(name, x, xOff, m), at(name, hPost, hPostOff, rows * n),
        at(name, y, yOff, rows * d), at(name, out, outOff, m));
    },
    streamMixBackward(rows, n, d, hRes, hResOff, x, xOff, hPost, hPostOff, y, yOff, dOut, dOutOff, dHRes, dHResOff, dX, dXOff, dHPost, dHPostOff, dY, dYOff) {
      if (!owned(hRes, x, hPost, y, dOut, dHRes, dX, dHPost, dY)) {
        return base.streamMixBackward(rows, n, d, hRes, hResOff, x, xOff, hPost, hPostOff, y, yOff, dOut, dOutOff,
          dHRes, dHResOff, dX, dXOff, dHPost, dHPostOff, dY, dYOff);
      }
      counts('streamMixBackward', rows, n, d);
      const name = 'streamMixBackward';
      const m = rows * n * d;
      ex.mhcMixBackward(rows, n, d, at(name, hRes, hResOff, rows * n * n), at(name, x, xOff, m), at(name, hPost, hPostOff, rows * n),
        at(name, y, yOff, rows * d), at(name, dOut, dOutOff, m),
        at(name, dHRes, dHResOff, rows * n * n), at(name, dX, dXOff, m), at(name, dHPost, dHPostOff, rows * n), at(name, dY, dYOff, rows * d));
    },
  };
}

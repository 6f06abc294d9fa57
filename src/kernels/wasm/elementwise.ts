/**
 * JS side of the wasm fill / element-wise / row / LayerNorm / loss / Adam kernels
 * (src/kernels/asm/elementwise.ts). Float arrays from the backend's `alloc` go to wasm zero-copy;
 * if any float operand is a plain array the call falls back to the base (reference) kernel, which
 * is correct, just slower. Int32 index arrays are copied into the scratch block on every call
 * (4 bytes per index), wherever they live. Ranges are checked, so a bad offset throws instead of
 * touching another buffer in the shared memory. No Node built-ins.
 */
import type { Kernels } from '../types.js';
import { byteAddress } from './address.js';
import type { WasmArena } from './arena.js';
import type { ParallelSlot } from './parallel.js';
import type { Scratch } from './scratch.js';

export interface ElementwiseExports {
  ewFill(n: number, value: number, x: number): void;
  ewAdd(n: number, a: number, b: number, out: number): void;
  ewAxpy(n: number, alpha: number, x: number, y: number): void;
  ewScale(n: number, alpha: number, x: number, out: number): void;
  ewMul(n: number, a: number, b: number, out: number): void;
  ewMulAcc(n: number, a: number, b: number, out: number): void;
  ewRelu(n: number, x: number, out: number): void;
  ewReluBackward(n: number, y: number, dy: number, dx: number): void;
  ewGelu(n: number, x: number, out: number): void;
  ewGeluBackward(n: number, x: number, dy: number, dx: number): void;
  ewDropout(n: number, p: number, rng: number, x: number, mask: number, out: number, raw: number): void;
  rowAddBias(rows: number, cols: number, bias: number, out: number): void;
  rowColSumAcc(rows: number, cols: number, x: number, out: number, acc: number): void;
  rowDotK(n: number, dim: number, a: number, b: number, out: number): void;
  rowScaleAccK(n: number, dim: number, s: number, x: number, y: number): void;
  rowGather(n: number, dim: number, table: number, idx: number, alpha: number, out: number): void;
  rowScatterAdd(n: number, dim: number, dOut: number, idx: number, alpha: number, skip: number, dTable: number): void;
  rowGatherDot(M: number, K: number, dim: number, f: number, table: number, idx: number, out: number): void;
  rowGatherDotBackward(M: number, K: number, dim: number, f: number, table: number, idx: number, dy: number, skip: number,
                       df: number, dTable: number): void;
  lnForward(rows: number, dim: number, x: number, gamma: number, beta: number, eps: number,
            out: number, mean: number, rstd: number): void;
  lnBackward(rows: number, dim: number, x: number, gamma: number, mean: number, rstd: number, dy: number,
             dx: number, dGamma: number, dBeta: number, acc: number): void;
  redSumSquares(n: number, x: number): number;
  bceSum(n: number, pos: number, neg: number, target: number): number;
  bceBackward(n: number, pos: number, neg: number, target: number, scale: number, dPos: number, dNeg: number): void;
  optAdam(n: number, p: number, g: number, m: number, v: number,
          lr: number, beta1: number, beta2: number, eps: number, bc1: number, bc2: number): void;
}

type ElementwiseKernels = Pick<Kernels,
  'fill' | 'add' | 'axpy' | 'scale' | 'mul' | 'mulAcc' | 'relu' | 'reluBackward' | 'geluForward' | 'geluBackward' | 'dropout' | 'addBias' | 'colSumAcc' |
  'rowDot' | 'rowScaleAcc' | 'gatherRows' | 'scatterAddRows' | 'gatherDot' | 'gatherDotBackward' | 'layerNormForward' | 'layerNormBackward' |
  'sumSquares' | 'bceLogitsMaskedSum' | 'bceLogitsMaskedBackward' | 'adamStep'>;

export function elementwiseKernels(
  ex: ElementwiseExports, arena: WasmArena, scratch: Scratch, base: Kernels, parallel?: ParallelSlot,
): ElementwiseKernels {
  const owns = (x: Float32Array): boolean => arena.owns(x);

  const at = byteAddress;

  const count = (name: string, n: number): void => {
    if (!((n | 0) === n && n >= 0)) throw new RangeError(`wasm ${name}: bad count ${n}`);
  };

  /** Copies idx[off, off + n) into scratch after `reserve` bytes; returns [scratch base, idx address]. */
  const stageIdx = (name: string, idx: Int32Array, off: number, n: number, reserve: number): [number, number] => {
    if (!((off | 0) === off && off >= 0 && off + n <= idx.length)) {
      throw new RangeError(`wasm ${name}: index range [${off}, ${off + n}) out of bounds (length ${idx.length})`);
    }
    const r = (reserve + 63) & ~63;
    const p = scratch.get(r + 4 * n);
    scratch.i32(p + r, n).set(idx.subarray(off, off + n));
    return [p, p + r];
  };

  /** Checks that every index is a row of a table with `rows` rows (skip excepted). */
  const checkIdx = (name: string, idx: Int32Array, off: number, n: number, rows: number, skip: number): void => {
    for (let i = 0; i < n; i++) {
      const id = idx[off + i];
      if (id !== skip && !(id >= 0 && id < rows)) throw new RangeError(`wasm ${name}: index ${id} out of range [0, ${rows})`);
    }
  };

  return {
    // (in wasm: TypedArray.fill on a SharedArrayBuffer view is much slower in V8; BENCHMARKS.md)
    fill(n, value, x, xOff) {
      if (!owns(x)) return base.fill(n, value, x, xOff);
      count('fill', n);
      ex.ewFill(n, value, at('fill', x, xOff, n));
    },
    add(n, a, aOff, b, bOff, out, outOff) {
      if (!(owns(a) && owns(b) && owns(out))) return base.add(n, a, aOff, b, bOff, out, outOff);
      count('add', n);
      ex.ewAdd(n, at('add', a, aOff, n), at('add', b, bOff, n), at('add', out, outOff, n));
    },
    axpy(n, alpha, x, xOff, y, yOff) {
      if (!(owns(x) && owns(y))) return base.axpy(n, alpha, x, xOff, y, yOff);
      count('axpy', n);
      ex.ewAxpy(n, alpha, at('axpy', x, xOff, n), at('axpy', y, yOff, n));
    },
    scale(n, alpha, x, xOff, out, outOff) {
      if (!(owns(x) && owns(out))) return base.scale(n, alpha, x, xOff, out, outOff);
      count('scale', n);
      ex.ewScale(n, alpha, at('scale', x, xOff, n), at('scale', out, outOff, n));
    },
    mul(n, a, aOff, b, bOff, out, outOff) {
      if (!(owns(a) && owns(b) && owns(out))) return base.mul(n, a, aOff, b, bOff, out, outOff);
      count('mul', n);
      ex.ewMul(n, at('mul', a, aOff, n), at('mul', b, bOff, n), at('mul', out, outOff, n));
    },
    mulAcc(n, a, aOff, b, bOff, out, outOff) {
      if (!(owns(a) && owns(b) && owns(out))) return base.mulAcc(n, a, aOff, b, bOff, out, outOff);
      count('mulAcc', n);
      ex.ewMulAcc(n, at('mulAcc', a, aOff, n), at('mulAcc', b, bOff, n), at('mulAcc', out, outOff, n));
    },
    relu(n, x, xOff, out, outOff) {
      if (!(owns(x) && owns(out))) return base.relu(n, x, xOff, out, outOff);
      count('relu', n);
      ex.ewRelu(n, at('relu', x, xOff, n), at('relu', out, outOff, n));
    },
    reluBackward(n, y, yOff, dy, dyOff, dx, dxOff) {
      if (!(owns(y) && owns(dy) && owns(dx))) return base.reluBackward(n, y, yOff, dy, dyOff, dx, dxOff);
      count('reluBackward', n);
      ex.ewReluBackward(n, at('reluBackward', y, yOff, n), at('reluBackward', dy, dyOff, n), at('reluBackward', dx, dxOff, n));
    },
    geluForward(n, x, xOff, out, outOff) {
      if (!(owns(x) && owns(out))) return base.geluForward(n, x, xOff, out, outOff);
      count('geluForward', n);
      ex.ewGelu(n, at('geluForward', x, xOff, n), at('geluForward', out, outOff, n));
    },
    geluBackward(n, x, xOff, dy, dyOff, dx, dxOff) {
      if (!(owns(x) && owns(dy) && owns(dx))) return base.geluBackward(n, x, xOff, dy, dyOff, dx, dxOff);
      count('geluBackward', n);
      ex.ewGeluBackward(n, at('geluBackward', x, xOff, n), at('geluBackward', dy, dyOff, n), at('geluBackward', dx, dxOff, n));
    },
    dropout(n, p, rngState, x, xOff, mask, maskOff, out, outOff) {
      if (!(owns(x) && owns(mask) && owns(out))) return base.dropout(n, p, rngState, x, xOff, mask, maskOff, out, outOff);
      count('dropout', n);
      const xa = at('dropout', x, xOff, n), ma = at('dropout', mask, maskOff, n), oa = at('dropout', out, outOff, n);
      const st = scratch.get(64 + 4 * 1024); // state, then a chunk of raw draws (RAW_CHUNK)
      scratch.u32(st, 4).set(rngState.subarray(0, 4));
      ex.ewDropout(n, p, st, xa, ma, oa, st + 64);
      rngState.set(scratch.u32(st, 4));
    },
    addBias(rows, cols, bias, biasOff, out, outOff) {
      if (!(owns(bias) && owns(out))) return base.addBias(rows, cols, bias, biasOff, out, outOff);
      count('addBias', rows); count('addBias', cols);
      ex.rowAddBias(rows, cols, at('addBias', bias, biasOff, cols), at('addBias', out, outOff, rows * cols));
    },
    colSumAcc(rows, cols, x, xOff, out, outOff) {
      if (!(owns(x) && owns(out))) return base.colSumAcc(rows, cols, x, xOff, out, outOff);
      count('colSumAcc', rows); count('colSumAcc', cols);
      const xa = at('colSumAcc', x, xOff, rows * cols), oa = at('colSumAcc', out, outOff, cols);
      ex.rowColSumAcc(rows, cols, xa, oa, scratch.get(12 * cols + 192));
    },
    rowDot(n, dim, a, aOff, b, bOff, out, outOff) {
      if (!(owns(a) && owns(b) && owns(out))) return base.rowDot(n, dim, a, aOff, b, bOff, out, outOff);
      count('rowDot', n); count('rowDot', dim);
      ex.rowDotK(n, dim, at('rowDot', a, aOff, n * dim), at('rowDot', b, bOff, n * dim), at('rowDot', out, outOff, n));
    },
    rowScaleAcc(n, dim, s, sOff, x, xOff, y, yOff) {
      if (!(owns(s) && owns(x) && owns(y))) return base.rowScaleAcc(n, dim, s, sOff, x, xOff, y, yOff);
      count('rowScaleAcc', n); count('rowScaleAcc', dim);
      ex.rowScaleAccK(n, dim, at('rowScaleAcc', s, sOff, n), at('rowScaleAcc', x, xOff, n * dim), at('rowScaleAcc', y, yOff, n * dim));
    },
    gatherRows(n, dim, table, tableOff, idx, idxOff, alpha, out, outOff) {
      if (!(owns(table) && owns(out))) return base.gatherRows(n, dim, table, tableOff, idx, idxOff, alpha, out, outOff);
      count('gatherRows', n); count('gatherRows', dim);
      if (n === 0) return;
      const rows = dim > 0 ? Math.floor((table.length - tableOff) / dim) : 0;
      checkIdx('gatherRows', idx, idxOff, n, rows, NaN);
      const oa = at('gatherRows', out, outOff, n * dim), ta = at('gatherRows', table, tableOff, 0);
      const [, ia] = stageIdx('gatherRows', idx, idxOff, n, 0);
      ex.rowGather(n, dim, ta, ia, alpha, oa);
    },
    scatterAddRows(n, dim, dOut, dOutOff, idx, idxOff, alpha, skipIndex, dTable, dTableOff) {
      if (!(owns(dOut) && owns(dTable))) return base.scatterAddRows(n, dim, dOut, dOutOff, idx, idxOff, alpha, skipIndex, dTable, dTableOff);
      count('scatterAddRows', n); count('scatterAddRows', dim);
      if (n === 0) return;
      const rows = dim > 0 ? Math.floor((dTable.length - dTableOff) / dim) : 0;
      checkIdx('scatterAddRows', idx, idxOff, n, rows, skipIndex);
      const da = at('scatterAddRows', dOut, dOutOff, n * dim), ta = at('scatterAddRows', dTable, dTableOff, 0);
      const [, ia] = stageIdx('scatterAddRows', idx, idxOff, n, 0);
      ex.rowScatterAdd(n, dim, da, ia, alpha, (skipIndex | 0) === skipIndex ? skipIndex : -1, ta);
    },
    gatherDot(M, K, dim, f, fOff, table, tableOff, idx, idxOff, out, outOff) {
      if (!(owns(f) && owns(table) && owns(out))) return base.gatherDot(M, K, dim, f, fOff, table, tableOff, idx, idxOff, out, outOff);
      count('gatherDot', M); count('gatherDot', K); count('gatherDot', dim);
      const n = M * K;
      if (n === 0) return;
      const rows = dim > 0 ? Math.floor((table.length - tableOff) / dim) : 0;
      checkIdx('gatherDot', idx, idxOff, n, rows, NaN);
      const fa = at('gatherDot', f, fOff, M * dim), ta = at('gatherDot', table, tableOff, 0), oa = at('gatherDot', out, outOff, n);
      const [, ia] = stageIdx('gatherDot', idx, idxOff, n, 0);
      if (!parallel?.runner?.gatherDot?.(M, K, dim, fa, ta, ia, oa)) ex.rowGatherDot(M, K, dim, fa, ta, ia, oa);
    },
    gatherDotBackward(M, K, dim, f, fOff, table, tableOff, idx, idxOff, dy, dyOff, skipIndex, df, dfOff, dTable, dTableOff) {
      if (!(owns(f) && owns(table) && owns(dy) && (!df || owns(df)) && (!dTable || owns(dTable)))) {
        return base.gatherDotBackward(M, K, dim, f, fOff, table, tableOff, idx, idxOff, dy, dyOff, skipIndex, df, dfOff, dTable, dTableOff);
      }
      count('gatherDotBackward', M); count('gatherDotBackward', K); count('gatherDotBackward', dim);
      const n = M * K;
      if (n === 0 || (!df && !dTable)) return;
      const rows = dim > 0 ? Math.floor((table.length - tableOff) / dim) : 0;
      checkIdx('gatherDotBackward', idx, idxOff, n, rows, NaN);
      if (dTable && dTable.length - dTableOff < rows * dim) throw new RangeError(`wasm gatherDotBackward: dTable is smaller than the table`);
      const fa = at('gatherDotBackward', f, fOff, M * dim), ta = at('gatherDotBackward', table, tableOff, 0);
      const ga = at('gatherDotBackward', dy, dyOff, n);
      const dfa = at('gatherDotBackward', df, dfOff, M * dim), dta = at('gatherDotBackward', dTable, dTableOff, 0);
      const [, ia] = stageIdx('gatherDotBackward', idx, idxOff, n, 0);
      const skip = (skipIndex | 0) === skipIndex ? skipIndex : -1;
      if (!parallel?.runner?.gatherDotBackward?.(M, K, dim, fa, ta, ia, ga, skip, dfa, dta)) ex.rowGatherDotBackward(M, K, dim, fa, ta, ia, ga, skip, dfa, dta);
    },
    layerNormForward(rows, dim, x, xOff, gamma, gammaOff, beta, betaOff, eps, out, outOff, mean, rstd, statOff) {
      if (!(owns(x) && owns(gamma) && owns(beta) && owns(out) && owns(mean) && owns(rstd))) {
        return base.layerNormForward(rows, dim, x, xOff, gamma, gammaOff, beta, betaOff, eps, out, outOff, mean, rstd, statOff);
      }
      count('layerNormForward', rows); count('layerNormForward', dim);
      if (rows === 0 || dim === 0) return base.layerNormForward(rows, dim, x, xOff, gamma, gammaOff, beta, betaOff, eps, out, outOff, mean, rstd, statOff);
      const n = rows * dim;
      ex.lnForward(rows, dim, at('layerNorm', x, xOff, n), at('layerNorm', gamma, gammaOff, dim), at('layerNorm', beta, betaOff, dim), eps,
        at('layerNorm', out, outOff, n), at('layerNorm', mean, statOff, rows), at('layerNorm', rstd, statOff, rows));
    },
    layerNormBackward(rows, dim, x, xOff, gamma, gammaOff, mean, rstd, statOff, dy, dyOff, dx, dxOff, dGamma, dGammaOff, dBeta, dBetaOff) {
      if (!(owns(x) && owns(gamma) && owns(mean) && owns(rstd) && owns(dy) &&
            (!dx || owns(dx)) && (!dGamma || owns(dGamma)) && (!dBeta || owns(dBeta)))) {
        return base.layerNormBackward(rows, dim, x, xOff, gamma, gammaOff, mean, rstd, statOff, dy, dyOff, dx, dxOff, dGamma, dGammaOff, dBeta, dBetaOff);
      }
      count('layerNormBackward', rows); count('layerNormBackward', dim);
      if (dim === 0) return;
      const n = rows * dim;
      const name = 'layerNormBackward';
      const xa = at(name, x, xOff, n), ga = at(name, gamma, gammaOff, dim);
      const ma = at(name, mean, statOff, rows), ra = at(name, rstd, statOff, rows), ya = at(name, dy, dyOff, n);
      const dxa = dx ? at(name, dx, dxOff, n) : 0;
      const dga = dGamma ? at(name, dGamma, dGammaOff, dim) : 0;
      const dba = dBeta ? at(name, dBeta, dBetaOff, dim) : 0;
      const acc = scratch.get(16 * dim + 8 * (dim + 4) + 64);
      ex.lnBackward(rows, dim, xa, ga, ma, ra, ya, dxa, dga, dba, acc);
    },
    sumSquares(n, x, xOff) {
      if (!owns(x)) return base.sumSquares(n, x, xOff);
      count('sumSquares', n);
      return ex.redSumSquares(n, at('sumSquares', x, xOff, n));
    },
    bceLogitsMaskedSum(n, pos, posOff, neg, negOff, target, targetOff) {
      if (!(owns(pos) && owns(neg))) return base.bceLogitsMaskedSum(n, pos, posOff, neg, negOff, target, targetOff);
      count('bceLogitsMaskedSum', n);
      if (n === 0) return 0;
      const pa = at('bce', pos, posOff, n), na = at('bce', neg, negOff, n);
      const [, ta] = stageIdx('bce', target, targetOff, n, 0);
      return ex.bceSum(n, pa, na, ta);
    },
    bceLogitsMaskedBackward(n, pos, posOff, neg, negOff, target, targetOff, scale, dPos, dPosOff, dNeg, dNegOff) {
      if (!(owns(pos) && owns(neg) && owns(dPos) && owns(dNeg))) {
        return base.bceLogitsMaskedBackward(n, pos, posOff, neg, negOff, target, targetOff, scale, dPos, dPosOff, dNeg, dNegOff);
      }
      count('bceLogitsMaskedBackward', n);
      if (n === 0) return;
      const pa = at('bce', pos, posOff, n), na = at('bce', neg, negOff, n);
      const dpa = at('bce', dPos, dPosOff, n), dna = at('bce', dNeg, dNegOff, n);
      const [, ta] = stageIdx('bce', target, targetOff, n, 0);
      ex.bceBackward(n, pa, na, ta, scale, dpa, dna);
    },
    adamStep(n, p, pOff, g, gOff, m, mOff, v, vOff, lr, beta1, beta2, eps, bc1, bc2) {
      if (!(owns(p) && owns(g) && owns(m) && owns(v))) return base.adamStep(n, p, pOff, g, gOff, m, mOff, v, vOff, lr, beta1, beta2, eps, bc1, bc2);
      count('adamStep', n);
      ex.optAdam(n, at('adam', p, pOff, n), at('adam', g, gOff, n), at('adam', m, mOff, n), at('adam', v, vOff, n),
        lr, beta1, beta2, eps, bc1, bc2);
    },
  };
}

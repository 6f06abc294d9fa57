/**
 * Plain-TypeScript kernels: the ground truth the fast backend is tested against. Inner sums run in
 * float64 (JS numbers) and are rounded once when stored, so these are at least as accurate as PyTorch's
 * float32 CPU kernels. One file per kernel group, as in asm/ and wasm/.
 */
import type { Kernels } from '../types.js';
import { gemm } from './gemm.js';
import {
  fill, add, axpy, scale, mul, mulAcc, relu, reluBackward, geluForward, geluBackward, dropout, addBias, colSumAcc, rowDot, rowScaleAcc,
  rowNormClipForward, rowNormClipBackward, gatherRows, scatterAddRows, gatherDot, gatherDotBackward, layerNormForward, layerNormBackward,
} from './elementwise.js';
import {
  causalAttentionForward, causalAttentionBackward, packedCausalAttentionForward, packedCausalAttentionBackward,
  attentionSoftmaxForward, attentionSoftmaxBackward,
} from './attention.js';
import {
  timeRelations, timeAttentionSoftmaxForward, timeAttentionSoftmaxBackward, compactRelations, unpackRows,
  unpackRowsBackward,
} from './time.js';
import {
  sumSquares, bceLogitsMaskedSum, bceLogitsMaskedBackward, softplusSum, softplusBackward, bprSum, bprBackward,
  sampledSoftmaxForward, sampledSoftmaxBackward, softmaxChunkStats, softmaxChunkGrad,
} from './loss.js';
import { adamStep } from './optimizer.js';
import {
  gruGatesForward, gruStateForward, gruStateBackward, gruGatesBackward, tanhForward, tanhBackward, eluForward, eluBackward,
  rankingLossSum, rankingLossBackward,
} from './recurrent.js';
import { mhcReferenceKernels } from './mhc.js';
import { convReferenceKernels } from './conv.js';

export { paddingKeepFactor } from './attention.js';

export const referenceKernels: Kernels = {
  name: 'reference',
  alloc: (length: number) => new Float32Array(length),
  gemm,
  fill,
  add,
  axpy,
  scale,
  mul,
  mulAcc,
  relu,
  reluBackward,
  geluForward,
  geluBackward,
  dropout,
  addBias,
  colSumAcc,
  rowDot,
  rowScaleAcc,
  rowNormClipForward,
  rowNormClipBackward,
  gatherRows,
  scatterAddRows,
  gatherDot,
  gatherDotBackward,
  layerNormForward,
  layerNormBackward,
  causalAttentionForward,
  causalAttentionBackward,
  packedCausalAttentionForward,
  packedCausalAttentionBackward,
  attentionSoftmaxForward,
  attentionSoftmaxBackward,
  timeRelations,
  timeAttentionSoftmaxForward,
  timeAttentionSoftmaxBackward,
  compactRelations,
  unpackRows,
  unpackRowsBackward,
  sumSquares,
  bceLogitsMaskedSum,
  bceLogitsMaskedBackward,
  softplusSum,
  softplusBackward,
  bprSum,
  bprBackward,
  sampledSoftmaxForward,
  sampledSoftmaxBackward,
  softmaxChunkStats,
  softmaxChunkGrad,
  gruGatesForward,
  gruStateForward,
  gruStateBackward,
  gruGatesBackward,
  tanhForward,
  tanhBackward,
  eluForward,
  eluBackward,
  rankingLossSum,
  rankingLossBackward,
  adamStep,
  ...mhcReferenceKernels,
  ...convReferenceKernels,
};

/**
 * The ops of GRU4Rec's output and losses (Hidasi et al., ICLR 2016; Hidasi & Karatzoglou, CIKM 2018):
 * the final activation of the scores, and the ranking losses TOP1, BPR and BPR-max over a score matrix
 * whose row m scores the batch's targets (its own at column m) and any shared sampled items.
 */
import { getKernels } from '../kernels/index.js';
import type { RankingLossKind } from '../kernels/types.js';
import { getTape } from './tape.js';
import { type Tensor, shapeStr } from './tensor.js';

/** The activation applied to the scores before the loss: none, tanh, or ELU with its α. */
export type ScoreActivation = { readonly kind: 'linear' } | { readonly kind: 'tanh' } | { readonly kind: 'elu'; readonly alpha: number };

/** f(x) element-wise for the activation f (x itself for 'linear'). */
export function scoreActivation(x: Tensor, f: ScoreActivation): Tensor {
  if (f.kind === 'linear') return x;
  const K = getKernels();
  const tape = getTape();
  const out = tape.output(x.shape, x);
  if (f.kind === 'tanh') K.tanhForward(x.size, x.data, 0, out.data, 0);
  else K.eluForward(x.size, f.alpha, x.data, 0, out.data, 0);
  if (out.requiresGrad) {
    tape.record(() => {
      const dy = out.grad;
      if (!dy) return;
      if (f.kind === 'tanh') K.tanhBackward(x.size, out.data, 0, dy, 0, tape.gradOf(x), 0);
      else K.eluBackward(x.size, f.alpha, out.data, 0, dy, 0, tape.gradOf(x), 0);
    });
  }
  return out;
}

/**
 * weight · Σ_m L_m → a scalar: the ranking loss `kind` of each row m of scores [M, C] (C ≥ M), whose
 * positive is column m and whose negatives are the columns j with neg[m·C + j] ≠ 0 (see the kernel
 * rankingLossSum: TOP1 and BPR average over the negatives, BPR-max weights them by their softmax and adds
 * lambda · the softmax-weighted squared scores). Rows without negatives add nothing.
 */
export function rankingLoss(scores: Tensor, neg: Uint8Array, kind: RankingLossKind, lambda: number, weight: number): Tensor {
  const M = scores.rows;
  const C = scores.lastDim;
  if (C < M) throw new Error(`rankingLoss: ${shapeStr(scores.shape)} has fewer columns than rows (row m's positive is column m)`);
  if (neg.length !== M * C) throw new Error(`rankingLoss: ${neg.length} negative flags for ${shapeStr(scores.shape)}`);
  const K = getKernels();
  const tape = getTape();
  const out = tape.output([], scores);
  out.data[0] = weight * K.rankingLossSum(kind, M, C, scores.data, 0, neg, lambda);
  if (out.requiresGrad) {
    tape.record(() => {
      if (out.grad) K.rankingLossBackward(kind, M, C, scores.data, 0, neg, lambda, weight * out.grad[0], tape.gradOf(scores), 0);
    });
  }
  return out;
}

/**
 * GRU4Rec's ranking losses (Hidasi et al., ICLR 2016; Hidasi & Karatzoglou, CIKM 2018) as a
 * NextItemLoss: mini-batch based negative sampling, i.e. each row's negatives are the other rows'
 * targets (the batch's items are drawn by popularity, as the data is), plus K additional items drawn
 * once for the whole batch (`sharedNegatives`; GRU4Rec+ draws them ∝ support^α). Row m scores every
 * column c of the batch, r_c = f(features_m · item_emb(c) + bias(c)) with the final activation f; its
 * negatives are the columns whose item is neither 0 (no target) nor row m's own target. Over the n_m
 * negatives r_j of a row whose target scores r_i:
 *
 *   top1     (1/n_m) Σ_j σ(r_j − r_i) + σ(r_j²)                   (ICLR 2016, Eq. in §3.1.3)
 *   bpr      −(1/n_m) Σ_j log σ(r_i − r_j)                        (ICLR 2016)
 *   bpr_max  −log Σ_j s_j σ(r_i − r_j) + λ Σ_j s_j r_j²           (CIKM 2018), s = softmax over the negatives' r_j
 *
 * summed over the rows with a target and divided by the batch's row count B, as the authors' code
 * scales its cost ((M/B) · mean over the M rows still running).
 */
import type { RankingLossKind } from '../kernels/types.js';
import { rankingLoss, scoreActivation, type ScoreActivation } from '../engine/ranking-loss-ops.js';
import { negativeScores } from './targets.js';
import type { NextItemLoss } from './types.js';

export type { RankingLossKind } from '../kernels/types.js';
export type { ScoreActivation } from '../engine/ranking-loss-ops.js';

/** The settings of a session-parallel ranking loss. */
export interface SessionRankingOptions {
  readonly kind: RankingLossKind;
  /** K: additional negatives shared by the batch (0: the other rows' targets only) */
  readonly samples: number;
  /** f, applied to every score before the loss */
  readonly activation: ScoreActivation;
  /** λ, BPR-max's score regularisation (ignored by TOP1 and BPR) */
  readonly bpreg: number;
}

/**
 * Which columns are row m's negatives: flags [M × (M + K)] over the columns [targets | shared samples],
 * 1 where the column's item is neither 0 nor row m's target (a row without a target has none).
 */
export function sessionNegatives(pos: Int32Array, shared: Int32Array): Uint8Array {
  const M = pos.length;
  const C = M + shared.length;
  const neg = new Uint8Array(M * C);
  for (let m = 0; m < M; m++) {
    const target = pos[m];
    if (target === 0) continue;
    for (let j = 0; j < C; j++) {
      const item = j < M ? pos[j] : shared[j - M];
      if (item !== 0 && item !== target) neg[m * C + j] = 1;
    }
  }
  return neg;
}

/** The loss `o.kind` over the batch's targets and its K shared samples (see the file's comment). */
export function sessionRankingLoss(o: SessionRankingOptions): NextItemLoss {
  return {
    name: o.kind,
    negatives: o.samples,
    sharedNegatives: true,
    compute(targets, itemEmb, bias) {
      const { features, pos, neg } = targets;
      const M = pos.length;
      const columns = new Int32Array(M + neg.length);
      columns.set(pos);
      columns.set(neg, M);
      const scores = negativeScores({ features, pos, neg: columns }, itemEmb, columns.length, true, bias);
      return rankingLoss(scoreActivation(scores, o.activation), sessionNegatives(pos, neg), o.kind, o.bpreg, 1 / M);
    },
  };
}

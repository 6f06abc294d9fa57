/**
 * A factor model as a click-through predictor (`--task ctr`): the whole FM/FFM formula as a logit,
 * trained pointwise by binary cross-entropy on given 0/1 labels (no sampled negatives).
 *
 * Ranking leaves out the terms that are the same for every item of a user (factor-network.ts); a
 * pointwise loss needs them, so this adds them to the factor network's s(u, i):
 *
 *   logit(u, i) = w₀ + w_u + Σ_{f∈u} w_f x_f + pairs within the user side + s(u, i)
 *
 * (w₀ global, w_u the user id's weight, w_f the user features' weights; the pairs within the user side
 * come from the factor network when it has them, FactorizationMachine.userPairs). The loss is
 *
 *   (1/M) Σ_m [ −y_m ln σ(logit_m) − (1 − y_m) ln(1 − σ(logit_m)) ] + (λ/M) Σ_m Σ_{θ ∈ Θ_m} θ²
 *
 * with Θ_m the rows of the id tables example m reads (user_factors and user_bias at its user;
 * item_factors and item_bias at its item), λ = l2_reg, as the ranking loss regularises them.
 */
import * as ops from '../../engine/ops.js';
import { bagSum } from '../../engine/bag-ops.js';
import { softplusSum } from '../../engine/loss-ops.js';
import { withInferenceTape } from '../../engine/tape.js';
import type { Parameter, Tensor } from '../../engine/tensor.js';
import type { TrainBatch } from '../../data/types.js';
import { Module } from '../../nn/module.js';
import type { PointwiseNetwork } from '../contract.js';
import { type FactorNetwork, gatherScalars } from './factor-network.js';
import type { FeatureRows } from './feature-rows.js';

/** A factor network that may give the pairs within the user's side (null when it has none). */
export type UserSidePairs = FactorNetwork & { userPairs?(users: Int32Array): Tensor | null };

/** The id tables under the per-example L2 term, by their parameter names, and whose row an example reads. */
const REGULARISED: ReadonlyArray<readonly [string, 'user' | 'item']> = [
  ['base.user_factors', 'user'],
  ['base.item_factors', 'item'],
  ['base.item_bias', 'item'],
  ['user_bias', 'user'],
];

/** The rows of a 2-D table, or of a 1-D one as [n, 1]. */
function rowsOf(table: Parameter, ids: Int32Array): Tensor {
  return ops.embedding(table.shape.length === 1 ? ops.reshape(table, [table.size, 1]) : table, ids);
}

export class PointwiseFactorNetwork extends Module implements PointwiseNetwork {
  readonly base: UserSidePairs;
  /** w₀ [1] */
  readonly globalBias: Parameter;
  /** w_u [U + 1] */
  readonly userBias: Parameter;
  /** w_f of the user features [Fu] (absent without them) */
  readonly userFeatureBias?: Parameter;
  readonly summary: string;

  constructor(
    base: UserSidePairs,
    private readonly userFeatures: FeatureRows | undefined,
    label: string,
  ) {
    super();
    this.base = this.addModule('base', base);
    this.globalBias = this.addParameter('global_bias', [1]);
    this.userBias = this.addParameter('user_bias', [base.userNum + 1]);
    if (userFeatures && userFeatures.featureNum > 0) this.userFeatureBias = this.addParameter('user_feature_bias', [userFeatures.featureNum]);
    this.summary = `${label} (pointwise BCE on 0/1 labels): d ${base.hiddenUnits}, l2_reg ${base.l2Reg}, ${base.userNum} users, ${base.itemNum} items`;
  }

  get dropoutRng() {
    return this.base.dropoutRng;
  }

  /** logit(u, i) of the pairs (users[m], items[m]) → [M], on the current tape. */
  logits(users: Int32Array, items: Int32Array): Tensor {
    const M = users.length;
    const known = Int32Array.from(users, (u) => (u >= 1 && u <= this.base.userNum ? u : 0));
    let s = this.base.scores(known, new Int32Array(M), items);
    s = ops.add(s, gatherScalars(this.globalBias, new Int32Array(M)));
    s = ops.add(s, gatherScalars(this.userBias, known));
    const rows = this.userFeatures;
    if (this.userFeatureBias && rows) {
      const ptr = new Int32Array(M + 1);
      for (let m = 0; m < M; m++) ptr[m + 1] = ptr[m] + (known[m] < rows.rowPtr.length - 1 ? rows.rowPtr[known[m] + 1] - rows.rowPtr[known[m]] : 0);
      const idx = new Int32Array(ptr[M]);
      const val = new Float32Array(ptr[M]);
      for (let m = 0; m < M; m++) {
        if (ptr[m + 1] === ptr[m]) continue;
        const a = rows.rowPtr[known[m]];
        idx.set(rows.idx.subarray(a, a + ptr[m + 1] - ptr[m]), ptr[m]);
        val.set(rows.val.subarray(a, a + ptr[m + 1] - ptr[m]), ptr[m]);
      }
      s = ops.add(s, ops.reshape(bagSum(this.userFeatureBias, { ptr, idx, val }), [M]));
    }
    const pairs = this.base.userPairs?.(known) ?? null;
    return pairs ? ops.add(s, pairs) : s;
  }

  /** Mean BCE of the batch's (users[b], pos[b]) against labels[b], plus the per-example L2 term. */
  loss(batch: TrainBatch): Tensor {
    const { labels } = batch;
    if (!labels || labels.length !== batch.batchSize || batch.maxlen !== 1)
      throw new Error('PointwiseFactorNetwork.loss: a labelled batch (maxlen 1) is needed');
    const M = batch.batchSize;
    const pick = (y: number) => {
      const rows: number[] = [];
      for (let m = 0; m < M; m++) if (labels[m] === y) rows.push(m);
      return { users: Int32Array.from(rows, (m) => batch.users[m]), items: Int32Array.from(rows, (m) => batch.pos[m]) };
    };
    const [pos, neg] = [pick(1), pick(0)];
    let loss: Tensor | null = null;
    // −ln σ(x) = softplus(−x) for label 1; −ln(1 − σ(x)) = softplus(x) for label 0
    if (pos.users.length > 0) loss = softplusSum(this.logits(pos.users, pos.items), -1, 1 / M);
    if (neg.users.length > 0) {
      const l = softplusSum(this.logits(neg.users, neg.items), 1, 1 / M);
      loss = loss ? ops.add(loss, l) : l;
    }
    if (!loss) return ops.scale(ops.sumSquares(this.globalBias), 0);
    const l2 = this.base.l2Reg;
    if (l2 !== 0) {
      const params = new Map(this.namedParameters());
      const ids = { user: batch.users.subarray(0, M), item: batch.pos.subarray(0, M) };
      for (const [name, rowOf] of REGULARISED) {
        const table = params.get(name);
        if (table) loss = ops.add(loss, ops.scale(ops.sumSquares(rowsOf(table, ids[rowOf])), l2 / M));
      }
    }
    return loss;
  }

  predict(users: Int32Array, items: Int32Array): Float32Array {
    return this.inEvalMode(() => withInferenceTape(() => this.logits(users, items).data.slice()));
  }
}

/**
 * TransRec (He, Kang & McAuley, "Translation-based Recommendation", RecSys 2017): items are points in a
 * "transition space" and each user is a translation vector; the next item is expected near the
 * previous item's point translated by the user's vector:
 *
 *   γ_l + T_u ≈ γ_i,   T_u = t + t_u   (t: the global translation; t_u: the user's offset from it)
 *   Prob(i | u, l) ∝ β_i − d(γ_l + T_u, γ_i),   with γ_i ∈ Ψ ⊆ Φ
 *
 *   γ = item_points [N + 1, d],  β = item_bias [N + 1],  t_u = user_translations [U + 1, d],  t = global_translation [d]
 *
 * d is the squared L2 distance here, d(x, y) = ‖x − y‖²: the paper asks for a distance (L1 or L2, for
 * the triangle inequality an inner product lacks); the squared one is smooth at 0 and scores the
 * catalogue in one GEMM. Ψ is the unit L2 ball, the
 * paper's choice against the curse of dimensionality: every score reads the points through
 * γ̂ = γ / max(1, ‖γ‖) (ops.clipRowNorms), so the points the model scores with always lie in the ball
 * (the paper projects γ back after each SGD step instead; here the training loop only sees a loss, and
 * a stored γ outside the ball stands for its projection). Trained with S-BPR: Σ ln σ(p̂_u,l,i − p̂_u,l,j)
 * − λ Ω(Θ), Ω an L2 regulariser, here λ = l2_reg on the rows each (user, previous item, next item,
 * negative) example reads: t_u, γ_l, γ_i, γ_j, β_i, β_j (the shared t is not regularised). The paper
 * learns by SGD; here the training loop's Adam (--lr 0.001), d = 50 and λ from the SASRec paper's
 * {0.0001, …, 1}. Initialisation: points N(0, 0.25/d) per coordinate (‖γ‖ ≈ 0.5, inside the ball),
 * t = t_u = 0 and β = 0, so a user starts at the global translation (the paper's cold-start user, t_u = 0).
 *
 * Scoring a history: its user and last item; a history of no known user (user 0, whose t_u row stays 0)
 * is translated by t alone, as the paper treats a new user; an empty history starts from the origin.
 * The whole catalogue is scored by the same formula expanded,
 *   β_i − ‖x − γ̂_i‖² = 2⟨x, γ̂_i⟩ + (β_i − ‖γ̂_i‖²) − ‖x‖²,   x = γ̂_l + t + t_u,
 * one GEMM for every item at once.
 */
import * as ops from '../../engine/ops.js';
import type { Parameter, Tensor } from '../../engine/tensor.js';
import {
  FactorNetwork,
  gatherScalars,
  normalRows,
  type CatalogueForm,
  type FactorConfig,
  type NetworkOptions,
  type Regularised,
} from '../common/factor-network.js';

/** The radius of Ψ, the ball the item points are kept in. */
export const TRANSREC_BALL_RADIUS = 1;

export class TransRec extends FactorNetwork {
  /** γ: the items' points [N + 1, d] (scored through their projection into the unit ball) */
  readonly itemPoints: Parameter;
  /** β: item biases [N + 1] */
  readonly itemBias: Parameter;
  /** t_u: each user's offset from the global translation [U + 1, d] */
  readonly userTranslations: Parameter;
  /** t: the global translation [d] */
  readonly globalTranslation: Parameter;

  constructor(config: FactorConfig, opts: NetworkOptions = {}) {
    super('TransRec', config, opts, true);
    const d = this.hiddenUnits;
    this.itemPoints = this.addParameter('item_points', [this.itemNum + 1, d]);
    this.itemBias = this.addParameter('item_bias', [this.itemNum + 1]);
    this.userTranslations = this.addParameter('user_translations', [this.userNum + 1, d]);
    this.globalTranslation = this.addParameter('global_translation', [d]);
    normalRows(this.itemPoints, this.initRng, 0.5 / Math.sqrt(d));
  }

  /** γ̂: the points of `items` in the ball Ψ. */
  points(items: Int32Array): Tensor {
    return ops.clipRowNorms(ops.embedding(this.itemPoints, items), TRANSREC_BALL_RADIUS);
  }

  /** γ̂_l + t + t_u for each (user, previous item). */
  translated(users: Int32Array, prevs: Int32Array): Tensor {
    const t = ops.embedding(ops.reshape(this.globalTranslation, [1, this.hiddenUnits]), new Int32Array(prevs.length));
    return ops.add(ops.add(this.points(prevs), t), ops.embedding(this.userTranslations, users));
  }

  /** p̂_u,l,i = β_i − ‖γ̂_l + t + t_u − γ̂_i‖². */
  scores(users: Int32Array, prevs: Int32Array, items: Int32Array): Tensor {
    const diff = ops.add(this.translated(users, prevs), ops.scale(this.points(items), -1));
    return ops.add(gatherScalars(this.itemBias, items), ops.scale(ops.rowDot(diff, diff), -1));
  }

  protected catalogue(users: Int32Array, prevs: Int32Array): CatalogueForm {
    const x = this.translated(users, prevs);
    const all = ops.clipRowNorms(this.itemPoints, TRANSREC_BALL_RADIUS);
    return {
      terms: [[ops.scale(x, 2), all]],
      itemTerm: ops.add(this.itemBias, ops.scale(ops.rowDot(all, all), -1)),
      rowTerm: ops.scale(ops.rowDot(x, x), -1),
    };
  }

  protected get regularised(): Regularised[] {
    return [
      { table: this.userTranslations, rowOf: 'user' },
      { table: this.itemPoints, rowOf: 'previous' },
      { table: this.itemPoints, rowOf: 'item' },
      { table: this.itemBias, rowOf: 'item' },
    ];
  }
}

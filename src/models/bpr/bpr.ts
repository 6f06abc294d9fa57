/**
 * BPR-MF (Rendle, Freudenthaler, Gantner & Schmidt-Thieme, "BPR: Bayesian Personalized Ranking from
 * Implicit Feedback", UAI 2009): matrix factorisation learned for ranking. Not sequential: the score
 * of item i for user u ignores the order of u's items.
 *
 *   x̂_ui = ⟨P_u, Q_i⟩ + β_i        P = user_factors [U + 1, d],  Q = item_factors [N + 1, d],  β = item_bias [N + 1]
 *
 * The paper's MF is ⟨w_u, h_i⟩; the SASRec paper's BPR baseline uses "biased matrix factorization",
 * whose user bias cancels in every comparison x̂_ui − x̂_uj, so the item bias β_i is the one added.
 * BPR-Opt = Σ_(u,i,j) ln σ(x̂_ui − x̂_uj) − λ_Θ ‖Θ‖², i a positive and j an unobserved item of u, here
 * maximised over the (user, next item, negative) triples of TrainSampler's positions (a row's first
 * item is never a target there, only an input) with λ_Θ = l2_reg on P_u, Q_i, Q_j, β_i, β_j per triple
 * (LearnBPR's regularisation; the paper's λ_W, λ_H+, λ_H− are one λ here). The paper's LearnBPR is SGD
 * over bootstrap-sampled triples with α and λ tuned per dataset; here the training loop's Adam
 * (--lr 0.001), d = 50 (the SASRec paper's setting for every method) and λ from that paper's grid
 * {0.0001, …, 1}. Initialisation: N(0, 0.1²) factors,
 * zero biases; row 0 (padding item, unknown user) stays zero.
 *
 * Scoring a history: its user's factors; a history of no known user (user 0) gets β_i alone, the
 * item's learned popularity.
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

/** The std of the initial factors. */
export const BPR_INIT_STD = 0.1;

export class BPRMF extends FactorNetwork {
  /** P: user factors [U + 1, d] */
  readonly userFactors: Parameter;
  /** Q: item factors [N + 1, d] */
  readonly itemFactors: Parameter;
  /** β: item biases [N + 1] */
  readonly itemBias: Parameter;

  constructor(config: FactorConfig, opts: NetworkOptions = {}) {
    super('BPR-MF', config, opts, true);
    const d = this.hiddenUnits;
    this.userFactors = this.addParameter('user_factors', [this.userNum + 1, d]);
    this.itemFactors = this.addParameter('item_factors', [this.itemNum + 1, d]);
    this.itemBias = this.addParameter('item_bias', [this.itemNum + 1]);
    normalRows(this.userFactors, this.initRng, BPR_INIT_STD);
    normalRows(this.itemFactors, this.initRng, BPR_INIT_STD);
  }

  /** x̂_ui = ⟨P_u, Q_i⟩ + β_i (the previous item is not read). */
  scores(users: Int32Array, _prevs: Int32Array, items: Int32Array): Tensor {
    const p = ops.embedding(this.userFactors, users);
    const q = ops.embedding(this.itemFactors, items);
    return ops.add(ops.rowDot(p, q), gatherScalars(this.itemBias, items));
  }

  protected catalogue(users: Int32Array): CatalogueForm {
    return { terms: [[ops.embedding(this.userFactors, users), this.itemFactors]], itemTerm: this.itemBias, rowTerm: null };
  }

  protected get regularised(): Regularised[] {
    return [
      { table: this.userFactors, rowOf: 'user' },
      { table: this.itemFactors, rowOf: 'item' },
      { table: this.itemBias, rowOf: 'item' },
    ];
  }
}

/**
 * FPMC (Rendle, Freudenthaler & Schmidt-Thieme, "Factorizing Personalized Markov Chains for
 * Next-Basket Recommendation", WWW 2010): a personalised transition cube factorised by pairwise
 * interactions, i.e. matrix factorisation (the user's taste) plus a factorised Markov chain (the
 * transition from the last item):
 *
 *   x̂_u,l,i = ⟨V^UI_u, V^IU_i⟩ + ⟨V^IL_i, V^LI_l⟩
 *
 *   V_UI [U + 1, d] (users, for items)      V_IU [N + 1, d] (items, for users)
 *   V_IL [N + 1, d] (items, for the last)   V_LI [N + 1, d] (last items, for items)
 *
 * The paper's basket B_t−1 is one item here (the previous one: its mean over the basket is that item),
 * and its ⟨V^UL_u, V^LU_l⟩ term is left out, as the paper does, because it does not depend on i and
 * cancels in every S-BPR comparison. S-BPR: Σ ln σ(x̂_u,l,i − x̂_u,l,j) − λ_Θ ‖Θ‖² over (user,
 * previous item, next item, negative) quadruples, one per TrainSampler position, with λ_Θ = l2_reg on
 * the rows each quadruple reads (LearnSBPR's regularisation). The paper learns by SGD (LearnSBPR) with
 * Θ drawn from N(0, σ²); here the training loop's Adam (--lr 0.001), d = 50 for both factor
 * pairs (the paper allows k_UI ≠ k_IL) and λ from {0.0001, …, 1}; Θ ~ N(0, 0.1²), row 0 (padding item,
 * unknown user) zero.
 *
 * Scoring a history: its user and last item; for a history of no known user (user 0) the MF term is 0
 * and the transition term alone ranks; for an empty history the MF term alone.
 */
import * as ops from '../../engine/ops.js';
import type { Parameter, Tensor } from '../../engine/tensor.js';
import { FactorNetwork, normalRows, type CatalogueForm, type FactorConfig, type NetworkOptions, type Regularised } from '../common/factor-network.js';

/** σ of the initial N(0, σ²) factors. */
export const FPMC_INIT_STD = 0.1;

export class FPMC extends FactorNetwork {
  readonly VUI: Parameter;
  readonly VIU: Parameter;
  readonly VIL: Parameter;
  readonly VLI: Parameter;

  constructor(config: FactorConfig, opts: NetworkOptions = {}) {
    super('FPMC', config, opts, true);
    const d = this.hiddenUnits;
    this.VUI = this.addParameter('V_UI', [this.userNum + 1, d]);
    this.VIU = this.addParameter('V_IU', [this.itemNum + 1, d]);
    this.VIL = this.addParameter('V_IL', [this.itemNum + 1, d]);
    this.VLI = this.addParameter('V_LI', [this.itemNum + 1, d]);
    for (const v of [this.VUI, this.VIU, this.VIL, this.VLI]) normalRows(v, this.initRng, FPMC_INIT_STD);
  }

  /** x̂_u,l,i = ⟨V^UI_u, V^IU_i⟩ + ⟨V^IL_i, V^LI_l⟩. */
  scores(users: Int32Array, prevs: Int32Array, items: Int32Array): Tensor {
    const mf = ops.rowDot(ops.embedding(this.VUI, users), ops.embedding(this.VIU, items));
    const fmc = ops.rowDot(ops.embedding(this.VIL, items), ops.embedding(this.VLI, prevs));
    return ops.add(mf, fmc);
  }

  protected catalogue(users: Int32Array, prevs: Int32Array): CatalogueForm {
    return {
      terms: [
        [ops.embedding(this.VUI, users), this.VIU],
        [ops.embedding(this.VLI, prevs), this.VIL],
      ],
      itemTerm: null,
      rowTerm: null,
    };
  }

  protected get regularised(): Regularised[] {
    return [
      { table: this.VUI, rowOf: 'user' },
      { table: this.VIU, rowOf: 'item' },
      { table: this.VIL, rowOf: 'item' },
      { table: this.VLI, rowOf: 'previous' },
    ];
  }
}

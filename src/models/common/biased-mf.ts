/**
 * Biased matrix factorisation, the network BPR-MF (bpr/) and MF (mf/) share; they differ in how they
 * are trained (S-BPR; NCF's log loss):
 *
 *   x̂_ui = ⟨P_u, Q_i⟩ + β_i        P = user_factors [U + 1, d],  Q = item_factors [N + 1, d],  β = item_bias [N + 1]
 *
 * The user bias would cancel in every ranking of one user's items and is left out. Initialisation:
 * N(0, 0.1²) factors, zero biases; row 0 (padding item, unknown user) stays zero. A history of no
 * known user (user 0) gets β_i alone, the item's learned popularity.
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
} from './factor-network.js';

/** The std of the initial factors. */
export const MF_INIT_STD = 0.1;

export class BiasedMF extends FactorNetwork {
  /** P: user factors [U + 1, d] */
  readonly userFactors: Parameter;
  /** Q: item factors [N + 1, d] */
  readonly itemFactors: Parameter;
  /** β: item biases [N + 1] */
  readonly itemBias: Parameter;
  /** the scores read the user alone */
  readonly historyFree = true;

  /** @param what the model's name in errors */
  constructor(what: string, config: FactorConfig, opts: NetworkOptions = {}) {
    super(what, config, opts, true);
    const d = this.hiddenUnits;
    this.userFactors = this.addParameter('user_factors', [this.userNum + 1, d]);
    this.itemFactors = this.addParameter('item_factors', [this.itemNum + 1, d]);
    this.itemBias = this.addParameter('item_bias', [this.itemNum + 1]);
    normalRows(this.userFactors, this.initRng, MF_INIT_STD);
    normalRows(this.itemFactors, this.initRng, MF_INIT_STD);
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

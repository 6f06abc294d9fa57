/**
 * FMC, the factorised first-order Markov chain (the MC part of FPMC, Rendle et al., WWW 2010; the
 * SASRec paper's baseline "FMC factorizes an item transition matrix using two item embeddings, and
 * generates recommendations depending only on the last visited item"):
 *
 *   x̂_li = ⟨M_l, N_i⟩        M = prev_factors [N + 1, d] (the previous item l),  N = next_factors [N + 1, d] (the next item i)
 *
 * item-to-item transitions only: no user term, no bias. Trained with S-BPR on (previous item, next
 * item, negative) triples, one per TrainSampler position, with λ = l2_reg on M_l, N_i, N_j per triple;
 * the training loop's Adam (--lr 0.001), d = 50, λ from the SASRec paper's {0.0001, …, 1}. Initialisation N(0, 0.1²);
 * row 0 (padding) stays zero.
 *
 * Scoring a history: its last item; users are not read. An empty history scores every item 0.
 */
import * as ops from '../../engine/ops.js';
import type { Parameter, Tensor } from '../../engine/tensor.js';
import { FactorNetwork, normalRows, type CatalogueForm, type FactorConfig, type NetworkOptions, type Regularised } from '../common/factor-network.js';

/** The std of the initial factors. */
export const FMC_INIT_STD = 0.1;

export class FMC extends FactorNetwork {
  /** M: factors of an item as the previous one [N + 1, d] */
  readonly prevFactors: Parameter;
  /** N: factors of an item as the next one [N + 1, d] */
  readonly nextFactors: Parameter;

  constructor(config: FactorConfig, opts: NetworkOptions = {}) {
    super('FMC', config, opts, false);
    const d = this.hiddenUnits;
    this.prevFactors = this.addParameter('prev_factors', [this.itemNum + 1, d]);
    this.nextFactors = this.addParameter('next_factors', [this.itemNum + 1, d]);
    normalRows(this.prevFactors, this.initRng, FMC_INIT_STD);
    normalRows(this.nextFactors, this.initRng, FMC_INIT_STD);
  }

  /** x̂_li = ⟨M_l, N_i⟩ (users are not read). */
  scores(_users: Int32Array, prevs: Int32Array, items: Int32Array): Tensor {
    return ops.rowDot(ops.embedding(this.prevFactors, prevs), ops.embedding(this.nextFactors, items));
  }

  protected catalogue(_users: Int32Array, prevs: Int32Array): CatalogueForm {
    return { terms: [[ops.embedding(this.prevFactors, prevs), this.nextFactors]], itemTerm: null, rowTerm: null };
  }

  protected get regularised(): Regularised[] {
    return [
      { table: this.prevFactors, rowOf: 'previous' },
      { table: this.nextFactors, rowOf: 'item' },
    ];
  }
}

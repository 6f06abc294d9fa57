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
import { BiasedMF } from '../common/biased-mf.js';
import type { FactorConfig, NetworkOptions } from '../common/factor-network.js';

/** BPR-MF: the biased MF network (common/biased-mf.ts), trained by S-BPR. */
export class BPRMF extends BiasedMF {
  constructor(config: FactorConfig, opts: NetworkOptions = {}) {
    super('BPR-MF', config, opts);
  }
}

/**
 * `--model mf`: matrix factorisation trained pointwise, as He et al. (WWW 2017) train their models:
 * the biased dot product x̂_ui = ⟨P_u, Q_i⟩ + β_i (common/biased-mf.ts) under the log loss with
 * `--ncf_negatives` sampled negatives per positive (factor-network.ts). Rendle, Krichene, Zhang &
 * Anderson ("Neural Collaborative Filtering vs. Matrix Factorization Revisited", RecSys 2020) show this
 * dot product, tuned, beats NeuMF's learned similarity: `mf` is that baseline beside `neumf`.
 */
import { BiasedMF } from '../common/biased-mf.js';
import { factorModelSpec, factorOptions, pointwiseOptions } from '../common/factor-model.js';

export const mfOptions = factorOptions.with(pointwiseOptions).withDefaults({ l2Reg: 0.0001 });

export const mf = factorModelSpec({
  name: 'mf',
  label: 'MF',
  description:
    'matrix factorisation (biased dot product) trained pointwise by the log loss with --ncf_negatives negatives (Rendle et al. 2020); not sequential',
  options: mfOptions,
  objective: 'bce',
  network: (config, opts) => new BiasedMF('MF', config, opts),
  itemTable: 'item_factors',
  userTable: 'user_factors',
});

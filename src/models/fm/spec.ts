/** `--model fm`: a factorization machine over user and item ids and their side features, trained by BPR. */
import { factorModelSpec, factorOptions } from '../common/factor-model.js';
import { FactorizationMachine } from './fm.js';

export const fmOptions = factorOptions.withDefaults({ l2Reg: 0.0001 });

export const fm = factorModelSpec({
  name: 'fm',
  label: 'FM',
  description:
    'Factorization Machine (Rendle, 2010) over one-hot user and item ids plus --user_features / --item_features, ' +
    'pairwise interactions in O(nk), ranked by BPR; not sequential',
  options: fmOptions,
  sideFeatures: ['users', 'items'],
  coldStart: ['users', 'items'],
  pointwise: true,
  network: (config, opts, features) => new FactorizationMachine(config, features, opts),
  itemTable: 'item_factors',
  userTable: 'user_factors',
});

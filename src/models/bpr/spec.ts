/** `--model bpr`: BPR-MF (Rendle et al., 2009), trained by S-BPR on TrainSampler's positions. */
import { factorModelSpec, factorOptions } from '../common/factor-model.js';
import { BPRMF } from './bpr.js';

export const bprOptions = factorOptions.withDefaults({ l2Reg: 0.0001 });

export const bpr = factorModelSpec({
  name: 'bpr',
  label: 'BPR-MF',
  description: 'BPR-MF (Rendle et al., 2009): biased matrix factorisation ranked by BPR; not sequential',
  options: bprOptions,
  network: (config, opts) => new BPRMF(config, opts),
  itemTable: 'item_factors',
  userTable: 'user_factors',
});

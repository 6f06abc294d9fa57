/** `--model fpmc`: FPMC (Rendle et al., 2010), trained by S-BPR on TrainSampler's positions. */
import { factorModelSpec, factorOptions } from '../common/factor-model.js';
import { FPMC } from './fpmc.js';

export const fpmcOptions = factorOptions.withDefaults({ l2Reg: 0.0001 });

export const fpmc = factorModelSpec({
  name: 'fpmc',
  label: 'FPMC',
  description: 'FPMC (Rendle et al., 2010): matrix factorisation plus a factorised first-order Markov chain, trained by S-BPR',
  options: fpmcOptions,
  network: (config, opts) => new FPMC(config, opts),
  itemTable: 'V_IU',
  userTable: 'V_UI',
});

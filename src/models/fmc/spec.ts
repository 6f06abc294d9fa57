/** `--model fmc`: the factorised first-order Markov chain, trained by S-BPR on TrainSampler's positions. */
import { factorModelSpec, factorOptions } from '../common/factor-model.js';
import { FMC } from './fmc.js';

export const fmcOptions = factorOptions.withDefaults({ l2Reg: 0.0001 });

export const fmc = factorModelSpec({
  name: 'fmc',
  label: 'FMC',
  description: 'FMC: factorised first-order Markov chain (item-to-item transitions of the last item, no user term)',
  options: fmcOptions,
  network: (config, opts) => new FMC(config, opts),
  itemTable: 'next_factors',
});

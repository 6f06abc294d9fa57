/** `--model ials`: iALS (Hu et al. 2008) as Rendle et al. 2022 revisit it, fitted by alternating exact least squares. */
import { UserError } from '../../core/errors.js';
import { defineOptions, int, num } from '../../core/options.js';
import type { ModelSpec } from '../contract.js';
import { IalsModel, looksLikeIals } from './ials.js';

export const ialsOptions = defineOptions({
  factors: int({ help: 'iALS: d, the dimension of the user and item factors', default: 64, min: 1, max: 4096 }),
  reg: num({
    help: "iALS: λ, the L2 regularisation, scaled per row by (its interactions + α0·the other side's size)^ν (tuned per dataset in Rendle et al. 2022)",
    default: 0.005,
    above: 0,
  }),
  alpha: num({
    help: 'iALS: α0, the weight pulling every (user, item) score towards 0 (observed pairs also towards 1 with weight 1)',
    default: 0.1,
    min: 0,
  }),
  reg_exponent: num({
    help: "iALS: ν, the exponent of λ's frequency scaling (0: plain L2; 1: the frequency-scaled regularisation Rendle et al. 2022 recommend)",
    default: 1,
    min: 0,
  }),
  iters: int({ help: 'iALS: sweeps (all users solved, then all items); Rendle et al. 2022 start from 16', default: 16, min: 1, max: 100_000 }),
  init_std: num({ help: 'iALS: σ, the initial factors are N(0, σ²/d) (Rendle et al. 2022: 0.1/√d)', default: 0.1, min: 0 }),
});

export const ials: ModelSpec<typeof ialsOptions.options> = {
  name: 'ials',
  description: 'iALS (Hu et al. 2008; Rendle et al. 2022): implicit matrix factorisation by alternating least squares; not sequential',
  fileName: 'ials.safetensors',
  options: ialsOptions,
  learning: {
    kind: 'fit',
    check(split) {
      let any = false;
      for (let u = 1; u <= split.data.userNum && !any; u++) any = split.train[u].length > 0;
      if (!any) throw new UserError('--model ials: no user has a training interaction, so there is nothing to fit');
    },
    fit(split, options, { rng, log }) {
      const { factors, reg, alpha, regExponent, iters, initStd } = options;
      log?.(
        `iALS: d ${factors}, λ ${reg}, α0 ${alpha}, ν ${regExponent}, ${iters} sweeps over ${split.data.userNum} users × ${split.data.itemNum} items`,
      );
      return IalsModel.fit(split, { factors, reg, alpha, regExponent, iters, initStd }, rng, log);
    },
  },
  sniff: looksLikeIals,
  load: (bytes) => IalsModel.parse(bytes),
};

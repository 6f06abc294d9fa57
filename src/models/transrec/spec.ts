/** `--model transrec`: TransRec (He, Kang & McAuley, 2017), trained by S-BPR on TrainSampler's positions. */
import { factorModelSpec, factorOptions } from '../common/factor-model.js';
import { TransRec } from './transrec.js';

export const transrecOptions = factorOptions.withDefaults({ l2Reg: 0.0001 });

export const transrec = factorModelSpec({
  name: 'transrec',
  label: 'TransRec',
  description: 'TransRec (He et al., 2017): items as points in the unit ball, users as translations; score β_i − ‖γ_l + t + t_u − γ_i‖²',
  options: transrecOptions,
  network: (config, opts) => new TransRec(config, opts),
  itemTable: 'item_points',
  userTable: 'user_translations',
});

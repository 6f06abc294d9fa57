/** `--model fm`: a factorization machine over user and item ids and their side features, trained by BPR. */
import { defineOptions, num } from '../../core/options.js';
import { factorModelSpec, factorOptions, historyBagOptions } from '../common/factor-model.js';
import { FactorizationMachine } from './fm.js';

export const fmOptions = factorOptions
  .with(historyBagOptions)
  .with(
    defineOptions({
      id_dropout: num({
        help:
          "DropoutNet-style id dropout (Volkovs et al. 2017): each training step replaces this share of its users' id vectors by " +
          'the mean user vector, so the user features learn to stand alone; held-out users (--cold users) are scored in that state',
        default: 0,
        min: 0,
        below: 1,
      }),
    }),
  )
  .withDefaults({ l2Reg: 0.0001 });

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
  shapeOptions: ['history_bag'],
  rankingOnly: ['history_bag', 'id_dropout'],
  network: (config, opts, features, options) =>
    new FactorizationMachine(config, features, opts, Number(options?.idDropout ?? 0), options?.historyBag === true),
  itemTable: 'item_factors',
  userTable: 'user_factors',
});

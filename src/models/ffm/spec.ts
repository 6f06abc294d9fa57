/** `--model ffm`: a field-aware factorization machine over user and item ids and their side features, trained by BPR. */
import { factorModelSpec, factorOptions } from '../common/factor-model.js';
import { FieldAwareFM, itemTargets } from './ffm.js';

export const ffmOptions = factorOptions.withDefaults({ l2Reg: 0.0001, hiddenUnits: 8 });

export const ffm = factorModelSpec({
  name: 'ffm',
  label: 'FFM',
  description:
    'Field-aware Factorization Machine (Juan et al., 2016): a vector per feature and field, over user and item ids plus ' +
    '--user_features / --item_features, ranked by BPR; not sequential',
  options: ffmOptions,
  sideFeatures: ['users', 'items'],
  coldStart: ['users', 'items'],
  pointwise: true,
  network: (config, opts, features) => new FieldAwareFM(config, features, opts),
  itemTable: 'item_factors',
  userTable: 'user_factors',
  hiddenUnitsOf: (width, features) => width / itemTargets(features),
});

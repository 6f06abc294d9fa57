/** `--model caser`: Caser, trained by gradient on shuffled windows of the users' train sequences. */
import { UserError } from '../../core/errors.js';
import type { ModelSpec } from '../contract.js';
import { catalogOf } from '../common/catalog.js';
import { decodeCheckpoint } from '../common/checkpoint-format.js';
import { loadNetworkModel } from '../common/gradient-model.js';
import { NetworkModel } from '../common/network-model.js';
import { Caser } from './caser.js';
import { caserMetadata, caserOptionsOf, looksLikeCaser } from './checkpoint.js';
import { CASER_TRAINING_DEFAULTS, caserOptions, networkConfig } from './options.js';
import { WindowSampler } from './windows.js';

export const caser: ModelSpec<typeof caserOptions.options> = {
  name: 'caser',
  description: 'Caser (Tang & Wang, 2018): horizontal and vertical convolutions over the last L items, plus a user embedding',
  fileName: 'caser.safetensors',
  options: caserOptions,

  learning: {
    kind: 'gradient',
    trainingDefaults: CASER_TRAINING_DEFAULTS,
    build(split, options, rng, batches, record) {
      if (batches.userSampling !== 'shuffle') {
        throw new UserError(`--user_sampling ${batches.userSampling}: Caser draws shuffled windows, not users (only shuffle applies)`);
      }
      const cfg = networkConfig(options, split.data.itemNum, split.data.userNum);
      const network = new Caser(cfg, { rng: rng.fork() });
      const sampler = new WindowSampler(split, { batchSize: batches.batchSize, L: cfg.L, T: cfg.T, negatives: cfg.negSamples, rng: rng.fork() });
      return {
        network,
        sampler,
        model: new NetworkModel('caser', network, caserMetadata(cfg, record), catalogOf(split, false)),
        summary:
          `Caser: L ${cfg.L}, T ${cfg.T}, d ${cfg.hiddenUnits}, n_v ${cfg.nV}, n_h ${cfg.nH}, dropout ${cfg.dropoutRate}, l2 ${cfg.l2}, ` +
          `${cfg.negSamples} negatives per target`,
      };
    },
  },

  sniff: looksLikeCaser,

  load(bytes) {
    const ckpt = decodeCheckpoint(bytes);
    const { options, itemNum, userNum } = caserOptionsOf(ckpt);
    const cfg = networkConfig(options, itemNum, userNum);
    return loadNetworkModel(
      'caser',
      ckpt,
      itemNum,
      () => new Caser(cfg, { seed: 0 }),
      (record) => caserMetadata(cfg, record),
    );
  },
};

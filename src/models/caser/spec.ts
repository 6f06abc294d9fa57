/** `--model caser`: Caser, trained by gradient on windows of the sampler's rows. */
import { TrainSampler } from '../../data/sampler.js';
import type { Split } from '../../data/types.js';
import type { ModelSpec } from '../contract.js';
import { catalogOf } from '../common/catalog.js';
import { decodeCheckpoint } from '../common/checkpoint-format.js';
import { loadNetworkModel } from '../common/gradient-model.js';
import { NetworkModel } from '../common/network-model.js';
import { Caser } from './caser.js';
import { caserMetadata, caserOptionsOf, looksLikeCaser } from './checkpoint.js';
import { caserOptions, networkConfig } from './options.js';

/** The longest training row: past it a user's earliest windows wait for an epoch that never reaches them. */
export const MAX_TRAINING_ROW = 8192;

/**
 * The sampler's row length: the longest train sequence, so that a row holds all of a user's windows
 * (one epoch = every window once, as the authors' epochs) and always starts with padding (windows.ts);
 * at most MAX_TRAINING_ROW.
 */
export function trainingRowLength(split: Split): number {
  let longest = 2;
  for (let u = 1; u < split.train.length; u++) longest = Math.max(longest, split.train[u].length);
  return Math.min(longest, MAX_TRAINING_ROW);
}

export const caser: ModelSpec<typeof caserOptions.options> = {
  name: 'caser',
  description: 'Caser (Tang & Wang, 2018): horizontal and vertical convolutions over the last L items, plus a user embedding',
  fileName: 'caser.safetensors',
  options: caserOptions,

  learning: {
    kind: 'gradient',
    build(split, options, rng, batches, record) {
      const cfg = networkConfig(options, split.data.itemNum, split.data.userNum);
      const network = new Caser(cfg, { rng: rng.fork() });
      const rows = trainingRowLength(split);
      const sampler = new TrainSampler(split, { ...batches, maxlen: rows, rng: rng.fork(), negatives: cfg.T * cfg.negSamples });
      return {
        network,
        sampler,
        model: new NetworkModel('caser', network, caserMetadata(cfg, record), catalogOf(split, false)),
        summary:
          `Caser: L ${cfg.L}, T ${cfg.T}, d ${cfg.hiddenUnits}, n_v ${cfg.nV}, n_h ${cfg.nH}, dropout ${cfg.dropoutRate}, l2 ${cfg.l2}, ` +
          `${cfg.negSamples} negatives per target, the windows of rows of ${rows}`,
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

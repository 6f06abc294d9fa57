/** `--model sasrec`: SASRec and its mHC variant, trained by gradient on the reference's sampler. */
import { describeLoss, lossFor } from '../../losses/index.js';
import type { ModelSpec } from '../contract.js';
import { catalogOf } from '../common/catalog.js';
import { decodeCheckpoint } from '../common/checkpoint-format.js';
import { lossSampler, loadNetworkModel } from '../common/gradient-model.js';
import { describeMHC } from '../common/mhc-options.js';
import { NetworkModel } from '../common/network-model.js';
import { looksLikeSASRec, sasrecMetadata, sasrecOptionsOf } from './checkpoint.js';
import { networkConfig, sasrecOptions } from './options.js';
import { SASRec } from './sasrec.js';

export const sasrec: ModelSpec<typeof sasrecOptions.options> = {
  name: 'sasrec',
  description: 'SASRec (Kang & McAuley, 2018): causal self-attention over the item sequence',
  fileName: 'sasrec.safetensors',
  options: sasrecOptions,

  learning: {
    kind: 'gradient',
    build(split, options, rng, batches, record) {
      const cfg = networkConfig(options, split.data.itemNum);
      const loss = lossFor(options, cfg.itemNum);
      const network = new SASRec(cfg, { rng: rng.fork(), loss });
      const sampler = lossSampler(split, batches, cfg.maxlen, rng.fork(), loss);
      return {
        network,
        sampler,
        model: new NetworkModel('sasrec', network, sasrecMetadata(cfg, options, record), catalogOf(split, false)),
        summary:
          `SASRec: d ${cfg.hiddenUnits}, ${cfg.numBlocks} blocks, ${cfg.numHeads} heads, maxlen ${cfg.maxlen}, dropout ${cfg.dropoutRate}` +
          describeMHC(cfg.mhc) +
          describeLoss(options),
      };
    },
  },

  sniff: looksLikeSASRec,

  load(bytes, overrides = {}) {
    const ckpt = decodeCheckpoint(bytes);
    const { options, itemNum } = sasrecOptionsOf(ckpt, overrides);
    const cfg = networkConfig(options, itemNum);
    return loadNetworkModel(
      'sasrec',
      ckpt,
      itemNum,
      () => new SASRec(cfg, { seed: 0 }),
      (record) => sasrecMetadata(cfg, options, record),
    );
  },
};

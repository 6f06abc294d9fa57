/** `--model sasrec`: SASRec and its mHC variant, trained by gradient on the reference's sampler. */
import { TrainSampler } from '../../data/sampler.js';
import { describeLoss, lossFor } from '../../losses/index.js';
import type { ModelSpec } from '../contract.js';
import { catalogFromCheckpoint, catalogOf, withWeights } from '../common/catalog.js';
import { decodeCheckpoint } from '../common/checkpoint-format.js';
import { trainingRecordOf } from '../common/checkpoint-config.js';
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
      const sampler = new TrainSampler(split, {
        ...batches,
        maxlen: cfg.maxlen,
        rng: rng.fork(),
        negatives: loss.negatives,
        sharedNegatives: loss.sharedNegatives,
      });
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
    const record = trainingRecordOf(ckpt);
    // everything that can refuse the file comes before the network: a refused file takes no wasm memory
    const catalog = catalogFromCheckpoint(ckpt, itemNum);
    const network = withWeights(new SASRec(cfg, { seed: 0 }), ckpt.tensors);
    return new NetworkModel('sasrec', network, sasrecMetadata(cfg, options, record), catalog);
  },
};

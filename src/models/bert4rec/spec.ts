/** BERT4Rec's registration: `--model bert4rec`. */
import { describeLoss, lossFor } from '../../losses/index.js';
import type { ModelSpec } from '../contract.js';
import { catalogOf } from '../common/catalog.js';
import { decodeCheckpoint } from '../common/checkpoint-format.js';
import { lossSampler, loadNetworkModel } from '../common/gradient-model.js';
import { NetworkModel } from '../common/network-model.js';
import { BERT4Rec } from './bert4rec.js';
import { bert4recMetadata, bert4recOptionsOf, looksLikeBERT4Rec } from './checkpoint.js';
import { bert4recOptions, networkConfig } from './options.js';

export const bert4rec: ModelSpec<typeof bert4recOptions.options> = {
  name: 'bert4rec',
  description: 'BERT4Rec (Sun et al., 2019): bidirectional self-attention trained to fill in masked items (Cloze)',
  fileName: 'bert4rec.safetensors',
  options: bert4recOptions,

  learning: {
    kind: 'gradient',
    build(split, options, rng, batches, record) {
      const cfg = networkConfig(options, split.data.itemNum);
      const loss = lossFor(options, cfg.itemNum);
      const network = new BERT4Rec(cfg, { rng: rng.fork(), loss });
      const sampler = lossSampler(split, batches, cfg.maxlen, rng.fork(), loss, { maskProb: options.maskProb, maskToken: network.maskToken });
      return {
        network,
        sampler,
        model: new NetworkModel('bert4rec', network, bert4recMetadata(cfg, options, record), catalogOf(split, false)),
        summary:
          `BERT4Rec: d ${cfg.hiddenUnits}, ${cfg.numBlocks} layers, ${cfg.numHeads} heads, maxlen ${cfg.maxlen}, dropout ${cfg.dropoutRate}, ` +
          `mask_prob ${options.maskProb}${options.loss === 'bce' ? ', loss bce' : describeLoss(options)}`,
      };
    },
  },

  sniff: looksLikeBERT4Rec,

  load(bytes, overrides = {}) {
    const ckpt = decodeCheckpoint(bytes);
    const { options, itemNum } = bert4recOptionsOf(ckpt, overrides);
    const cfg = networkConfig(options, itemNum);
    return loadNetworkModel(
      'bert4rec',
      ckpt,
      itemNum,
      () => new BERT4Rec(cfg, { seed: 0 }),
      (record) => bert4recMetadata(cfg, options, record),
    );
  },
};

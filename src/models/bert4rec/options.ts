/**
 * BERT4Rec's options: the self-attention sizes with the paper's defaults (d 64, 2 layers, 2 heads,
 * dropout 0.1, maxlen 200), the loss (default ce, the paper's softmax over all items), the mask
 * proportion ρ, and the network configuration they give.
 */
import { defineOptions, num, type ConfigOf } from '../../core/options.js';
import { lossOptions } from '../../losses/index.js';
import { attentionOptions, headsDivideHiddenUnits } from '../common/attention-options.js';
import type { BERT4RecConfig } from './bert4rec.js';

export const bert4recOptions = attentionOptions
  .pick('maxlen', 'hidden_units', 'num_blocks', 'num_heads', 'dropout_rate')
  .withDefaults({ maxlen: 200, hiddenUnits: 64, numBlocks: 2, numHeads: 2, dropoutRate: 0.1 })
  .rule(headsDivideHiddenUnits)
  .with(lossOptions.withDefaults({ loss: 'ce' }))
  .with(
    defineOptions({
      mask_prob: num({
        help: "BERT4Rec: the Cloze mask proportion ρ, each training item's chance to be masked (the paper's ρ: 0.6 Beauty, 0.4 Steam, 0.2 ML-1m)",
        default: 0.2,
        above: 0,
        max: 1,
      }),
    }),
  );

export type BERT4RecModelOptions = ConfigOf<typeof bert4recOptions.options>;

/** The network's configuration for a catalogue of `itemNum` items. */
export function networkConfig(o: BERT4RecModelOptions, itemNum: number): BERT4RecConfig {
  return { itemNum, maxlen: o.maxlen, hiddenUnits: o.hiddenUnits, numBlocks: o.numBlocks, numHeads: o.numHeads, dropoutRate: o.dropoutRate };
}

/**
 * The options every self-attention model shares (the reference main.py's names). Each model takes
 * them with its own defaults (`attentionOptions.withDefaults`). The upper limits are far above
 * anything the field trains with: past them sizes overflow memory or index arithmetic, and the user
 * gets an error naming the option instead of an allocator's.
 */
import { bool, defineOptions, int, num, type ConfigOf, type Naming } from '../../core/options.js';
import { mhcConfig, type mhcOptions } from './mhc-options.js';
import type { SelfAttentiveConfig } from './self-attentive.js';

/** The rule that the heads split the hidden units evenly (for a group that picks these options). */
export function headsDivideHiddenUnits(
  c: { readonly hiddenUnits: number; readonly numHeads: number },
  name: Naming,
): readonly [string, string] | undefined {
  return c.hiddenUnits % c.numHeads !== 0 ? ['num_heads', `${c.numHeads} must divide ${name('hidden_units')} ${c.hiddenUnits}`] : undefined;
}

export const attentionOptions = defineOptions({
  maxlen: int({ help: 'maximum sequence length: the last maxlen items of a history are read', default: 200, min: 1, max: 8192 }),
  hidden_units: int({ help: 'embedding size d', default: 50, min: 1, max: 4096 }),
  num_blocks: int({ help: 'self-attention blocks', default: 2, min: 0, max: 64 }),
  num_heads: int({ help: 'attention heads (must divide hidden_units)', default: 1, min: 1, max: 4096 }),
  dropout_rate: num({ help: 'dropout rate (the paper uses 0.5 on Amazon data)', default: 0.2, min: 0, below: 1 }),
  l2_emb: num({ help: 'L2 penalty l2_emb·ΣW² on the embeddings', default: 0, min: 0 }),
  norm_first: bool({ help: 'pre-LN blocks, as the reference --norm_first (default false; mHC implies true)' }),
}).rule(headsDivideHiddenUnits);

type AttentionValues = ConfigOf<typeof attentionOptions.options> & ConfigOf<typeof mhcOptions.options>;

/**
 * The network sizes the options give, for a catalogue of `itemNum` items. Pre-LN blocks when mHC is
 * on, or when asked for and `preLN` allows it (TiSASRec has no pre-LN variant without mHC).
 */
export function selfAttentiveConfig(o: AttentionValues, itemNum: number, preLN: boolean): SelfAttentiveConfig {
  const mhc = mhcConfig(o);
  return {
    itemNum,
    maxlen: o.maxlen,
    hiddenUnits: o.hiddenUnits,
    numBlocks: o.numBlocks,
    numHeads: o.numHeads,
    dropoutRate: o.dropoutRate,
    l2Emb: o.l2Emb,
    normFirst: mhc !== null || (preLN && (o.normFirst ?? false)),
    mhc,
  };
}

/** The first entries of a self-attentive model's checkpoint `config`: the model and its sizes. */
export function sizeMetadata(model: string, cfg: SelfAttentiveConfig): Record<string, unknown> {
  return {
    model,
    item_num: cfg.itemNum,
    maxlen: cfg.maxlen,
    hidden_units: cfg.hiddenUnits,
    num_blocks: cfg.numBlocks,
    num_heads: cfg.numHeads,
    dropout_rate: cfg.dropoutRate,
  };
}

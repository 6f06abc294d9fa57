/**
 * What the self-attentive next-item networks of the SASRec family (SASRec, TiSASRec) share beyond any
 * next-item network (next-item-network.ts: random streams, loss, scoring): the configuration checks
 * and the stack of attention / feed-forward blocks registered under the reference's state_dict names
 * (`attention_layernorms`, `attention_layers`, `forward_layernorms`, `forward_layers`,
 * `last_layernorm`, and `mhc_layers` for the mHC variant). Each network adds its embeddings and its
 * forward pass.
 */
import type { Rng } from '../../engine/rng.js';
import { PointWiseFeedForward } from '../../nn/feedforward.js';
import { LayerNorm } from '../../nn/layers.js';
import { MHCBlock, validateMHCConfig, type MHCConfig } from '../../nn/mhc.js';
import { type Module, ModuleList } from '../../nn/module.js';
import { NextItemNetwork, type NetworkOptions } from './next-item-network.js';

export { negativesPerPosition, networkRngs, perPositionNegatives, type NetworkOptions } from './next-item-network.js';

/** The sizes every self-attentive network has. */
export interface SelfAttentiveConfig {
  itemNum: number;
  maxlen: number;
  hiddenUnits: number;
  numBlocks: number;
  numHeads: number;
  dropoutRate: number;
  /** weight of Σ W² over the regularised embeddings in the loss */
  l2Emb?: number;
  /** pre-LN blocks */
  normFirst?: boolean;
  /**
   * Manifold-constrained hyper-connections (nn/mhc.ts; off when absent/null): n residual streams kept
   * across the blocks. Requires pre-LN blocks (normFirst is then implied; an explicit false is an
   * error). Parameters `mhc_layers.*`.
   */
  mhc?: MHCConfig | null;
}

export const LN_EPS = 1e-8;

/**
 * The configuration with its defaults (l2Emb 0; normFirst implied by mHC), checked; `what` names the
 * network in errors.
 */
export function completeConfig<C extends SelfAttentiveConfig>(what: string, config: C): C & Required<SelfAttentiveConfig> {
  if (config.mhc) {
    validateMHCConfig(config.mhc);
    if (config.normFirst === false) throw new Error(`${what}: mHC uses pre-LN blocks; normFirst: false is not supported with mhc`);
  }
  const c = { normFirst: !!config.mhc, l2Emb: 0, ...config, mhc: config.mhc ? { ...config.mhc } : null };
  if (c.mhc) c.normFirst = true;
  if (c.hiddenUnits % c.numHeads !== 0) throw new Error(`${what}: num_heads ${c.numHeads} must divide hidden_units ${c.hiddenUnits}`);
  return c;
}

/** One block's modules. */
export interface Block<A> {
  readonly attnNorm: LayerNorm;
  readonly attn: A;
  readonly ffnNorm: LayerNorm;
  readonly ffn: PointWiseFeedForward;
  /** the block's hyper-connections (mHC variant only) */
  readonly hc: MHCBlock | undefined;
}

/** A self-attentive network over attention modules A, trained on batches B. */
export abstract class SelfAttentiveNetwork<A extends Module, B> extends NextItemNetwork<B> {
  attentionLayernorms!: ModuleList<LayerNorm>;
  attentionLayers!: ModuleList<A>;
  forwardLayernorms!: ModuleList<LayerNorm>;
  forwardLayers!: ModuleList<PointWiseFeedForward>;
  lastLayernorm!: LayerNorm;
  /** the hyper-connections per block (mHC variant only; registered last, as `mhc_layers`) */
  mhcLayers: ModuleList<MHCBlock> | null = null;

  protected constructor(config: Required<SelfAttentiveConfig>, opts: NetworkOptions, dropoutRng: Rng) {
    super(config.itemNum, config.maxlen, opts, dropoutRng);
  }

  /**
   * The blocks (each: LayerNorm, attention, LayerNorm, feed-forward, built in that order from `rng`),
   * the last LayerNorm and the mHC blocks, registered after whatever the network registered before.
   */
  protected addBlocks(config: Required<SelfAttentiveConfig>, attention: () => A, rng: Rng): void {
    const d = config.hiddenUnits;
    const blocks = Array.from({ length: config.numBlocks }, () => ({
      attnNorm: new LayerNorm(d, LN_EPS),
      attn: attention(),
      ffnNorm: new LayerNorm(d, LN_EPS),
      ffn: new PointWiseFeedForward(d, config.dropoutRate, rng, this.dropoutRng),
    }));
    this.attentionLayernorms = this.addModule('attention_layernorms', new ModuleList(blocks.map((b) => b.attnNorm)));
    this.attentionLayers = this.addModule('attention_layers', new ModuleList(blocks.map((b) => b.attn)));
    this.forwardLayernorms = this.addModule('forward_layernorms', new ModuleList(blocks.map((b) => b.ffnNorm)));
    this.forwardLayers = this.addModule('forward_layers', new ModuleList(blocks.map((b) => b.ffn)));
    this.lastLayernorm = this.addModule('last_layernorm', new LayerNorm(d, LN_EPS));
    const m = config.mhc;
    if (m)
      this.mhcLayers = this.addModule(
        'mhc_layers',
        new ModuleList(Array.from({ length: config.numBlocks }, () => new MHCBlock(m.expansionRate, d, m))),
      );
  }

  /** Block i's modules. */
  protected block(i: number): Block<A> {
    return {
      attnNorm: this.attentionLayernorms.at(i),
      attn: this.attentionLayers.at(i),
      ffnNorm: this.forwardLayernorms.at(i),
      ffn: this.forwardLayers.at(i),
      hc: this.mhcLayers?.at(i),
    };
  }
}

/**
 * What the self-attentive next-item networks (SASRec, TiSASRec) share: the configuration checks, the
 * random streams, the stack of attention / feed-forward blocks registered under the reference's
 * state_dict names (`attention_layernorms`, `attention_layers`, `forward_layernorms`,
 * `forward_layers`, `last_layernorm`, and `mhc_layers` for the mHC variant), the training loss (the
 * objective over the output features + the L2 term), and scoring from the last position's features.
 * Each network adds its embeddings and its forward pass.
 */
import * as ops from '../../engine/ops.js';
import { Rng } from '../../engine/rng.js';
import { getTape, withInferenceTape } from '../../engine/tape.js';
import type { Parameter, Tensor } from '../../engine/tensor.js';
import type { HistoryBatch, Scorer } from '../../eval/types.js';
import { getKernels } from '../../kernels/index.js';
import { bceLoss, type NextItemLoss, type NextItemTargets } from '../../losses/index.js';
import { PointWiseFeedForward } from '../../nn/feedforward.js';
import { type Embedding, LayerNorm } from '../../nn/layers.js';
import { MHCBlock, validateMHCConfig, type MHCConfig } from '../../nn/mhc.js';
import { Module, ModuleList } from '../../nn/module.js';

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

/** How a network is built. */
export interface NetworkOptions {
  /** seeds initialisation and (forked) dropout when no rng is given; default 42 */
  seed?: number;
  /** initialisation randomness */
  rng?: Rng;
  /** dropout randomness (default: forked from rng) */
  dropoutRng?: Rng;
  /** skip padding (the packed path, default true); false computes every position densely */
  packed?: boolean;
  /** the training loss (default: BCE with one negative, the paper's) */
  loss?: NextItemLoss;
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

/** The initialisation stream, and the dropout stream forked from it (in this order, for a seed to give the same network). */
export function networkRngs(opts: NetworkOptions): { rng: Rng; dropoutRng: Rng } {
  const rng = opts.rng ?? new Rng(opts.seed ?? 42);
  return { rng, dropoutRng: opts.dropoutRng ?? rng.fork() };
}

/** The negatives of a batch: K per position (0: none, or the batch's shared list). */
export function negativesPerPosition(batch: { readonly negatives?: number; readonly sharedNegatives?: boolean }): number {
  return batch.sharedNegatives ? 0 : (batch.negatives ?? 1);
}

const NO_IDS = new Int32Array(0);

/** The ids LossTargets gathers K per target: the batch's per-position negatives, or none when they are shared. */
export function perPositionNegatives(batch: { readonly neg: Int32Array; readonly sharedNegatives?: boolean }): Int32Array {
  return batch.sharedNegatives ? NO_IDS : batch.neg;
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
export abstract class SelfAttentiveNetwork<A extends Module, B> extends Module implements Scorer {
  readonly itemNum: number;
  readonly maxlen: number;
  /** the stream dropout masks are drawn from (save/restore its state to resume a run exactly) */
  readonly dropoutRng: Rng;
  /** the training objective over the output features (losses/) */
  readonly objective: NextItemLoss;
  /**
   * Whether the loss and the scores skip padding (the packed path). Both paths give the same results
   * without dropout.
   */
  packed: boolean;

  abstract readonly itemEmb: Embedding;

  attentionLayernorms!: ModuleList<LayerNorm>;
  attentionLayers!: ModuleList<A>;
  forwardLayernorms!: ModuleList<LayerNorm>;
  forwardLayers!: ModuleList<PointWiseFeedForward>;
  lastLayernorm!: LayerNorm;
  /** the hyper-connections per block (mHC variant only; registered last, as `mhc_layers`) */
  mhcLayers: ModuleList<MHCBlock> | null = null;

  protected constructor(config: Required<SelfAttentiveConfig>, opts: NetworkOptions, dropoutRng: Rng) {
    super();
    this.itemNum = config.itemNum;
    this.maxlen = config.maxlen;
    this.dropoutRng = dropoutRng;
    this.packed = opts.packed ?? true;
    this.objective = opts.loss ?? bceLoss;
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

  /** The embeddings the l2_emb term covers, and its weight. */
  protected abstract get regularisation(): { readonly weight: number; readonly embeddings: readonly Parameter[] };

  /** The features the loss scores, with their targets (see NextItemTargets). */
  protected abstract trainingTargets(batch: B): NextItemTargets;

  /** The training loss: the objective over the training targets, + l2_emb · Σ W² over the regularised embeddings. */
  loss(batch: B): Tensor {
    let loss = this.objective.compute(this.trainingTargets(batch), this.itemEmb);
    const { weight, embeddings } = this.regularisation;
    if (weight !== 0) for (const w of embeddings) loss = ops.add(loss, ops.scale(ops.sumSquares(w), weight));
    return loss;
  }

  /**
   * Scores [B·C] of candidates [B·C] from the features [B, d] at each history's last position, on the
   * inference tape; a fresh array.
   */
  protected candidateScores(lastFeatures: () => Tensor, batchSize: number, candidates: Int32Array, numCandidates: number): Float32Array {
    return withInferenceTape(() => {
      const d = this.itemEmb.weight.shape[1];
      const C = numCandidates;
      if (candidates.length !== batchSize * C) throw new Error(`predict: ${candidates.length} candidates for ${batchSize}×${C}`);
      const feats = lastFeatures();
      const cand = this.itemEmb.forward(candidates);
      const k = getKernels();
      const out = getTape().alloc(batchSize * C);
      for (let b = 0; b < batchSize; b++) k.gemm(false, true, 1, C, d, 1, feats.data, b * d, d, cand.data, b * C * d, d, 0, out, b * C, C);
      return out.slice();
    });
  }

  /**
   * Scores of every item 0..itemNum [B·(itemNum+1)] from the last position's features; into `out`
   * when it is large enough (no fresh B·n array per call), else a fresh array.
   */
  protected allScores(lastFeatures: () => Tensor, batchSize: number, out?: Float32Array): Float32Array {
    return withInferenceTape(() => {
      const d = this.itemEmb.weight.shape[1];
      const n = this.itemNum + 1;
      const feats = lastFeatures();
      const dst = out !== undefined && out.length >= batchSize * n ? out.subarray(0, batchSize * n) : undefined;
      const scores = dst ?? getTape().alloc(batchSize * n);
      getKernels().gemm(false, true, batchSize, n, d, 1, feats.data, 0, d, this.itemEmb.weight.data, 0, d, 0, scores, 0, n);
      return dst ?? scores.slice();
    });
  }

  abstract scoreCandidates(batch: HistoryBatch, candidates: Int32Array, numCandidates: number): Float32Array;
  abstract scoreAll(batch: HistoryBatch, out?: Float32Array): Float32Array;
}

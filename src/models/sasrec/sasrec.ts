/**
 * SASRec (Kang & McAuley, 2018), exactly as the PyTorch reference (SASRec.pytorch model.py):
 *
 *   E = item_emb(seq)·√d + pos_emb(pos),  pos = 1..L at items, 0 at padding;  E = dropout(E)
 *   per block (post-LN, default):  X = LN_a(X + MHA(X));  X = LN_f(X + FFN(X))
 *   per block (pre-LN, norm_first): X = X + MHA(LN_a(X));  X = X + FFN(LN_f(X))
 *   F = LN_last(X);  logit(i at t) = F_t · item_emb(i)
 *   mHC variant (config.mhc, not in the reference; docs/mhc.md): pre-LN blocks on n residual streams
 *   X_s = n copies of E; per sub-layer X_s = H_res X_s + H_postᵀ F(H_pre X_s); F = LN_last(mean of X_s)
 *
 * MHA is causal multi-head self-attention with attention-probability dropout; FFN is two kernel-1
 * convolutions with ReLU and dropout. Padding positions are not masked out of the keys (the reference
 * does not), so they take part in attention exactly as in PyTorch.
 *
 * Two computation paths give the reference's results:
 * - dense (`packed = false`, the ground truth): every [B, L] position, as PyTorch computes it;
 * - packed (`packed = true`, the default): padding skipped (DESIGN.md). Left padding has zero input
 *   and, under the causal mask, sees only padding, so at every layer all padded positions of the batch
 *   hold one identical vector P_l that depends on the weights alone. The packed path computes the
 *   N real tokens plus ONE shared padding row (engine/packing.ts); a real query of a row with p
 *   padding positions sees one padding key with score q·k_P/√hd + ln p and value v_P (exactly the p
 *   identical keys), and the padding row attends only to itself. Logits are computed only where the
 *   loss needs them (pos ≠ 0) and, for prediction, only at each history's last position. This is exact
 *   (forward and every gradient) without dropout. With dropout, attention dropout keeps a
 *   Binomial(p, 1 − rate) share of the merged padding weight, exactly the dense path's distribution
 *   for p identical copies; what still differs is that embedding/FFN dropout (and the padding row's
 *   own attention dropout) draw one mask for the shared padding row, where the dense path draws one
 *   per padded position, so in training the dense path's padded positions are not all identical.
 *   (Measured on Games, same weights and batches, epoch-1 training loss: PyTorch 1.1794, dense 1.1817,
 *   packed 1.1833; with the padding weight dropped as one unit, as before, 1.1943. BENCHMARKS.md.)
 *   Batches that are not left-padded (a 0 after an item) fall back to the dense path.
 */
import * as init from '../../engine/init.js';
import * as ops from '../../engine/ops.js';
import { Rng } from '../../engine/rng.js';
import { PackedBatch } from '../../engine/packing.js';
import { getTape, withInferenceTape } from '../../engine/tape.js';
import type { Tensor } from '../../engine/tensor.js';
import type { HistoryBatch, Scorer } from '../../eval/types.js';
import type { TrainBatch } from '../../data/types.js';
import { getKernels } from '../../kernels/index.js';
import { MultiheadAttention } from '../../nn/attention.js';
import { PointWiseFeedForward } from '../../nn/feedforward.js';
import { Dropout, Embedding, LayerNorm } from '../../nn/layers.js';
import { MHCBlock, collapseStreams, expandStreams, validateMHCConfig, type MHCConfig } from '../../nn/mhc.js';
import { Module, ModuleList } from '../../nn/module.js';
import { bceLoss, type NextItemLoss, type NextItemTargets } from '../../losses/index.js';
import { targetLogits } from '../common/target-logits.js';

export interface SASRecConfig {
  itemNum: number;
  maxlen: number;
  hiddenUnits: number;
  numBlocks: number;
  numHeads: number;
  dropoutRate: number;
  /** pre-LN blocks (the reference's --norm_first) */
  normFirst?: boolean;
  /** weight of Σ item_emb² in the loss */
  l2Emb?: number;
  /**
   * Manifold-constrained hyper-connections (nn/mhc.ts; off when absent/null): n residual streams kept
   * across the blocks, collapsed by their mean before the last LayerNorm. Requires pre-LN blocks
   * (normFirst is then implied; an explicit normFirst: false is an error). Parameters `mhc_layers.*`.
   */
  mhc?: MHCConfig | null;
}

export interface SASRecOptions {
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

/** The rows the training forward needs (a TrainBatch satisfies it). */
export type SASRecBatch = Pick<TrainBatch, 'batchSize' | 'maxlen' | 'seqs' | 'pos' | 'neg'>;

export type { TensorEntry } from '../../nn/module.js';

const LN_EPS = 1e-8;

export class SASRec extends Module implements Scorer {
  readonly config: Readonly<Required<SASRecConfig>>;
  readonly itemNum: number;
  readonly maxlen: number;
  /** the stream dropout masks are drawn from (save/restore its state to resume a run exactly) */
  readonly dropoutRng: Rng;

  readonly itemEmb: Embedding;
  readonly posEmb: Embedding;
  readonly embDropout: Dropout;
  readonly attentionLayernorms: ModuleList<LayerNorm>;
  readonly attentionLayers: ModuleList<MultiheadAttention>;
  readonly forwardLayernorms: ModuleList<LayerNorm>;
  readonly forwardLayers: ModuleList<PointWiseFeedForward>;
  readonly lastLayernorm: LayerNorm;
  /** the hyper-connections per block (mHC variant only; registered last, as `mhc_layers`) */
  readonly mhcLayers: ModuleList<MHCBlock> | null = null;

  /**
   * Whether loss/predict/scoreCandidates/scoreAll skip padding (see the file comment).
   * Both paths give the same results without dropout; forward() is always dense.
   */
  packed: boolean;

  /** the training objective over the output features (losses/) */
  readonly objective: NextItemLoss;

  private readonly trainLayout = new PackedBatch();
  private readonly evalLayout = new PackedBatch();

  constructor(config: SASRecConfig, opts: SASRecOptions = {}) {
    super();
    if (config.mhc) {
      validateMHCConfig(config.mhc);
      if (config.normFirst === false) throw new Error('SASRec: mHC uses pre-LN blocks; normFirst: false is not supported with mhc');
    }
    const c = (this.config = { normFirst: !!config.mhc, l2Emb: 0, ...config, mhc: config.mhc ? { ...config.mhc } : null });
    if (c.mhc) c.normFirst = true;
    if (c.hiddenUnits % c.numHeads !== 0) throw new Error(`SASRec: num_heads ${c.numHeads} must divide hidden_units ${c.hiddenUnits}`);
    this.itemNum = c.itemNum;
    this.maxlen = c.maxlen;
    const rng = opts.rng ?? new Rng(opts.seed ?? 42);
    const drop = (this.dropoutRng = opts.dropoutRng ?? rng.fork());
    this.packed = opts.packed ?? true;
    this.objective = opts.loss ?? bceLoss;
    const d = c.hiddenUnits;

    this.itemEmb = this.addModule('item_emb', new Embedding(c.itemNum + 1, d, rng, 0));
    this.posEmb = this.addModule('pos_emb', new Embedding(c.maxlen + 1, d, rng, 0));
    this.embDropout = this.addModule('emb_dropout', new Dropout(c.dropoutRate, drop));
    const blocks = Array.from({ length: c.numBlocks }, () => ({
      attnNorm: new LayerNorm(d, LN_EPS),
      attn: new MultiheadAttention(d, c.numHeads, c.dropoutRate, rng, drop),
      ffnNorm: new LayerNorm(d, LN_EPS),
      ffn: new PointWiseFeedForward(d, c.dropoutRate, rng, drop),
    }));
    this.attentionLayernorms = this.addModule('attention_layernorms', new ModuleList(blocks.map((b) => b.attnNorm)));
    this.attentionLayers = this.addModule('attention_layers', new ModuleList(blocks.map((b) => b.attn)));
    this.forwardLayernorms = this.addModule('forward_layernorms', new ModuleList(blocks.map((b) => b.ffnNorm)));
    this.forwardLayers = this.addModule('forward_layers', new ModuleList(blocks.map((b) => b.ffn)));
    this.lastLayernorm = this.addModule('last_layernorm', new LayerNorm(d, LN_EPS));
    const m = c.mhc;
    if (m) {
      this.mhcLayers = this.addModule('mhc_layers', new ModuleList(Array.from({ length: c.numBlocks }, () => new MHCBlock(m.expansionRate, d, m))));
    }
    this.resetParameters(rng);
  }

  /**
   * The reference trainer's initialisation: xavier-normal on every parameter with ≥ 2 dimensions
   * (1-D ones keep their PyTorch defaults), then zero the padding rows of both embeddings.
   */
  resetParameters(rng: Rng): void {
    for (const [, p] of this.namedParameters()) if (p.shape.length >= 2) init.xavierNormal(p, rng);
    const d = this.config.hiddenUnits;
    this.itemEmb.weight.data.fill(0, 0, d);
    this.posEmb.weight.data.fill(0, 0, d);
    // mHC: the φ projections get xavier-normal above; gates and static biases their own init
    if (this.mhcLayers) for (const b of this.mhcLayers.items) b.resetStatic();
  }

  /** Sequence features [B·L, d] for left-padded item ids seqs [B·L]. */
  log2feats(seqs: Int32Array, batchSize: number): Tensor {
    const len = seqs.length / batchSize;
    if (!Number.isInteger(len) || len > this.maxlen) {
      throw new Error(`SASRec: ${seqs.length} ids for batch ${batchSize} is not a length ≤ maxlen ${this.maxlen}`);
    }
    const positions = new Int32Array(seqs.length);
    for (let b = 0; b < batchSize; b++) {
      for (let t = 0; t < len; t++) positions[b * len + t] = seqs[b * len + t] !== 0 ? t + 1 : 0;
    }
    return this.encode(seqs, positions, (attn, h) => attn.forward(h, batchSize, len));
  }

  /**
   * Packed features [rows, d] of the batch packed in `layout` (real tokens, then the shared padding
   * row; see engine/packing.ts). Row r is the reference's feature at the position that row stands for.
   */
  log2featsPacked(layout: PackedBatch): Tensor {
    if (layout.len > this.maxlen) throw new Error(`SASRec: length ${layout.len} exceeds maxlen ${this.maxlen}`);
    return this.encode(layout.items, layout.positions, (attn, h) => attn.forwardPacked(h, layout));
  }

  /** Embedding, blocks and final LayerNorm over rows of (item id, position index); attention given. */
  private encode(items: Int32Array, positions: Int32Array, attention: (attn: MultiheadAttention, h: Tensor) => Tensor): Tensor {
    const d = this.config.hiddenUnits;
    let x = this.itemEmb.forward(items, [items.length], Math.sqrt(d));
    x = ops.add(x, this.posEmb.forward(positions));
    x = this.embDropout.forward(x);
    if (this.mhcLayers) return this.encodeMHC(x, attention);

    for (let i = 0; i < this.config.numBlocks; i++) {
      const attnNorm = this.attentionLayernorms.at(i);
      const attn = this.attentionLayers.at(i);
      const ffnNorm = this.forwardLayernorms.at(i);
      const ffn = this.forwardLayers.at(i);
      if (this.config.normFirst) {
        x = ops.add(x, attention(attn, attnNorm.forward(x)));
        x = ops.add(x, ffn.forward(ffnNorm.forward(x)));
      } else {
        x = attnNorm.forward(ops.add(x, attention(attn, x)));
        x = ffnNorm.forward(ops.add(x, ffn.forward(x)));
      }
    }
    return this.lastLayernorm.forward(x);
  }

  /**
   * The mHC blocks (pre-LN): streams = n copies of the embedding output; per block
   * X = H_res X + H_postᵀ MHA(LN_a(H_pre X)), then the same around LN_f and the FFN; the streams'
   * mean goes through the last LayerNorm.
   */
  private encodeMHC(x: Tensor, attention: (attn: MultiheadAttention, h: Tensor) => Tensor): Tensor {
    const mhcLayers = this.mhcLayers!;
    let streams = expandStreams(x, this.config.mhc!.expansionRate);
    for (let i = 0; i < this.config.numBlocks; i++) {
      const attnNorm = this.attentionLayernorms.at(i);
      const attn = this.attentionLayers.at(i);
      const ffnNorm = this.forwardLayernorms.at(i);
      const ffn = this.forwardLayers.at(i);
      const hc = mhcLayers.at(i);
      streams = hc.attn.forward(streams, (u) => attention(attn, attnNorm.forward(u)));
      streams = hc.ffn.forward(streams, (u) => ffn.forward(ffnNorm.forward(u)));
    }
    return this.lastLayernorm.forward(collapseStreams(streams));
  }

  /** Packs a batch into `layout`; false when it is not left-padded (use the dense path). */
  private pack(layout: PackedBatch, seqs: Int32Array, batchSize: number): boolean {
    const len = seqs.length / batchSize;
    if (!Number.isInteger(len) || len > this.maxlen) {
      throw new Error(`SASRec: ${seqs.length} ids for batch ${batchSize} is not a length ≤ maxlen ${this.maxlen}`);
    }
    return layout.build(seqs, batchSize);
  }

  /**
   * Training forward on the packed path: logits of the positive and negative item only at the M
   * positions whose positive id ≠ 0 (the loss positions), each [M]; `index[m]` is the flat position
   * b·L + t of logit m in the [B, L] batch (ascending). The arrays are valid until the next packed
   * forward or loss. Throws when the batch is not left-padded.
   */
  forwardPacked(batch: SASRecBatch): { posLogits: Tensor; negLogits: Tensor; index: Int32Array } {
    const layout = this.trainLayout;
    if (!this.pack(layout, batch.seqs, batch.batchSize)) throw new Error('SASRec.forwardPacked: the batch is not left-padded');
    return this.packedLogits(layout, batch);
  }

  private packedLogits(layout: PackedBatch, batch: SASRecBatch): { posLogits: Tensor; negLogits: Tensor; index: Int32Array } {
    layout.buildTargets(batch.pos, batch.neg);
    return targetLogits(this.log2featsPacked(layout), layout.targets, this.itemEmb);
  }

  /** Training forward (dense path): logits of the positive and negative item at every position, each [B, L]. */
  forward(batch: SASRecBatch): { posLogits: Tensor; negLogits: Tensor } {
    const { batchSize, seqs, pos, neg } = batch;
    const len = seqs.length / batchSize;
    const feats = this.log2feats(seqs, batchSize);
    const posEmbs = this.itemEmb.forward(pos);
    const negEmbs = this.itemEmb.forward(neg);
    const posLogits = ops.reshape(ops.rowDot(feats, posEmbs), [batchSize, len]);
    const negLogits = ops.reshape(ops.rowDot(feats, negEmbs), [batchSize, len]);
    return { posLogits, negLogits };
  }

  /**
   * The training loss (bench.py's with the default BCE): the objective over the features at the
   * positions with a target, + l2_emb · Σ item_emb².
   */
  loss(batch: SASRecBatch): Tensor {
    let loss = this.objective.compute(this.trainingTargets(batch), this.itemEmb);
    if (this.config.l2Emb !== 0) loss = ops.add(loss, ops.scale(ops.sumSquares(this.itemEmb.weight), this.config.l2Emb));
    return loss;
  }

  /**
   * The features the loss scores: on the packed path only the rows with a target (every one has
   * pos ≠ 0, so the mean over them is the reference's masked mean), else every [B·L] position.
   */
  private trainingTargets(batch: SASRecBatch): NextItemTargets {
    const layout = this.trainLayout;
    if (this.packed && this.pack(layout, batch.seqs, batch.batchSize)) {
      layout.buildTargets(batch.pos, batch.neg);
      const { rows, pos, neg } = layout.targets;
      return { features: ops.embedding(this.log2featsPacked(layout), rows), pos, neg };
    }
    return { features: this.log2feats(batch.seqs, batch.batchSize), pos: batch.pos, neg: batch.neg };
  }

  /**
   * Scores candidates [B·C] from the last position (the reference's predict), in the current mode
   * (call eval() first for inference, as the reference does). Returns a fresh [B·C] array.
   */
  predict(logSeqs: Int32Array, batchSize: number, candidates: Int32Array, numCandidates: number): Float32Array {
    return withInferenceTape(() => {
      const d = this.config.hiddenUnits;
      const C = numCandidates;
      if (candidates.length !== batchSize * C) throw new Error(`predict: ${candidates.length} candidates for ${batchSize}×${C}`);
      const feats = this.lastFeatures(logSeqs, batchSize);
      const cand = this.itemEmb.forward(candidates);
      const k = getKernels();
      const out = getTape().alloc(batchSize * C);
      for (let b = 0; b < batchSize; b++) {
        k.gemm(false, true, 1, C, d, 1, feats.data, b * d, d, cand.data, b * C * d, d, 0, out, b * C, C);
      }
      return out.slice();
    });
  }

  scoreCandidates(batch: HistoryBatch, candidates: Int32Array, numCandidates: number): Float32Array {
    return this.inEvalMode(() => this.predict(batch.seqs, batch.batchSize, candidates, numCandidates));
  }

  scoreAll(batch: HistoryBatch, out?: Float32Array): Float32Array {
    return this.inEvalMode(() =>
      withInferenceTape(() => {
        const B = batch.batchSize;
        const d = this.config.hiddenUnits;
        const n = this.itemNum + 1;
        const feats = this.lastFeatures(batch.seqs, B);
        // straight into the caller's buffer when given (no fresh B·n array per call)
        const dst = out !== undefined && out.length >= B * n ? out.subarray(0, B * n) : undefined;
        const scores = dst ?? getTape().alloc(B * n);
        getKernels().gemm(false, true, B, n, d, 1, feats.data, 0, d, this.itemEmb.weight.data, 0, d, 0, scores, 0, n);
        return dst ?? scores.slice();
      }),
    );
  }

  /**
   * Features [B, d] at the last position of each history (the reference's log_feats[:, -1, :]), on
   * the packed path when enabled (a history without items gets the padding row's features).
   */
  private lastFeatures(logSeqs: Int32Array, batchSize: number): Tensor {
    const layout = this.evalLayout;
    if (this.packed && this.pack(layout, logSeqs, batchSize)) return ops.embedding(this.log2featsPacked(layout), layout.lastRow);
    const len = logSeqs.length / batchSize;
    const last = new Int32Array(batchSize);
    for (let b = 0; b < batchSize; b++) last[b] = b * len + len - 1;
    return ops.embedding(this.log2feats(logSeqs, batchSize), last);
  }
}

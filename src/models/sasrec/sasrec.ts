/**
 * SASRec (Kang & McAuley, 2018), exactly as the PyTorch reference (SASRec.pytorch model.py):
 *
 *   E = item_emb(seq)·√d + pos_emb(pos),  pos = 1..L at items, 0 at padding;  E = dropout(E)
 *   per block (post-LN, default):  X = LN_a(X + MHA(X));  X = LN_f(X + FFN(X))
 *   per block (pre-LN, norm_first): X = X + MHA(LN_a(X));  X = X + FFN(LN_f(X))
 *   F = LN_last(X);  logit(i at t) = F_t · item_emb(i)
 *   ablations (ablation.ts, off by default): no_position_emb drops pos_emb(pos); no_residual drops the
 *   "X +" of every sub-layer; unshared_item_emb scores against output_item_emb(i) instead of item_emb(i)
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
import type { Rng } from '../../engine/rng.js';
import { PackedBatch } from '../../engine/packing.js';
import type { Parameter, Tensor } from '../../engine/tensor.js';
import type { HistoryBatch } from '../../eval/types.js';
import type { TrainBatch } from '../../data/types.js';
import { withInferenceTape } from '../../engine/tape.js';
import type { AttentionMap, AttentionSource } from '../contract.js';
import type { NextItemTargets } from '../../losses/index.js';
import { MultiheadAttention } from '../../nn/attention.js';
import { Dropout, Embedding } from '../../nn/layers.js';
import { collapseStreams, expandStreams } from '../../nn/mhc.js';
import {
  completeConfig,
  negativesPerPosition,
  networkRngs,
  perPositionNegatives,
  SelfAttentiveNetwork,
  type NetworkOptions,
  type SelfAttentiveConfig,
} from '../common/self-attentive.js';
import { targetLogits } from '../common/target-logits.js';
import { type AblationConfig, ablationConfig } from './ablation.js';

/** SASRec's sizes (the reference's flag names, camelCase); normFirst: the reference's --norm_first. */
export type SASRecConfig = SelfAttentiveConfig & AblationConfig;

/** The separate output item table's tensor name (unshared_item_emb only). */
export const OUTPUT_ITEM_EMB = 'output_item_emb.weight';

export type SASRecOptions = NetworkOptions;

/** The rows the training forward needs (a TrainBatch satisfies it). */
export type SASRecBatch = Pick<TrainBatch, 'batchSize' | 'maxlen' | 'seqs' | 'pos' | 'neg' | 'negatives' | 'sharedNegatives'>;

export type { TensorEntry } from '../../nn/module.js';

export class SASRec extends SelfAttentiveNetwork<MultiheadAttention, SASRecBatch> implements AttentionSource {
  readonly config: Readonly<Required<SASRecConfig>>;

  readonly itemEmb: Embedding;
  /** the output item table (unshared_item_emb only; registered last, so a default network is unchanged) */
  readonly outputItemEmb: Embedding | null = null;
  readonly posEmb: Embedding;
  readonly embDropout: Dropout;

  private readonly trainLayout = new PackedBatch();
  private readonly evalLayout = new PackedBatch();

  constructor(config: SASRecConfig, opts: SASRecOptions = {}) {
    const c = { ...completeConfig('SASRec', config), ...ablationConfig(config) };
    if (c.noResidual && c.mhc) throw new Error('SASRec: no_residual cannot be combined with mHC');
    const { rng, dropoutRng: drop } = networkRngs(opts);
    super(c, opts, drop);
    this.config = c;
    const d = c.hiddenUnits;
    this.itemEmb = this.addModule('item_emb', new Embedding(c.itemNum + 1, d, rng, 0));
    this.posEmb = this.addModule('pos_emb', new Embedding(c.maxlen + 1, d, rng, 0));
    this.embDropout = this.addModule('emb_dropout', new Dropout(c.dropoutRate, drop));
    this.addBlocks(c, () => new MultiheadAttention(d, c.numHeads, c.dropoutRate, rng, drop), rng);
    if (c.unsharedItemEmb) this.outputItemEmb = this.addModule('output_item_emb', new Embedding(c.itemNum + 1, d, rng, 0));
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
    this.outputItemEmb?.weight.data.fill(0, 0, d);
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
  log2featsPacked(layout: PackedBatch, keepRows?: Int32Array): Tensor {
    if (layout.len > this.maxlen) throw new Error(`SASRec: length ${layout.len} exceeds maxlen ${this.maxlen}`);
    return this.encode(layout.items, layout.positions, (attn, h) => attn.forwardPacked(h, layout), keepRows);
  }

  /**
   * Embedding, blocks and final LayerNorm over rows of (item id, position index); attention given.
   * With `keepRows`, only those rows' features [keepRows.length, d] come out, and the last block's
   * row-wise layers (feed-forward, LayerNorms) run on those rows alone: its attention still reads
   * every row as a key, and the other rows' outputs would feed nothing (prediction's last positions).
   */
  private encode(
    items: Int32Array,
    positions: Int32Array,
    attention: (attn: MultiheadAttention, h: Tensor) => Tensor,
    keepRows?: Int32Array,
  ): Tensor {
    const d = this.config.hiddenUnits;
    let x = this.itemEmb.forward(items, [items.length], Math.sqrt(d));
    if (!this.config.noPositionEmb) x = ops.add(x, this.posEmb.forward(positions));
    x = this.embDropout.forward(x);
    if (this.mhcLayers) {
      const feats = this.encodeMHC(x, attention);
      return keepRows ? ops.embedding(feats, keepRows) : feats;
    }

    // no_residual: each sub-layer's output replaces x instead of being added to it
    const residual = (input: Tensor, out: Tensor) => (this.config.noResidual ? out : ops.add(input, out));
    const blocks = this.config.numBlocks;
    if (keepRows && blocks === 0) x = ops.embedding(x, keepRows);
    for (let i = 0; i < blocks; i++) {
      const { attnNorm, attn, ffnNorm, ffn } = this.block(i);
      const keep = (h: Tensor) => (keepRows && i === blocks - 1 ? ops.embedding(h, keepRows) : h);
      if (this.config.normFirst) {
        x = keep(residual(x, attention(attn, attnNorm.forward(x))));
        x = residual(x, ffn.forward(ffnNorm.forward(x)));
      } else {
        x = attnNorm.forward(keep(residual(x, attention(attn, x))));
        x = ffnNorm.forward(residual(x, ffn.forward(x)));
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
    let streams = expandStreams(x, this.config.mhc!.expansionRate);
    for (let i = 0; i < this.config.numBlocks; i++) {
      const { attnNorm, attn, ffnNorm, ffn, hc } = this.block(i);
      streams = hc!.attn.forward(streams, (u) => attention(attn, attnNorm.forward(u)));
      streams = hc!.ffn.forward(streams, (u) => ffn.forward(ffnNorm.forward(u)));
    }
    return this.lastLayernorm.forward(collapseStreams(streams));
  }

  get numLayers(): number {
    return this.config.numBlocks;
  }

  get numHeads(): number {
    return this.config.numHeads;
  }

  /**
   * The causal attention weights of every layer and head for each history (its last maxlen items,
   * left-padded to maxlen as prediction sees them), from the dense path in eval mode: see AttentionMap.
   */
  attentionWeights(histories: readonly Int32Array[]): AttentionMap[] {
    const L = this.maxlen;
    const H = this.config.numHeads;
    const maps: AttentionMap[] = [];
    const chunk = 64;
    for (let start = 0; start < histories.length; start += chunk) {
      const group = histories.slice(start, start + chunk);
      const B = group.length;
      const seqs = new Int32Array(B * L);
      const lengths = group.map((h, b) => {
        const n = Math.min(h.length, L);
        seqs.set(h.subarray(h.length - n), b * L + L - n);
        return n;
      });
      const layers = this.inEvalMode(() => withInferenceTape(() => this.layerWeights(seqs, B)));
      group.forEach((_, b) => {
        const n = lengths[b];
        const off = L - n;
        const items: Float32Array[][] = [];
        const padding: Float32Array[][] = [];
        for (const w of layers) {
          const itemHeads: Float32Array[] = [];
          const padHeads: Float32Array[] = [];
          for (let h = 0; h < H; h++) {
            const m = new Float32Array(n * n);
            const pad = new Float32Array(n);
            for (let i = 0; i < n; i++) {
              const row = ((b * H + h) * L + off + i) * L;
              let p = 0;
              for (let s = 0; s < off; s++) p += w[row + s];
              pad[i] = p;
              m.set(w.subarray(row + off, row + off + n), i * n);
            }
            itemHeads.push(m);
            padHeads.push(pad);
          }
          items.push(itemHeads);
          padding.push(padHeads);
        }
        maps.push({ length: n, items, padding });
      });
    }
    return maps;
  }

  /** Each block's attention weights [B, heads, L, L] for the dense batch seqs (call in eval mode). */
  private layerWeights(seqs: Int32Array, batchSize: number): Float32Array[] {
    const len = seqs.length / batchSize;
    const positions = new Int32Array(seqs.length);
    for (let b = 0; b < batchSize; b++) {
      for (let t = 0; t < len; t++) positions[b * len + t] = seqs[b * len + t] !== 0 ? t + 1 : 0;
    }
    const weights: Float32Array[] = [];
    this.encode(seqs, positions, (attn, h) => {
      weights.push(attn.attentionWeights(h, batchSize, len));
      return attn.forward(h, batchSize, len);
    });
    return weights;
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
    return targetLogits(this.log2featsPacked(layout), layout.targets, this.outputEmb);
  }

  /** Training forward (dense path): logits of the positive and negative item at every position, each [B, L]. */
  forward(batch: SASRecBatch): { posLogits: Tensor; negLogits: Tensor } {
    const { batchSize, seqs, pos, neg } = batch;
    const len = seqs.length / batchSize;
    const feats = this.log2feats(seqs, batchSize);
    const posEmbs = this.outputEmb.forward(pos);
    const negEmbs = this.outputEmb.forward(neg);
    const posLogits = ops.reshape(ops.rowDot(feats, posEmbs), [batchSize, len]);
    const negLogits = ops.reshape(ops.rowDot(feats, negEmbs), [batchSize, len]);
    return { posLogits, negLogits };
  }

  override get outputEmb(): Embedding {
    return this.outputItemEmb ?? this.itemEmb;
  }

  /** bench.py's L2 term: l2_emb · Σ item_emb² (and Σ output_item_emb² when unshared). */
  protected get regularisation(): { weight: number; embeddings: Parameter[] } {
    const tables = this.outputItemEmb ? [this.itemEmb.weight, this.outputItemEmb.weight] : [this.itemEmb.weight];
    return { weight: this.config.l2Emb, embeddings: tables };
  }

  /**
   * The features the loss scores: on the packed path only the rows with a target (every one has
   * pos ≠ 0, so the mean over them is the reference's masked mean), else every [B·L] position.
   */
  protected trainingTargets(batch: SASRecBatch): NextItemTargets {
    const layout = this.trainLayout;
    if (this.packed && this.pack(layout, batch.seqs, batch.batchSize)) {
      layout.buildTargets(batch.pos, perPositionNegatives(batch), negativesPerPosition(batch));
      const { rows, pos, neg } = layout.targets;
      return { features: ops.embedding(this.log2featsPacked(layout), rows), pos, neg: batch.sharedNegatives ? batch.neg : neg };
    }
    return { features: this.log2feats(batch.seqs, batch.batchSize), pos: batch.pos, neg: batch.neg };
  }

  /**
   * Scores candidates [B·C] from the last position (the reference's predict), in the current mode
   * (call eval() first for inference, as the reference does). Returns a fresh [B·C] array.
   */
  predict(logSeqs: Int32Array, batchSize: number, candidates: Int32Array, numCandidates: number): Float32Array {
    return this.candidateScores(() => this.lastFeatures(logSeqs, batchSize), batchSize, candidates, numCandidates);
  }

  scoreCandidates(batch: HistoryBatch, candidates: Int32Array, numCandidates: number): Float32Array {
    return this.inEvalMode(() => this.predict(batch.seqs, batch.batchSize, candidates, numCandidates));
  }

  scoreAll(batch: HistoryBatch, out?: Float32Array): Float32Array {
    return this.inEvalMode(() => this.allScores(() => this.lastFeatures(batch.seqs, batch.batchSize), batch.batchSize, out));
  }

  /**
   * Features [B, d] at the last position of each history (the reference's log_feats[:, -1, :]), on
   * the packed path when enabled (a history without items gets the padding row's features).
   */
  private lastFeatures(logSeqs: Int32Array, batchSize: number): Tensor {
    const layout = this.evalLayout;
    if (this.packed && this.pack(layout, logSeqs, batchSize)) return this.log2featsPacked(layout, layout.lastRow);
    const len = logSeqs.length / batchSize;
    const last = new Int32Array(batchSize);
    for (let b = 0; b < batchSize; b++) last[b] = b * len + len - 1;
    return ops.embedding(this.log2feats(logSeqs, batchSize), last);
  }
}

/**
 * BERT4Rec (Sun et al., CIKM 2019): a bidirectional Transformer over the item sequence, trained on
 * the Cloze task (randomly masked items predicted from both sides of the sequence).
 *
 *   items 1..N, 0 padding, [mask] = N + 1;  input: the last L items of a sequence, left-padded
 *   h⁰_t = Dropout(LN(E[v_t] + P[t]))          E = item_embedding [N+2, d],  P = position_embedding [L, d]
 *   per layer (post-LN, as BERT):
 *     H = LN(H + Dropout(MHA(H)))                MHA: multi-head self-attention, BIDIRECTIONAL (no causal
 *                                                mask), padding keys masked out
 *     H = LN(H + Dropout(FFN(H))),  FFN(x) = GELU(x W₁ᵀ + b₁) W₂ᵀ + b₂,  W₁ [4d, d], W₂ [d, 4d]
 *   output head at position t:  o_t = LN(GELU(h^L_t Wₒᵀ + bₒ));  logit(i) = o_t · E[i] + b[i], i in 1..N
 *     (the output embedding is the input one; b = output_bias [N + 1], entry 0 unused)
 *
 * Training: the model's NextItemLoss (--loss, default ce: the softmax over items 1..N, the paper's;
 * the [mask] row of E is never a candidate) at the masked positions of cloze batches
 * (data/sampler.ts: pos = the hidden item there, 0 elsewhere). Prediction: the history's last L − 1
 * items + [mask] at the end; the scores are the logits at the [mask].
 *
 * Positions count from the end of the row: column t of a row of length len ≤ L takes P[L − len + t],
 * so the last column is always P[L − 1] (as a row left-padded to L). A padding position is never a key
 * and nothing else mixes positions, so the outputs at the real positions do not depend on how much left
 * padding a row has. Two paths give them: dense (every [B, len] position, padding keys masked) and
 * packed (`packed`, the default: only the non-padding positions, engine/packing.ts). Without dropout
 * they agree to float rounding; with dropout the masks are drawn over different sets of positions.
 *
 * Parameters (state_dict names): item_embedding.weight, position_embedding.weight,
 * embedding_layernorm.{weight,bias}, encoder.layers.<i>.{self_attn.in_proj_weight, self_attn.in_proj_bias,
 * self_attn.out_proj.{weight,bias}, linear1.*, linear2.*, norm1.*, norm2.*} (torch.nn.TransformerEncoderLayer's
 * names), output_dense.{weight,bias}, output_layernorm.{weight,bias}, output_bias. Initialisation as BERT:
 * truncated N(0, 0.02²) weights, zero biases, LayerNorms 1 / 0, the padding row 0.
 */
import * as init from '../../engine/init.js';
import * as ops from '../../engine/ops.js';
import { denseRows, type SequenceRows } from '../../engine/bidirectional-attention.js';
import { LossTargets } from '../../engine/loss-targets.js';
import { PackedBatch } from '../../engine/packing.js';
import type { Rng } from '../../engine/rng.js';
import type { Parameter, Tensor } from '../../engine/tensor.js';
import type { TrainBatch } from '../../data/types.js';
import type { HistoryBatch } from '../../eval/types.js';
import type { NextItemTargets } from '../../losses/index.js';
import { Dropout, Embedding, LayerNorm, Linear } from '../../nn/layers.js';
import { TransformerEncoder, TransformerEncoderLayer } from '../../nn/transformer.js';
import { negativesPerPosition, networkRngs, NextItemNetwork, perPositionNegatives, type NetworkOptions } from '../common/next-item-network.js';
import type { SelfAttentiveConfig } from '../common/self-attentive.js';

/** BERT4Rec's sizes (the option names, camelCase): the self-attentive ones, without SASRec's variants. */
export type BERT4RecConfig = Pick<SelfAttentiveConfig, 'itemNum' | 'maxlen' | 'hiddenUnits' | 'numBlocks' | 'numHeads' | 'dropoutRate'>;

export type BERT4RecOptions = NetworkOptions;

/** The rows the training forward needs (a cloze TrainBatch satisfies it). */
export type BERT4RecBatch = Pick<TrainBatch, 'batchSize' | 'maxlen' | 'seqs' | 'pos' | 'neg' | 'negatives' | 'sharedNegatives'>;

/** BERT's LayerNorm epsilon. */
export const BERT_LN_EPS = 1e-12;
/** BERT's initializer_range: the std of the truncated-normal weights. */
export const BERT_INIT_STD = 0.02;

export class BERT4Rec extends NextItemNetwork<BERT4RecBatch> {
  readonly config: Readonly<BERT4RecConfig>;
  /** the [mask] token's id, N + 1 */
  readonly maskToken: number;

  readonly outputBias: Parameter;
  readonly itemEmb: Embedding;
  readonly posEmb: Embedding;
  readonly embLayernorm: LayerNorm;
  readonly embDropout: Dropout;
  readonly encoder: TransformerEncoder;
  readonly outputDense: Linear;
  readonly outputLayernorm: LayerNorm;

  private readonly trainLayout = new PackedBatch();
  private readonly evalLayout = new PackedBatch();
  private readonly denseTargets = new LossTargets();

  constructor(config: BERT4RecConfig, opts: BERT4RecOptions = {}) {
    const c = { ...config };
    for (const k of ['itemNum', 'maxlen', 'hiddenUnits', 'numHeads'] as const) {
      if (!(Number.isInteger(c[k]) && c[k] >= 1)) throw new Error(`BERT4Rec: ${k} must be an integer ≥ 1, got ${c[k]}`);
    }
    if (!(Number.isInteger(c.numBlocks) && c.numBlocks >= 0)) throw new Error(`BERT4Rec: numBlocks must be an integer ≥ 0, got ${c.numBlocks}`);
    if (c.hiddenUnits % c.numHeads !== 0) throw new Error(`BERT4Rec: num_heads ${c.numHeads} must divide hidden_units ${c.hiddenUnits}`);
    const { rng, dropoutRng: drop } = networkRngs(opts);
    super(c.itemNum, c.maxlen, opts, drop);
    this.config = c;
    this.maskToken = c.itemNum + 1;
    const d = c.hiddenUnits;
    this.outputBias = this.addParameter('output_bias', [c.itemNum + 1]);
    this.itemEmb = this.addModule('item_embedding', new Embedding(c.itemNum + 2, d, rng, 0));
    this.posEmb = this.addModule('position_embedding', new Embedding(c.maxlen, d, rng));
    this.embLayernorm = this.addModule('embedding_layernorm', new LayerNorm(d, BERT_LN_EPS));
    this.embDropout = this.addModule('embedding_dropout', new Dropout(c.dropoutRate, drop));
    const layers = Array.from(
      { length: c.numBlocks },
      () => new TransformerEncoderLayer(d, c.numHeads, 4 * d, c.dropoutRate, BERT_LN_EPS, rng, drop),
    );
    this.encoder = this.addModule('encoder', new TransformerEncoder(layers));
    this.outputDense = this.addModule('output_dense', new Linear(d, d, rng));
    this.outputLayernorm = this.addModule('output_layernorm', new LayerNorm(d, BERT_LN_EPS));
    this.resetParameters(rng);
  }

  /** BERT's initialisation: truncated N(0, 0.02²) on every weight matrix and embedding, 0 biases, LayerNorms 1 / 0, padding row 0. */
  resetParameters(rng: Rng): void {
    for (const p of this.parameters()) {
      if (p.shape.length >= 2) init.truncatedNormal(p, rng, BERT_INIT_STD);
      else init.constant(p, 0);
    }
    const norms = [this.embLayernorm, this.outputLayernorm, ...this.encoder.layers.items.flatMap((l) => [l.norm1, l.norm2])];
    for (const n of norms) init.constant(n.weight, 1);
    this.itemEmb.weight.data.fill(0, 0, this.config.hiddenUnits);
  }

  /** Sequence features [B·len, d] for left-padded rows seqs [B·len] (dense path: every position, padding keys masked). */
  log2feats(seqs: Int32Array, batchSize: number): Tensor {
    const len = this.rowLength(seqs, batchSize);
    const positions = new Int32Array(seqs.length);
    const keyMask = new Uint8Array(seqs.length);
    for (let i = 0; i < seqs.length; i++) {
      positions[i] = this.maxlen - len + (i % len);
      keyMask[i] = seqs[i] === 0 ? 1 : 0;
    }
    return this.encode(seqs, positions, denseRows(batchSize, len), keyMask);
  }

  /** Features [N, d] of the N non-padding positions of the batch packed in `layout`, row by row. */
  log2featsPacked(layout: PackedBatch): Tensor {
    const n = layout.realCount;
    const positions = new Int32Array(n);
    // PackedBatch's positions are column + 1; BERT4Rec's count from the row's end
    for (let r = 0; r < n; r++) positions[r] = this.maxlen - layout.len + layout.positions[r] - 1;
    const seqs: SequenceRows = { seqCount: layout.batchSize, seqStart: layout.segStart, seqLen: layout.segLen };
    return this.encode(layout.items.subarray(0, n), positions, seqs, null);
  }

  /** Embedding (items + positions) → LayerNorm → dropout → the Transformer layers. */
  private encode(items: Int32Array, positions: Int32Array, seqs: SequenceRows, keyMask: Uint8Array | null): Tensor {
    let x = ops.add(this.itemEmb.forward(items), this.posEmb.forward(positions));
    x = this.embDropout.forward(this.embLayernorm.forward(x));
    return this.encoder.forward(x, seqs, keyMask);
  }

  /** The output head: LN(GELU(x Wₒᵀ + bₒ)), the vectors the item logits are dot products with. */
  head(x: Tensor): Tensor {
    return this.outputLayernorm.forward(ops.gelu(this.outputDense.forward(x)));
  }

  private rowLength(seqs: Int32Array, batchSize: number): number {
    const len = seqs.length / batchSize;
    if (!Number.isInteger(len) || len < 1 || len > this.maxlen) {
      throw new Error(`BERT4Rec: ${seqs.length} ids for batch ${batchSize} is not a length in 1..maxlen ${this.maxlen}`);
    }
    return len;
  }

  /** Packs a batch into `layout`; false when it is not left-padded (use the dense path). */
  private pack(layout: PackedBatch, seqs: Int32Array, batchSize: number): boolean {
    this.rowLength(seqs, batchSize);
    return layout.build(seqs, batchSize);
  }

  protected override logitBias(): Tensor {
    return this.outputBias;
  }

  protected get regularisation(): { weight: number; embeddings: Parameter[] } {
    return { weight: 0, embeddings: [] };
  }

  /** The head's output at the positions with a target (pos ≠ 0: the masked ones), with their targets. */
  protected trainingTargets(batch: BERT4RecBatch): NextItemTargets {
    const { batchSize, seqs, pos } = batch;
    const negIds = perPositionNegatives(batch);
    const K = negativesPerPosition(batch);
    let feats: Tensor;
    let targets: LossTargets;
    if (this.packed && this.pack(this.trainLayout, seqs, batchSize)) {
      this.trainLayout.buildTargets(pos, negIds, K);
      feats = this.log2featsPacked(this.trainLayout);
      targets = this.trainLayout.targets;
    } else {
      const len = this.rowLength(seqs, batchSize);
      feats = this.log2feats(seqs, batchSize);
      targets = this.denseTargets;
      targets.build(
        pos,
        negIds,
        batchSize,
        len,
        () => 0,
        (b) => b * len,
        -1,
        'BERT4Rec',
        K,
      );
    }
    return { features: this.head(ops.embedding(feats, targets.rows)), pos: targets.pos, neg: batch.sharedNegatives ? batch.neg : targets.neg };
  }

  /**
   * The prediction input of history rows [B·len]: each row without its oldest position and with
   * [mask] appended (a fresh array).
   */
  withMaskAppended(seqs: Int32Array, batchSize: number): Int32Array {
    const len = this.rowLength(seqs, batchSize);
    const out = new Int32Array(seqs.length);
    for (let b = 0; b < batchSize; b++) {
      out.set(seqs.subarray(b * len + 1, (b + 1) * len), b * len);
      out[(b + 1) * len - 1] = this.maskToken;
    }
    return out;
  }

  /** The head's output [B, d] at the [mask] appended to each history (in the current mode). */
  maskFeatures(seqs: Int32Array, batchSize: number): Tensor {
    const input = this.withMaskAppended(seqs, batchSize);
    const layout = this.evalLayout;
    if (this.packed && this.pack(layout, input, batchSize)) return this.head(ops.embedding(this.log2featsPacked(layout), layout.lastRow));
    const len = input.length / batchSize;
    const last = Int32Array.from({ length: batchSize }, (_, b) => b * len + len - 1);
    return this.head(ops.embedding(this.log2feats(input, batchSize), last));
  }

  scoreCandidates(batch: HistoryBatch, candidates: Int32Array, numCandidates: number): Float32Array {
    return this.inEvalMode(() =>
      this.candidateScores(() => this.maskFeatures(batch.seqs, batch.batchSize), batch.batchSize, candidates, numCandidates),
    );
  }

  scoreAll(batch: HistoryBatch, out?: Float32Array): Float32Array {
    return this.inEvalMode(() => this.allScores(() => this.maskFeatures(batch.seqs, batch.batchSize), batch.batchSize, out));
  }
}

/**
 * TiSASRec (Li, Wang & McAuley, WSDM 2020), exactly as TiSASRec.pytorch (pmixer, commit b18341f3)
 * model.py computes it:
 *
 *   E = dropout(item_emb(seq)·√d), zeroed at padding (no positional term in the input)
 *   absK = dropout(abs_pos_K_emb(t)), absV = dropout(abs_pos_V_emb(t))   t = column 0..L−1, padding included
 *   TK = dropout(time_matrix_K_emb(r)), TV = dropout(time_matrix_V_emb(r))  r_ij = min(|τ_i − τ_j|, time_span)
 *   per block:  Q = LN_a(X)
 *               X = Q + TimeAwareMHA(queries Q, keys/values X)
 *               X = LN_f(X);  X = X + FFN(X);  X = X · (not padding)
 *   F = LN_last(X);  logit(i at t) = F_t · item_emb(i)
 *
 * TimeAwareMHA (per head, hd = d / heads): q = Q_w(Q), k = K_w(X), v = V_w(X);
 *   score_ij = q_i·(k_j + absK_j + TK_ij) / √hd for j ≤ i;  a = dropout(softmax(score));
 *   out_i = Σ_j a_ij (v_j + absV_j + TV_ij).
 * Masks as the reference: the causal mask and the timeline (padding) mask both fill scores with −2³²+1.
 * The timeline mask masks padding QUERIES (whole rows → uniform attention, later zeroed by the block's
 * mask); padding KEYS are not masked: a real query attends to the left padding, whose keys carry the
 * bias of K_w (their input is 0) plus their own absolute-position and interval embeddings (the padding
 * time is 0, so their interval to a query at time τ is min(τ, time_span)). The feed-forward adds its own
 * residual; there is no pre-LN variant in the reference.
 *
 * Variants that are not in the reference (docs/mhc.md):
 * - normFirst (pre-LN):  X = X + TimeAwareMHA(queries LN_a(X), keys/values X);  X = X + FFN(LN_f(X));  X = X · (not padding)
 * - mhc (implies normFirst): n residual streams X_s (n copies of E), per sub-layer
 *   X_s = H_res X_s + H_postᵀ F(H_pre X_s) with F(u) = TimeAwareMHA(LN_a(u), u) and FFN(LN_f(u));
 *   X_s · (not padding) after each block; F = LN_last(mean of X_s). Padding rows keep zero streams, so
 *   the packed path's "padding keys are the biases" still holds.
 *
 * Times: TrainBatch.times / the `times` of predict() are TiSASRec's SCALED integer times (0 at
 * padding; see data/time.ts). The Scorer methods (scoreCandidates, scoreAll) take HistoryBatch.times as
 * RAW timestamps, as the evaluation code copies them from the split, and scale them with `timeScaling`
 * (the transform fitted on the training data): a known user (users[b] ≥ 1) with the user's fitted
 * min and scale, exactly as the reference preprocesses; an ad-hoc history (user 0), or any history when
 * the model has no fitted scaling (e.g. a bare PyTorch state_dict), by the min and smallest non-zero
 * gap of its own times. A history batch without times is taken as equally spaced (1, 2, 3, …) when it
 * is ad hoc; for known users that is an error.
 *
 * Two computation paths give the reference's results:
 * - dense (`packed = false`): every [B, L] position is a query, as PyTorch computes it;
 * - packed (`packed = true`, default): only real tokens are queries (padding queries are zeroed by the
 *   reference anyway, and contribute no gradient); the keys and values of every column, padding
 *   included, still take part. Logits are computed only at the loss positions and, for prediction, at
 *   the last position. Batches that are not left-padded, whose targets sit on padding inputs, or (for
 *   prediction) that contain an empty history fall back to the dense path.
 * Interval terms never materialise [B, L, L, d] tensors: see engine/time-attention.ts.
 *
 * Dropout noise (only there is the reference not reproduced draw for draw, the expectation is the same):
 * the reference drops each element of the [B, L, L, d] interval-embedding tensors independently; here
 * each sequence of the batch draws one dropout mask over the interval-table rows it uses, so within a
 * sequence the pairs with the same clipped interval share their mask (sequences stay independent). Every other dropout
 * (item embedding, absolute positions, attention probabilities, feed-forward) has the reference's
 * element structure, except that the packed path draws no masks for skipped padding queries.
 */
import * as init from '../../engine/init.js';
import { UserError } from '../../core/errors.js';
import * as ops from '../../engine/ops.js';
import type { Rng } from '../../engine/rng.js';
import { getTape } from '../../engine/tape.js';
import { Tensor, type Parameter } from '../../engine/tensor.js';
import { TimeBatchLayout } from '../../engine/time-attention.js';
import type { HistoryBatch } from '../../eval/types.js';
import { scaleUserTimes, type TimeScaling } from '../../data/time.js';
import { getKernels } from '../../kernels/index.js';
import { Dropout, Embedding } from '../../nn/layers.js';
import { collapseStreams, expandStreams } from '../../nn/mhc.js';
import { TimeAwareMultiHeadAttention, type TimeAttentionContext } from '../../nn/time-attention.js';
import type { NextItemTargets } from '../../losses/index.js';
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

/**
 * TiSASRec's sizes (the reference's flag names, camelCase). l2Emb weighs Σ W² over the item,
 * absolute-position and interval embeddings; normFirst (pre-LN) is not in the reference (see the file
 * comment).
 */
export interface TiSASRecConfig extends SelfAttentiveConfig {
  /** relative intervals are clipped at this many (scaled) units; the interval tables have time_span + 1 rows */
  timeSpan: number;
}

/** How the network is built; `packed` skips padding queries (default true). */
export type TiSASRecOptions = NetworkOptions;

/** The rows of a training forward: ids [B·L], and the time relations as scaled times or as relation matrices. */
export interface TiSASRecBatch {
  readonly batchSize: number;
  readonly seqs: Int32Array;
  readonly pos: Int32Array;
  readonly neg: Int32Array;
  /** negatives per position, or shared by the batch (TrainBatch's) */
  readonly negatives?: number;
  readonly sharedNegatives?: boolean;
  /** [B·L] scaled times, 0 at padding (TrainBatch.times of a scaled split) */
  readonly times?: ArrayLike<number>;
  /** [B·L·L] the reference's time matrices (already clipped at time_span); used instead of times when given */
  readonly relations?: ArrayLike<number>;
}

/** The input of predict(): histories with scaled times or relation matrices. */
export type TiSASRecInput = Pick<TiSASRecBatch, 'batchSize' | 'seqs' | 'times' | 'relations'>;

export type { TensorEntry } from '../../nn/module.js';

export class TiSASRec extends SelfAttentiveNetwork<TimeAwareMultiHeadAttention, TiSASRecBatch> {
  readonly config: Readonly<Required<TiSASRecConfig>>;
  /** Scores read HistoryBatch.users (each user's fitted time scaling): evaluation on a dataset gives each user the model's id of it. */
  readonly usesUsers = true;

  readonly itemEmb: Embedding;
  readonly absPosKEmb: Embedding;
  readonly absPosVEmb: Embedding;
  readonly timeMatrixKEmb: Embedding;
  readonly timeMatrixVEmb: Embedding;
  readonly itemEmbDropout: Dropout;
  readonly absPosKEmbDropout: Dropout;
  readonly absPosVEmbDropout: Dropout;
  readonly timeMatrixKDropout: Dropout;
  readonly timeMatrixVDropout: Dropout;

  /**
   * How the Scorer methods turn HistoryBatch's raw times into the model's scaled times (null: each
   * history by its own min and smallest gap). Set by the trainer / checkpoint loader.
   */
  timeScaling: TimeScaling | null = null;

  private readonly trainLayout = new TimeBatchLayout();
  private readonly evalLayout = new TimeBatchLayout();

  constructor(config: TiSASRecConfig, opts: TiSASRecOptions = {}) {
    const c = completeConfig('TiSASRec', config);
    if (!Number.isInteger(c.timeSpan) || c.timeSpan < 0) throw new Error(`TiSASRec: time_span must be an integer ≥ 0, got ${c.timeSpan}`);
    const { rng, dropoutRng: drop } = networkRngs(opts);
    super(c, opts, drop);
    this.config = c;
    const d = c.hiddenUnits;
    const p = c.dropoutRate;

    this.itemEmb = this.addModule('item_emb', new Embedding(c.itemNum + 1, d, rng, 0));
    this.absPosKEmb = this.addModule('abs_pos_K_emb', new Embedding(c.maxlen, d, rng));
    this.absPosVEmb = this.addModule('abs_pos_V_emb', new Embedding(c.maxlen, d, rng));
    this.timeMatrixKEmb = this.addModule('time_matrix_K_emb', new Embedding(c.timeSpan + 1, d, rng));
    this.timeMatrixVEmb = this.addModule('time_matrix_V_emb', new Embedding(c.timeSpan + 1, d, rng));
    this.itemEmbDropout = this.addModule('item_emb_dropout', new Dropout(p, drop));
    this.absPosKEmbDropout = this.addModule('abs_pos_K_emb_dropout', new Dropout(p, drop));
    this.absPosVEmbDropout = this.addModule('abs_pos_V_emb_dropout', new Dropout(p, drop));
    this.timeMatrixKDropout = this.addModule('time_matrix_K_dropout', new Dropout(p, drop));
    this.timeMatrixVDropout = this.addModule('time_matrix_V_dropout', new Dropout(p, drop));
    this.addBlocks(c, () => new TimeAwareMultiHeadAttention(d, c.numHeads, p, rng, drop), rng);
    this.resetParameters(rng);
  }

  /**
   * The reference trainer's initialisation (main.py): xavier-uniform on every parameter with ≥ 2
   * dimensions, the 1-D ones keep their PyTorch defaults. As there, the item embedding's padding row is
   * not zeroed (it never reaches a result: padding inputs are masked and row 0 gets no gradient).
   */
  resetParameters(rng: Rng): void {
    for (const [, p] of this.namedParameters()) if (p.shape.length >= 2) init.xavierUniform(p, rng);
    // mHC: the φ projections get xavier-uniform above; gates and static biases their own init
    if (this.mhcLayers) for (const b of this.mhcLayers.items) b.resetStatic();
  }

  /** The L2 term: l2_emb · Σ W² over the reference's five embeddings. */
  protected get regularisation(): { weight: number; embeddings: Parameter[] } {
    return {
      weight: this.config.l2Emb,
      embeddings: [this.itemEmb.weight, this.absPosKEmb.weight, this.absPosVEmb.weight, this.timeMatrixKEmb.weight, this.timeMatrixVEmb.weight],
    };
  }

  private buildLayout(layout: TimeBatchLayout, input: TiSASRecInput, packed: boolean): boolean {
    const { batchSize, seqs } = input;
    const len = seqs.length / batchSize;
    if (!Number.isInteger(len) || len < 1 || len > this.maxlen) {
      throw new Error(`TiSASRec: ${seqs.length} ids for batch ${batchSize} is not a length in 1..maxlen ${this.maxlen}`);
    }
    if (!input.relations && !input.times) throw new Error('TiSASRec: the batch has neither times nor relations');
    return layout.build(seqs, batchSize, { packed, timeSpan: this.config.timeSpan, times: input.times, relations: input.relations });
  }

  /**
   * Each sequence's rows of an interval table ([bucketTotal, d], see engine/time-attention.ts), dropped
   * out independently per sequence when training (one mask per sequence and table row it uses).
   */
  private timeTable(emb: Embedding, drop: Dropout, layout: TimeBatchLayout): Tensor {
    return drop.forward(emb.forward(layout.bucketIndex));
  }

  /** Features [R, d] at the layout's query rows (dense: all B·L positions; packed: the real tokens). */
  encode(layout: TimeBatchLayout): Tensor {
    const d = this.config.hiddenUnits;
    const R = layout.rows;
    let x = this.itemEmb.forward(layout.items, [R], Math.sqrt(d));
    x = this.itemEmbDropout.forward(x);
    const mask = layout.packed ? null : this.paddingMask(layout);
    if (mask) x = ops.mul(x, mask);
    const ctx: TimeAttentionContext = {
      layout,
      absK: this.absPosKEmbDropout.forward(this.absPosKEmb.forward(layout.positions)),
      absV: this.absPosVEmbDropout.forward(this.absPosVEmb.forward(layout.positions)),
      timeK: this.timeTable(this.timeMatrixKEmb, this.timeMatrixKDropout, layout),
      timeV: this.timeTable(this.timeMatrixVEmb, this.timeMatrixVDropout, layout),
    };
    if (this.mhcLayers) return this.encodeMHC(x, mask, ctx);
    for (let i = 0; i < this.config.numBlocks; i++) {
      const { attnNorm, attn, ffnNorm, ffn } = this.block(i);
      if (this.config.normFirst) {
        x = ops.add(x, attn.forward(attnNorm.forward(x), x, ctx));
        x = ops.add(x, ffn.forward(ffnNorm.forward(x)));
      } else {
        const q = attnNorm.forward(x);
        x = ops.add(q, attn.forward(q, x, ctx));
        x = ffnNorm.forward(x);
        x = ops.add(x, ffn.forward(x));
      }
      if (mask) x = ops.mul(x, mask);
    }
    return this.lastLayernorm.forward(x);
  }

  /** The mHC blocks (see the file comment) on n streams of the (masked) embedding x [R, d]. */
  private encodeMHC(x: Tensor, mask: Tensor | null, ctx: TimeAttentionContext): Tensor {
    const n = this.config.mhc!.expansionRate;
    const streamMask = mask ? expandStreams(mask, n) : null;
    let s = expandStreams(x, n);
    for (let i = 0; i < this.config.numBlocks; i++) {
      const { attnNorm, attn, ffnNorm, ffn, hc } = this.block(i);
      s = hc!.attn.forward(s, (u) => attn.forward(attnNorm.forward(u), u, ctx));
      s = hc!.ffn.forward(s, (u) => ffn.forward(ffnNorm.forward(u)));
      if (streamMask) s = ops.mul(s, streamMask);
    }
    return this.lastLayernorm.forward(collapseStreams(s));
  }

  /** [R, d] of 1 at real rows and 0 at padding rows (the reference's ~timeline_mask), or null when there is no padding. */
  private paddingMask(layout: TimeBatchLayout): Tensor | null {
    const d = this.config.hiddenUnits;
    const R = layout.rows;
    let any = false;
    for (let r = 0; r < R; r++) if (layout.qPadded[r] !== 0) any = true;
    if (!any) return null;
    const K = getKernels();
    const buf = getTape().alloc(R * d);
    K.fill(R * d, 1, buf, 0);
    for (let r = 0; r < R; r++) if (layout.qPadded[r] !== 0) K.fill(d, 0, buf, r * d);
    return new Tensor(buf, [R, d]);
  }

  /** Training forward (dense path): logits of the positive and negative item at every position, each [B, L]. */
  forward(batch: TiSASRecBatch): { posLogits: Tensor; negLogits: Tensor } {
    const layout = this.trainLayout;
    this.buildLayout(layout, batch, false);
    const B = batch.batchSize;
    const L = layout.len;
    const feats = this.encode(layout);
    const posLogits = ops.reshape(ops.rowDot(feats, this.itemEmb.forward(batch.pos)), [B, L]);
    const negLogits = ops.reshape(ops.rowDot(feats, this.itemEmb.forward(batch.neg)), [B, L]);
    return { posLogits, negLogits };
  }

  /**
   * Training forward on the packed path: logits only at the M positions whose positive id ≠ 0, each [M];
   * index[m] is the flat position b·L + t of logit m (ascending). Null when the batch needs the dense
   * path (not left-padded, or a target on a padding input). Arrays are valid until the next forward.
   */
  forwardPacked(batch: TiSASRecBatch): { posLogits: Tensor; negLogits: Tensor; index: Int32Array } | null {
    const layout = this.trainLayout;
    if (!this.buildLayout(layout, batch, true)) return null;
    layout.buildTargets(batch.pos, batch.neg);
    const { targets } = layout;
    for (let m = 0; m < targets.count; m++) if (targets.rows[m] < 0) return null;
    return targetLogits(this.encode(layout), targets, this.itemEmb);
  }

  /**
   * The features the loss scores: on the packed path only the rows with a target; every [B·L]
   * position when the batch needs the dense path (not left-padded, or a target on a padding input).
   */
  protected trainingTargets(batch: TiSASRecBatch): NextItemTargets {
    const layout = this.trainLayout;
    if (this.packed && this.buildLayout(layout, batch, true)) {
      layout.buildTargets(batch.pos, perPositionNegatives(batch), negativesPerPosition(batch));
      const { rows, pos, neg, count } = layout.targets;
      let onRows = true;
      for (let m = 0; m < count; m++) if (rows[m] < 0) onRows = false;
      if (onRows) return { features: ops.embedding(this.encode(layout), rows), pos, neg: batch.sharedNegatives ? batch.neg : neg };
    }
    this.buildLayout(layout, batch, false);
    return { features: this.encode(layout), pos: batch.pos, neg: batch.neg };
  }

  /**
   * Scores candidates [B·C] from the last position (the reference's predict), in the current mode;
   * times are scaled (or relations given). Returns a fresh [B·C] array.
   */
  predict(input: TiSASRecInput, candidates: Int32Array, numCandidates: number): Float32Array {
    return this.candidateScores(() => this.lastFeatures(input), input.batchSize, candidates, numCandidates);
  }

  /** Scores of every item 0..itemNum [B·(itemNum+1)] after each history (times scaled). */
  predictAll(input: TiSASRecInput, out?: Float32Array): Float32Array {
    return this.allScores(() => this.lastFeatures(input), input.batchSize, out);
  }

  scoreCandidates(batch: HistoryBatch, candidates: Int32Array, numCandidates: number): Float32Array {
    return this.inEvalMode(() => this.predict(this.historyInput(batch), candidates, numCandidates));
  }

  scoreAll(batch: HistoryBatch, out?: Float32Array): Float32Array {
    return this.inEvalMode(() => this.predictAll(this.historyInput(batch), out));
  }

  /** HistoryBatch (raw times) → model input (scaled times), per the rules in the file comment. */
  historyInput(batch: HistoryBatch): TiSASRecInput {
    const B = batch.batchSize;
    const L = batch.seqs.length / B;
    if (!Number.isInteger(L)) throw new Error(`TiSASRec: ${batch.seqs.length} ids do not split into ${B} rows`);
    const scaled = new Float64Array(B * L);
    const scaling: TimeScaling = this.timeScaling ?? { unit: 1, globalMin: 0, userMin: new Float64Array(0), userScale: new Float64Array(0) };
    const raw: number[] = [];
    const cols: number[] = [];
    for (let b = 0; b < B; b++) {
      raw.length = 0;
      cols.length = 0;
      for (let t = 0; t < L; t++) {
        if (batch.seqs[b * L + t] === 0) continue;
        cols.push(t);
        if (batch.times) raw.push(batch.times[b * L + t]);
      }
      const user = batch.users[b] ?? 0;
      if (batch.times) {
        const s = scaleUserTimes(scaling, user, raw);
        for (let k = 0; k < cols.length; k++) scaled[b * L + cols[k]] = s[k];
      } else if (user === 0) {
        for (let k = 0; k < cols.length; k++) scaled[b * L + cols[k]] = k + 1;
      } else {
        throw new UserError(`TiSASRec needs timestamps: the history of user ${user} has none (the dataset has no time column?)`);
      }
    }
    return { batchSize: B, seqs: batch.seqs, times: scaled };
  }

  /** Parameters, gradients and the layouts' kernel buffers back to the backend (Module.dispose). */
  override dispose(): void {
    super.dispose();
    this.trainLayout.dispose();
    this.evalLayout.dispose();
  }

  /** Features [B, d] at the last position of each history (the reference's log_feats[:, -1, :]). */
  private lastFeatures(input: TiSASRecInput): Tensor {
    const layout = this.evalLayout;
    const B = input.batchSize;
    if (this.packed && this.buildLayout(layout, input, true)) {
      let nonEmpty = true;
      for (let b = 0; b < B; b++) if (layout.lastRow[b] < 0) nonEmpty = false;
      if (nonEmpty) return ops.embedding(this.encode(layout), layout.lastRow);
    }
    this.buildLayout(layout, input, false);
    const L = layout.len;
    const last = new Int32Array(B);
    for (let b = 0; b < B; b++) last[b] = b * L + L - 1;
    return ops.embedding(this.encode(layout), last);
  }
}

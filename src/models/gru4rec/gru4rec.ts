/**
 * GRU4Rec (Hidasi, Karatzoglou, Baltrunas & Tikk, "Session-based Recommendations with Recurrent Neural
 * Networks", ICLR 2016) and its improved training (Hidasi & Karatzoglou, "Recurrent Neural Networks with
 * Top-k Gains for Session-based Recommendations", CIKM 2018), with a user's training sequence as the
 * session. One GRU layer of d units reads the items one-hot (so W·x_t is the item's row of W):
 *
 *   r_t = σ(W_r x_t + U_r h_{t−1} + b_r),  z_t = σ(W_z x_t + U_z h_{t−1} + b_z)
 *   ĥ_t = tanh(W x_t + U (r_t ∘ h_{t−1}) + b),  h_t = (1 − z_t) ∘ h_{t−1} + z_t ∘ ĥ_t
 *
 * and scores item i as r_i = h_t · W_y[i] + b_y[i] (an output weight and bias of their own, the output
 * "feedforward layer" of the paper). Training (losses/session-ranking.ts, data/session-parallel.ts):
 * session-parallel mini-batches, the state of each slot kept from step to step detached from the tape
 * (back-propagation through one step, as the authors' code), reset to zero where a sequence starts;
 * dropout (p = dropout_rate) on h_t, whose dropped-out value is also the state carried on, as in the
 * authors' code; the ranking loss over the batch's targets (+ shared samples) after the final
 * activation. Scoring: the GRU runs over the history from a zero state, skipping padding, and every
 * item is scored from the last state; items are ranked by the raw scores (each final activation is
 * monotone, and tanh would tie saturated scores in float32).
 *
 * Initialisation as the authors' code: every weight matrix U(±√(6 / (fan_in + fan_out))) per block
 * (W and W_y over the N items: √(6 / (N + d)); U_r, U_z, U, W_in: √(6 / 2d)), biases 0; row 0 (padding) zero.
 *
 * Tied (`--tied_embedding`, the authors' later `constrained_embedding`): the input is the current
 * item's row of W_y mapped by W_in [3d, d] (x_t = W_in · W_y[i_t]) instead of a one-hot table of its own,
 * so every item's input and output vectors learn together.
 */
import { isSessionParallelBatch } from '../../data/session-parallel.js';
import type { TrainBatch } from '../../data/types.js';
import { gruCell } from '../../engine/gru.js';
import * as init from '../../engine/init.js';
import * as ops from '../../engine/ops.js';
import type { Rng } from '../../engine/rng.js';
import { getTape } from '../../engine/tape.js';
import { type Parameter, Tensor } from '../../engine/tensor.js';
import type { HistoryBatch } from '../../eval/types.js';
import type { NextItemLoss, NextItemTargets } from '../../losses/index.js';
import { Embedding } from '../../nn/layers.js';
import { Module } from '../../nn/module.js';
import { NextItemNetwork, networkRngs, type NetworkOptions } from '../common/next-item-network.js';

/** The network's sizes. */
export interface GRU4RecConfig {
  /** N: items 1..N */
  readonly itemNum: number;
  /** d: the GRU's units */
  readonly hiddenUnits: number;
  /** the longest history read when scoring (its last maxlen items) */
  readonly maxlen: number;
  /** dropout on the GRU's output (and so on the state carried to the next step) */
  readonly dropoutRate: number;
  /** the input reads the output table's item vectors through W_in [3d, d] (the authors' constrained_embedding) instead of a one-hot W [N + 1, 3d] */
  readonly tiedEmbedding?: boolean;
}

/**
 * One GRU layer: the input pre-activations from a one-hot item input (W [N + 1, 3d], row 0 padding) or,
 * tied, from an item table's rows through W_in [3d, d]; b [3d], U_rz [d, 2d], U [d, d].
 */
class ItemGRU extends Module {
  readonly W?: Parameter;
  readonly W_in?: Parameter;
  readonly b: Parameter;
  readonly U_rz: Parameter;
  readonly U: Parameter;

  constructor(rows: number, d: number, rng: Rng, tied: boolean) {
    super();
    if (tied) this.W_in = this.addParameter('W_in', [3 * d, d]);
    else this.W = this.addParameter('W', [rows, 3 * d]);
    this.b = this.addParameter('b', [3 * d]);
    this.U_rz = this.addParameter('U_rz', [d, 2 * d]);
    this.U = this.addParameter('U', [d, d]);
    const recBound = Math.sqrt(6 / (2 * d));
    if (this.W) {
      const inBound = Math.sqrt(6 / (rows - 1 + d));
      init.uniform(this.W, rng, -inBound, inBound);
      this.W.data.fill(0, 0, 3 * d);
    }
    if (this.W_in) init.uniform(this.W_in, rng, -recBound, recBound);
    init.uniform(this.U_rz, rng, -recBound, recBound);
    init.uniform(this.U, rng, -recBound, recBound);
  }

  /** The next state [B, d] of rows whose current items are `items` (0: padding, a zero input) and state h [B, d]; `table`: the tied item table. */
  step(items: Int32Array, h: Tensor, table: Parameter): Tensor {
    const x = this.W_in
      ? ops.linear(ops.embedding(table, items, { paddingIdx: 0 }), this.W_in, null)
      : ops.embedding(this.W!, items, { paddingIdx: 0 });
    return gruCell(x, this.b, h, this.U_rz, this.U);
  }
}

/** GRU4Rec's network: the GRU, the output weight W_y (`itemEmb`) and bias b_y; see the file's comment. */
export class GRU4Rec extends NextItemNetwork<TrainBatch> {
  readonly hiddenUnits: number;
  readonly dropoutRate: number;
  readonly itemEmb: Embedding;
  private readonly gru: ItemGRU;
  private readonly outputBias: Parameter;
  /** the state [B, d] each slot carries to the next training step */
  private carried: Float32Array | null = null;

  /** `opts.loss` is the ranking loss (losses/session-ranking.ts). */
  constructor(cfg: GRU4RecConfig, opts: NetworkOptions & { readonly loss: NextItemLoss }) {
    const { rng, dropoutRng } = networkRngs(opts);
    super(cfg.itemNum, cfg.maxlen, opts, dropoutRng);
    const d = cfg.hiddenUnits;
    const rows = cfg.itemNum + 1;
    this.hiddenUnits = d;
    this.dropoutRate = cfg.dropoutRate;
    this.gru = this.addModule('gru', new ItemGRU(rows, d, rng, cfg.tiedEmbedding === true));
    this.itemEmb = this.addModule('output', new Embedding(rows, d, rng, 0));
    const outBound = Math.sqrt(6 / (cfg.itemNum + d));
    init.uniform(this.itemEmb.weight, rng, -outBound, outBound);
    this.itemEmb.weight.data.fill(0, 0, d);
    this.outputBias = this.addParameter('output_bias', [rows]);
  }

  protected override logitBias(): Tensor {
    return this.outputBias;
  }

  protected get regularisation(): { readonly weight: number; readonly embeddings: readonly Parameter[] } {
    return { weight: 0, embeddings: [] };
  }

  /**
   * One step of every slot of a session-parallel batch: the state from the last step (zero where
   * `starts`), detached; the GRU over the slots' current items; dropout. The result is the next
   * step's state and the features scored against the targets.
   */
  protected trainingTargets(batch: TrainBatch): NextItemTargets {
    if (!isSessionParallelBatch(batch)) throw new Error('GRU4Rec trains on session-parallel batches (data/session-parallel.ts)');
    const B = batch.batchSize;
    const d = this.hiddenUnits;
    if (this.carried?.length !== B * d) this.carried = new Float32Array(B * d);
    const carried = this.carried;
    const h = getTape().alloc(B * d);
    for (let b = 0; b < B; b++) {
      if (batch.starts[b]) h.fill(0, b * d, (b + 1) * d);
      else h.set(carried.subarray(b * d, (b + 1) * d), b * d);
    }
    const out = this.gru.step(batch.seqs, new Tensor(h, [B, d]), this.itemEmb.weight);
    const features = ops.dropout(out, this.dropoutRate, this.dropoutRng, this.training);
    carried.set(features.data.subarray(0, B * d));
    return { features, pos: batch.pos, neg: batch.neg };
  }

  /**
   * The GRU's last state [B, d] over each left-padded history, from zero, padding skipped: each step
   * advances only the rows with an item there.
   */
  private lastStates(batch: HistoryBatch): Tensor {
    const { batchSize: B, maxlen: L, seqs } = batch;
    const d = this.hiddenUnits;
    const h = new Tensor(getTape().zeros(B * d), [B, d]);
    const rows = new Int32Array(B);
    const items = new Int32Array(B);
    for (let t = 0; t < L; t++) {
      let n = 0;
      for (let b = 0; b < B; b++) {
        const item = seqs[b * L + t];
        if (item === 0) continue;
        rows[n] = b;
        items[n++] = item;
      }
      if (n === 0) continue;
      if (n === B) {
        h.data.set(this.gru.step(items, h, this.itemEmb.weight).data.subarray(0, B * d));
        continue;
      }
      const active = rows.subarray(0, n);
      const next = this.gru.step(items.subarray(0, n), ops.embedding(h, active), this.itemEmb.weight);
      for (let i = 0; i < n; i++) h.data.set(next.data.subarray(i * d, (i + 1) * d), active[i] * d);
    }
    return h;
  }

  scoreCandidates(batch: HistoryBatch, candidates: Int32Array, numCandidates: number): Float32Array {
    return this.inEvalMode(() => this.candidateScores(() => this.lastStates(batch), batch.batchSize, candidates, numCandidates));
  }

  scoreAll(batch: HistoryBatch, out?: Float32Array): Float32Array {
    return this.inEvalMode(() => this.allScores(() => this.lastStates(batch), batch.batchSize, out));
  }
}

/** TiSASRec.pytorch's TimeAwareMultiHeadAttention: Q/K/V linears and the time-aware attention core. */
import * as ops from '../engine/ops.js';
import type { Rng } from '../engine/rng.js';
import type { Tensor } from '../engine/tensor.js';
import { timeAwareAttention, unpackRows, type TimeBatchLayout } from '../engine/time-attention.js';
import { Linear } from './layers.js';
import { Module } from './module.js';

/** What every block's attention shares within one forward. */
export interface TimeAttentionContext {
  readonly layout: TimeBatchLayout;
  /** [numSeq·len, d] absolute-position key and value embeddings (after their dropout) */
  readonly absK: Tensor;
  readonly absV: Tensor;
  /** each sequence's interval-table rows [layout.bucketTotal, d] (after their per-sequence dropout) */
  readonly timeK: Tensor;
  readonly timeV: Tensor;
}

export class TimeAwareMultiHeadAttention extends Module {
  readonly qW: Linear;
  readonly kW: Linear;
  readonly vW: Linear;

  constructor(
    readonly hiddenSize: number,
    readonly headNum: number,
    readonly dropoutRate: number,
    rng: Rng,
    private readonly dropoutRng: Rng,
  ) {
    super();
    if (hiddenSize % headNum !== 0) throw new Error(`TimeAwareMultiHeadAttention: ${headNum} heads do not divide ${hiddenSize}`);
    this.qW = this.addModule('Q_w', new Linear(hiddenSize, hiddenSize, rng));
    this.kW = this.addModule('K_w', new Linear(hiddenSize, hiddenSize, rng));
    this.vW = this.addModule('V_w', new Linear(hiddenSize, hiddenSize, rng));
  }

  /**
   * queries [R, d]: the query rows of ctx.layout (the block's LayerNorm output there); keys: the block
   * input, either at the same query rows (packed layout: padded positions are skipped, and since their
   * block input is exactly 0 their key/value projections are the biases) or at every position
   * [numSeq·len, d] (dense layout). → [R, d].
   */
  forward(queries: Tensor, keys: Tensor, ctx: TimeAttentionContext): Tensor {
    const { layout } = ctx;
    const q = this.qW.forward(queries);
    let k = this.kW.forward(keys);
    let v = this.vW.forward(keys);
    if (layout.packed) {
      k = unpackRows(k, layout, this.kW.bias);
      v = unpackRows(v, layout, this.vW.bias);
    }
    return timeAwareAttention(q, ops.add(k, ctx.absK), ops.add(v, ctx.absV), ctx.timeK, ctx.timeV, layout, {
      heads: this.headNum,
      dropout: this.dropoutRate,
      rng: this.dropoutRng,
      training: this.training,
    });
  }
}

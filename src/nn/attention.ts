/**
 * torch.nn.MultiheadAttention (packed in-projection, batch-first rows), restricted to self-attention:
 * causal (SASRec, dense or packed rows) or bidirectional with a key-padding mask (BERT4Rec).
 */
import * as init from '../engine/init.js';
import * as ops from '../engine/ops.js';
import type { PackedSegments } from '../engine/ops.js';
import { bidirectionalAttention, type SequenceRows } from '../engine/bidirectional-attention.js';
import type { Rng } from '../engine/rng.js';
import type { Parameter, Tensor } from '../engine/tensor.js';
import { Linear } from './layers.js';
import { Module } from './module.js';

export class MultiheadAttention extends Module {
  readonly inProjWeight: Parameter;
  readonly inProjBias: Parameter;
  readonly outProj: Linear;

  constructor(
    readonly embedDim: number,
    readonly numHeads: number,
    readonly dropout: number,
    rng: Rng,
    private readonly dropoutRng: Rng,
  ) {
    super();
    if (embedDim % numHeads !== 0) throw new Error(`MultiheadAttention: ${numHeads} heads do not divide ${embedDim}`);
    this.inProjWeight = this.addParameter('in_proj_weight', [3 * embedDim, embedDim]);
    this.inProjBias = this.addParameter('in_proj_bias', [3 * embedDim]);
    this.outProj = this.addModule('out_proj', new Linear(embedDim, embedDim, rng));
    // MultiheadAttention._reset_parameters: xavier-uniform in_proj, zero biases
    init.xavierUniform(this.inProjWeight, rng);
    init.constant(this.outProj.bias!, 0);
  }

  /** Causal self-attention of x [batch·len, d] (query = key = value = x), as attn_mask = ~tril. */
  forward(x: Tensor, batch: number, len: number): Tensor {
    const qkv = ops.linear(x, this.inProjWeight, this.inProjBias);
    const heads = ops.causalAttentionPacked(qkv, {
      batch,
      len,
      heads: this.numHeads,
      dropout: this.dropout,
      rng: this.dropoutRng,
      training: this.training,
    });
    return this.outProj.forward(heads);
  }

  /**
   * The same layer on packed rows x [rows, d] (real tokens + one shared padding row, see
   * engine/packing.ts): causal attention within each segment plus the merged padding key.
   */
  forwardPacked(x: Tensor, segments: PackedSegments): Tensor {
    const qkv = ops.linear(x, this.inProjWeight, this.inProjBias);
    const heads = ops.packedCausalAttention(qkv, segments, {
      heads: this.numHeads,
      dropout: this.dropout,
      rng: this.dropoutRng,
      training: this.training,
    });
    return this.outProj.forward(heads);
  }

  /**
   * Bidirectional self-attention of x [rows, d] within each sequence of rows, as
   * key_padding_mask = keyMask (a row whose keyMask ≠ 0 is a key no query sees); no causal mask.
   */
  forwardBidirectional(x: Tensor, seqs: SequenceRows, keyMask: Uint8Array | null): Tensor {
    const qkv = ops.linear(x, this.inProjWeight, this.inProjBias);
    const heads = bidirectionalAttention(qkv, seqs, {
      heads: this.numHeads,
      keyMask,
      dropout: this.dropout,
      rng: this.dropoutRng,
      training: this.training,
    });
    return this.outProj.forward(heads);
  }
}

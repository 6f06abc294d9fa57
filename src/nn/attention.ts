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
   * The softmax weights of causal self-attention on x [batch·len, d], as `forward` computes them
   * without dropout: a fresh [batch, heads, len, len] array, query rows, key columns, zero above the
   * diagonal. Reads x's values only (no tape), for inspecting a trained model.
   */
  attentionWeights(x: Tensor, batch: number, len: number): Float32Array {
    const d = this.embedDim;
    const hd = d / this.numHeads;
    if (x.rows !== batch * len || x.lastDim !== d) throw new Error(`MultiheadAttention: x [${x.shape}] is not [${batch}·${len}, ${d}]`);
    const w = this.inProjWeight.data;
    const bias = this.inProjBias.data;
    const rows = batch * len;
    // q and k of every row: rows × d each (in_proj rows 0..d-1 give q, d..2d-1 give k)
    const q = new Float32Array(rows * d);
    const k = new Float32Array(rows * d);
    for (let r = 0; r < rows; r++) {
      for (let o = 0; o < d; o++) {
        let sq = bias[o];
        let sk = bias[d + o];
        for (let i = 0; i < d; i++) {
          const xi = x.data[r * d + i];
          sq += w[o * d + i] * xi;
          sk += w[(d + o) * d + i] * xi;
        }
        q[r * d + o] = sq;
        k[r * d + o] = sk;
      }
    }
    const out = new Float32Array(batch * this.numHeads * len * len);
    const scale = 1 / Math.sqrt(hd);
    const scores = new Float64Array(len);
    for (let b = 0; b < batch; b++) {
      for (let h = 0; h < this.numHeads; h++) {
        for (let t = 0; t < len; t++) {
          const qRow = (b * len + t) * d + h * hd;
          let max = -Infinity;
          for (let s = 0; s <= t; s++) {
            const kRow = (b * len + s) * d + h * hd;
            let dot = 0;
            for (let i = 0; i < hd; i++) dot += q[qRow + i] * k[kRow + i];
            scores[s] = dot * scale;
            if (scores[s] > max) max = scores[s];
          }
          let sum = 0;
          for (let s = 0; s <= t; s++) {
            scores[s] = Math.exp(scores[s] - max);
            sum += scores[s];
          }
          const base = ((b * this.numHeads + h) * len + t) * len;
          for (let s = 0; s <= t; s++) out[base + s] = scores[s] / sum;
        }
      }
    }
    return out;
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

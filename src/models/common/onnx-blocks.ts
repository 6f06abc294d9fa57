/**
 * The ONNX form of the layers the self-attentive networks share (engine/onnx.ts writes the file):
 * linear / kernel-1 convolution, LayerNorm, the point-wise feed-forward, causal multi-head
 * self-attention, and the scores / hidden-state head. Activations are [batch, len, d] float32, as the
 * engine's dense path computes them in eval mode (no dropout).
 */
import type { OnnxGraph } from '../../engine/onnx.js';
import type { Tensor } from '../../engine/tensor.js';
import type { MultiheadAttention } from '../../nn/attention.js';
import type { PointWiseFeedForward } from '../../nn/feedforward.js';
import type { LayerNorm, Linear } from '../../nn/layers.js';
import { LN_EPS } from './self-attentive.js';

/** The opset of the default domain the exported graphs use. */
export const ONNX_OPSET = 17;

/** The exported graph's output: scores over all item ids, or the last position's hidden state. */
export type OnnxOutput = 'scores' | 'hidden';

/** Wᵀ of a row-major [out, in] weight (the engine's layout, PyTorch's). */
function transposed(w: Float32Array, out: number, inp: number): Float32Array {
  const t = new Float32Array(out * inp);
  for (let o = 0; o < out; o++) for (let i = 0; i < inp; i++) t[i * out + o] = w[o * inp + i];
  return t;
}

/** x·Wᵀ + b for W rows [rowStart, rowStart + out) of a [*, in] weight. */
export function linearRows(g: OnnxGraph, x: string, name: string, weight: Tensor, bias: Tensor | null, rowStart: number, out: number): string {
  const inp = weight.shape[1];
  const w = weight.data.subarray(rowStart * inp, (rowStart + out) * inp);
  let y = g.op('MatMul', [x, g.floats(`${name}.weight_t`, [inp, out], transposed(w, out, inp))]);
  if (bias) y = g.op('Add', [y, g.floats(`${name}.bias`, [out], bias.data.subarray(rowStart, rowStart + out))]);
  return y;
}

export function linear(g: OnnxGraph, x: string, name: string, layer: Linear): string {
  return linearRows(g, x, name, layer.weight, layer.bias, 0, layer.weight.shape[0]);
}

export function layerNorm(g: OnnxGraph, x: string, name: string, ln: LayerNorm): string {
  const d = ln.weight.shape[0];
  return g.op('LayerNormalization', [x, g.floats(`${name}.weight`, [d], ln.weight.data), g.floats(`${name}.bias`, [d], ln.bias.data)], {
    axis: -1,
    epsilon: { f: LN_EPS },
  });
}

export function feedForward(g: OnnxGraph, x: string, name: string, ffn: PointWiseFeedForward): string {
  const h = g.op('Relu', [linear(g, x, `${name}.conv1`, ffn.conv1)]);
  return linear(g, h, `${name}.conv2`, ffn.conv2);
}

/** [B, L, d] → [B, heads, L, hd] (or [B, heads, hd, L] with `keys`); `shape` is headShape's. */
export function splitHeads(g: OnnxGraph, x: string, shape: string, keys: boolean): string {
  return g.op('Transpose', [g.op('Reshape', [x, shape])], { perm: keys ? [0, 2, 3, 1] : [0, 2, 1, 3] });
}

/** The [0, len, heads, hd] shape constant that splitHeads reshapes by (0: the batch dimension, kept). */
export function headShape(g: OnnxGraph, name: string, len: number, heads: number, d: number): string {
  return g.int64s(`${name}.head_shape`, [4], [0, len, heads, d / heads]);
}

/** [B, heads, L, hd] → [B, L, d]. */
export function mergeHeads(g: OnnxGraph, x: string, name: string, len: number, d: number): string {
  const heads = g.op('Transpose', [x], { perm: [0, 2, 1, 3] });
  return g.op('Reshape', [heads, g.int64s(`${name}.merged_shape`, [3], [0, len, d])]);
}

/** Softmax over the keys of attention scores [B, heads, L, L] / √hd, a key after its query getting −∞ first. */
export function causalSoftmax(g: OnnxGraph, scores: string, name: string, len: number, hd: number): string {
  const mask = new Float32Array(len * len);
  for (let i = 0; i < len; i++) for (let j = i + 1; j < len; j++) mask[i * len + j] = Number.NEGATIVE_INFINITY;
  const scaled = g.op('Mul', [scores, g.floats(`${name}.scale`, [], [1 / Math.sqrt(hd)])]);
  return g.op('Softmax', [g.op('Add', [scaled, g.floats(`${name}.causal_mask`, [len, len], mask)])], { axis: -1 });
}

/**
 * Causal self-attention of x [B, L, d] (query = key = value = x, as the engine's MultiheadAttention):
 * a key after the query gets −∞ before the softmax; padding keys are not masked (the engine and the
 * reference do not mask them either).
 */
export function causalSelfAttention(g: OnnxGraph, x: string, name: string, attn: MultiheadAttention, len: number): string {
  const d = attn.embedDim;
  const shape = headShape(g, name, len, attn.numHeads, d);
  const q = splitHeads(g, linearRows(g, x, `${name}.q`, attn.inProjWeight, attn.inProjBias, 0, d), shape, false);
  const k = splitHeads(g, linearRows(g, x, `${name}.k`, attn.inProjWeight, attn.inProjBias, d, d), shape, true);
  const v = splitHeads(g, linearRows(g, x, `${name}.v`, attn.inProjWeight, attn.inProjBias, 2 * d, d), shape, false);
  const probs = causalSoftmax(g, g.op('MatMul', [q, k]), name, len, d / attn.numHeads);
  return linear(g, mergeHeads(g, g.op('MatMul', [probs, v]), name, len, d), `${name}.out_proj`, attn.outProj);
}

/**
 * The graph's head from the final features [B, L, d] and the item embedding initializer: the last position's row [B, d] as `hidden`, or
 * its dot products with every item embedding (row 0, the padding id, included) as `scores`
 * [B, itemNum + 1], as the engine's scoreAll.
 */
export function outputHead(g: OnnxGraph, feats: string, itemEmb: string, len: number, output: OnnxOutput): void {
  const last = g.op('Gather', [feats, g.int64s('last_position', [], [len - 1])], { axis: 1 }, output === 'hidden' ? 'hidden' : undefined);
  if (output === 'scores') g.op('Gemm', [last, itemEmb], { transB: 1 }, 'scores');
}

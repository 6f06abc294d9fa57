/**
 * TiSASRec as an ONNX inference graph (the engine's eval-mode forward, tisasrec.ts):
 *   inputs `history` int64 [batch, maxlen], left-padded item ids (0 = padding)
 *          `times`   int64 [batch, maxlen], the RAW timestamps of those items (any value at padding)
 *   output `scores` float32 [batch, item_num + 1] or `hidden` float32 [batch, hidden_units]
 * The graph scales the raw times as seqrec does for an ad-hoc history (data/time.ts scaleUserTimes,
 * user 0): u = round(raw / unit − globalMin) with the model's fitted unit and global minimum, then
 * round((u − min) / s) + 1 with the history's own min and smallest non-zero gap s between consecutive
 * items (1 when none); padding gets time 0. The relation matrix r_ij = min(|τ_i − τ_j|, time_span)
 * (padding included) is computed in the graph too, in float64 as seqrec computes it.
 */
import { DOUBLE, FLOAT, INT64, OnnxGraph } from '../../engine/onnx.js';
import type { TimeAwareMultiHeadAttention } from '../../nn/time-attention.js';
import {
  causalSoftmax,
  feedForward,
  headShape,
  layerNorm,
  linear,
  mergeHeads,
  ONNX_OPSET,
  type OnnxOutput,
  outputHead,
  splitHeads,
} from '../common/onnx-blocks.js';
import type { TiSASRec } from './tisasrec.js';

/** The interval-embedding terms every block shares: [B, L, L, heads, hd] key and value tables. */
interface IntervalTables {
  readonly timeK: string;
  readonly timeV: string;
}

/** [B, 1] float64: each history's smallest non-zero gap between consecutive items of u (1 when none). */
function smallestGap(g: OnnxGraph, u: string, isItem: string, L: number, inf: string, one: string): string {
  if (L < 2) return one;
  // consecutive items: both columns real (a left-padded history's items are contiguous)
  const axis = g.int64s('time.slice_axis', [1], [1]);
  const later = (x: string) => g.op('Slice', [x, g.int64s(`time.${x}.later_from`, [1], [1]), g.int64s(`time.${x}.later_to`, [1], [L]), axis]);
  const earlier = (x: string) =>
    g.op('Slice', [x, g.int64s(`time.${x}.earlier_from`, [1], [0]), g.int64s(`time.${x}.earlier_to`, [1], [L - 1]), axis]);
  const gap = g.op('Sub', [later(u), earlier(u)]);
  const bothItems = g.op('And', [later(isItem), earlier(isItem)]);
  const nonZero = g.op('Not', [g.op('Equal', [gap, g.doubles('time.zero', [], [0])])]);
  const smallest = g.op('ReduceMin', [g.op('Where', [g.op('And', [bothItems, nonZero]), g.op('Abs', [gap]), inf])], { axes: [1], keepdims: 1 });
  return g.op('Where', [g.op('IsInf', [smallest]), one, smallest]);
}

/** τ [B, L] float64: the scaled times (0 at padding) of raw int64 `times`, as the file comment says. */
function scaledTimes(g: OnnxGraph, isItem: string, net: TiSASRec): string {
  const L = net.config.maxlen;
  const { unit, globalMin } = net.timeScaling ?? { unit: 1, globalMin: 0 };
  const inf = g.doubles('time.inf', [], [Number.POSITIVE_INFINITY]);
  const one = g.doubles('time.one', [], [1]);
  const u = g.op('Round', [
    g.op('Sub', [
      g.op('Div', [g.op('Cast', ['times'], { to: DOUBLE }), g.doubles('time.unit', [], [unit])]),
      g.doubles('time.global_min', [], [globalMin]),
    ]),
  ]);
  const min = g.op('ReduceMin', [g.op('Where', [isItem, u, inf])], { axes: [1], keepdims: 1 });
  const scale = smallestGap(g, u, isItem, L, inf, one);
  const scaled = g.op('Add', [g.op('Round', [g.op('Div', [g.op('Sub', [u, min]), scale])]), one]);
  return g.op('Where', [isItem, scaled, g.doubles('time.padding', [], [0])]);
}

/** r [B, L, L] int64: min(|τ_i − τ_j|, time_span). */
function relations(g: OnnxGraph, times: string, timeSpan: number): string {
  const ti = g.op('Unsqueeze', [times, g.int64s('time.axis_2', [1], [2])]);
  const tj = g.op('Unsqueeze', [times, g.int64s('time.axis_1', [1], [1])]);
  const clipped = g.op('Min', [g.op('Abs', [g.op('Sub', [ti, tj])]), g.doubles('time.span', [], [timeSpan])]);
  return g.op('Cast', [clipped], { to: INT64 });
}

/**
 * TiSASRec's TimeAwareMultiHeadAttention (no output projection), keys/values from x, queries from q:
 *   score_ij = q_i·(k_j + absK_j + TK_ij) / √hd (causal),  out_i = Σ_j a_ij (v_j + absV_j + TV_ij).
 */
function timeAwareAttention(
  g: OnnxGraph,
  queries: string,
  x: string,
  name: string,
  attn: TimeAwareMultiHeadAttention,
  abs: { k: string; v: string },
  tables: IntervalTables,
  len: number,
): string {
  const d = attn.hiddenSize;
  const shape = headShape(g, name, len, attn.headNum, d);
  const q = splitHeads(g, linear(g, queries, `${name}.Q_w`, attn.qW), shape, false);
  const k = splitHeads(g, g.op('Add', [linear(g, x, `${name}.K_w`, attn.kW), abs.k]), shape, true);
  const v = splitHeads(g, g.op('Add', [linear(g, x, `${name}.V_w`, attn.vW), abs.v]), shape, false);
  const scores = g.op('Add', [g.op('MatMul', [q, k]), g.op('Einsum', [q, tables.timeK], { equation: 'bhie,bijhe->bhij' })]);
  const probs = causalSoftmax(g, scores, name, len, d / attn.headNum);
  const out = g.op('Add', [g.op('MatMul', [probs, v]), g.op('Einsum', [probs, tables.timeV], { equation: 'bhij,bijhe->bhie' })]);
  return mergeHeads(g, out, name, len, d);
}

export function tisasrecOnnx(net: TiSASRec, output: OnnxOutput, metadata: Readonly<Record<string, string>> = {}): Uint8Array {
  const c = net.config;
  if (c.mhc) throw new Error('ONNX export does not support the mHC variant (--mhc_expansion_rate); export a model trained without it');
  if (c.normFirst) throw new Error("ONNX export of TiSASRec supports the reference's post-LN blocks only");
  const L = c.maxlen;
  const d = c.hiddenUnits;
  const g = new OnnxGraph(
    'tisasrec',
    [
      { name: 'history', elemType: INT64, shape: ['batch', L] },
      { name: 'times', elemType: INT64, shape: ['batch', L] },
    ],
    [{ name: output, elemType: FLOAT, shape: ['batch', output === 'scores' ? c.itemNum + 1 : d] }],
  );
  const isItem = g.op('Not', [g.op('Equal', ['history', g.int64s('zero', [], [0])])]);
  // [B, L, 1]: 1 at items, 0 at padding (the reference's ~timeline_mask)
  const keep = g.op('Unsqueeze', [g.op('Cast', [isItem], { to: FLOAT }), g.int64s('keep_axis', [1], [2])]);
  const itemEmb = g.floats('item_emb.weight', net.itemEmb.weight.shape, net.itemEmb.weight.data);
  let x = g.op('Mul', [g.op('Mul', [g.op('Gather', [itemEmb, 'history']), g.floats('emb_scale', [], [Math.sqrt(d)])]), keep]);

  // positions are the columns 0..L−1 (padding included), so the absolute-position terms are the tables themselves
  const abs = {
    k: g.floats('abs_pos_K_emb.weight', net.absPosKEmb.weight.shape, net.absPosKEmb.weight.data),
    v: g.floats('abs_pos_V_emb.weight', net.absPosVEmb.weight.shape, net.absPosVEmb.weight.data),
  };
  const rel = relations(g, scaledTimes(g, isItem, net), c.timeSpan);
  const intervalShape = g.int64s('interval_shape', [5], [0, L, L, c.numHeads, d / c.numHeads]);
  const table = (emb: string) => g.op('Reshape', [g.op('Gather', [emb, rel]), intervalShape]);
  const tables: IntervalTables = {
    timeK: table(g.floats('time_matrix_K_emb.weight', net.timeMatrixKEmb.weight.shape, net.timeMatrixKEmb.weight.data)),
    timeV: table(g.floats('time_matrix_V_emb.weight', net.timeMatrixVEmb.weight.shape, net.timeMatrixVEmb.weight.data)),
  };

  for (let i = 0; i < c.numBlocks; i++) {
    const an = net.attentionLayernorms.at(i);
    const fn = net.forwardLayernorms.at(i);
    const attn = (q: string, keys: string) => timeAwareAttention(g, q, keys, `attention_layers.${i}`, net.attentionLayers.at(i), abs, tables, L);
    const ffn = (h: string) => feedForward(g, h, `forward_layers.${i}`, net.forwardLayers.at(i));
    const q = layerNorm(g, x, `attention_layernorms.${i}`, an);
    x = layerNorm(g, g.op('Add', [q, attn(q, x)]), `forward_layernorms.${i}`, fn);
    x = g.op('Add', [x, ffn(x)]);
    x = g.op('Mul', [x, keep]);
  }
  const feats = layerNorm(g, x, 'last_layernorm', net.lastLayernorm);
  outputHead(g, feats, itemEmb, L, output);
  return g.toModel({ opset: ONNX_OPSET, producer: 'seqrec', metadata });
}

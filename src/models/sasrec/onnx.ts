/**
 * SASRec as an ONNX inference graph (the engine's dense eval-mode forward, sasrec.ts):
 *   input  `history` int64 [batch, maxlen], left-padded item ids (0 = padding)
 *   output `scores` float32 [batch, item_num + 1] (column i: item id i; column 0 the padding id), or
 *          `hidden` float32 [batch, hidden_units] (the last position's final features)
 * `metadata` goes into the file's metadata_props (the CLI puts the original item ids there).
 */
import { FLOAT, INT64, OnnxGraph } from '../../engine/onnx.js';
import { causalSelfAttention, feedForward, layerNorm, ONNX_OPSET, type OnnxOutput, outputHead } from '../common/onnx-blocks.js';
import type { SASRec } from './sasrec.js';

export { ONNX_OPSET } from '../common/onnx-blocks.js';

export function sasrecOnnx(net: SASRec, output: OnnxOutput, metadata: Readonly<Record<string, string>> = {}): Uint8Array {
  const c = net.config;
  if (c.mhc) throw new Error('ONNX export does not support the mHC variant (--mhc_expansion_rate); export a model trained without it');
  const L = c.maxlen;
  const d = c.hiddenUnits;
  const g = new OnnxGraph(
    'sasrec',
    [{ name: 'history', elemType: INT64, shape: ['batch', L] }],
    [{ name: output, elemType: FLOAT, shape: ['batch', output === 'scores' ? c.itemNum + 1 : d] }],
  );
  const itemEmb = g.floats('item_emb.weight', net.itemEmb.weight.shape, net.itemEmb.weight.data);
  const items = g.op('Mul', [g.op('Gather', [itemEmb, 'history']), g.floats('emb_scale', [], [Math.sqrt(d)])]);
  // position t + 1 at an item, 0 at padding (sasrec.ts log2feats)
  const isItem = g.op('Cast', [g.op('Not', [g.op('Equal', ['history', g.int64s('zero', [], [0])])])], { to: INT64 });
  const positions = g.op('Mul', [
    isItem,
    g.int64s(
      'positions',
      [L],
      Array.from({ length: L }, (_, t) => t + 1),
    ),
  ]);
  let x = g.op('Add', [items, g.op('Gather', [g.floats('pos_emb.weight', net.posEmb.weight.shape, net.posEmb.weight.data), positions])]);
  for (let i = 0; i < c.numBlocks; i++) {
    const an = net.attentionLayernorms.at(i);
    const fn = net.forwardLayernorms.at(i);
    const attn = (h: string) => causalSelfAttention(g, h, `attention_layers.${i}`, net.attentionLayers.at(i), L);
    const ffn = (h: string) => feedForward(g, h, `forward_layers.${i}`, net.forwardLayers.at(i));
    if (c.normFirst) {
      x = g.op('Add', [x, attn(layerNorm(g, x, `attention_layernorms.${i}`, an))]);
      x = g.op('Add', [x, ffn(layerNorm(g, x, `forward_layernorms.${i}`, fn))]);
    } else {
      x = layerNorm(g, g.op('Add', [x, attn(x)]), `attention_layernorms.${i}`, an);
      x = layerNorm(g, g.op('Add', [x, ffn(x)]), `forward_layernorms.${i}`, fn);
    }
  }
  const feats = layerNorm(g, x, 'last_layernorm', net.lastLayernorm);
  outputHead(g, feats, itemEmb, L, output);
  return g.toModel({ opset: ONNX_OPSET, producer: 'seqrec', metadata });
}

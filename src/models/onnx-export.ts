/**
 * `seqrec export --format onnx`: the ONNX inference graph of a loaded model, for the models that have
 * one (SASRec, TiSASRec; their mHC variants are refused). docs/onnx.md describes the graphs' inputs and outputs.
 */
import { UserError } from '../core/errors.js';
import type { OnnxOutput } from './common/onnx-blocks.js';
import type { Model } from './contract.js';
import { sasrecOnnx } from './sasrec/onnx.js';
import { SASRec } from './sasrec/sasrec.js';
import { tisasrecOnnx } from './tisasrec/onnx.js';
import { TiSASRec } from './tisasrec/tisasrec.js';

export type { OnnxOutput } from './common/onnx-blocks.js';
export const ONNX_MODELS = ['sasrec', 'tisasrec'] as const;

/**
 * The serialized ONNX model of `model`; a UserError for a model without an ONNX graph. Its
 * metadata_props hold `seqrec.model` and `seqrec.item_ids`: the JSON array of the original item ids of
 * dense ids 1..N (score column i is item_ids[i − 1]).
 */
export function onnxModelOf(model: Model, output: OnnxOutput): Uint8Array {
  const scorer = (model as { scorer?: unknown }).scorer;
  const metadata = { 'seqrec.model': model.name, 'seqrec.item_ids': JSON.stringify(model.items.toRaw.slice(1)) };
  const graph =
    scorer instanceof SASRec
      ? () => sasrecOnnx(scorer, output, metadata)
      : scorer instanceof TiSASRec
        ? () => tisasrecOnnx(scorer, output, metadata)
        : null;
  if (!graph) throw new UserError(`export --format onnx: ${model.name} models cannot be exported (supported: ${ONNX_MODELS.join(', ')})`);
  try {
    return graph();
  } catch (err) {
    throw new UserError(`export --format onnx: ${err instanceof Error ? err.message : String(err)}`);
  }
}

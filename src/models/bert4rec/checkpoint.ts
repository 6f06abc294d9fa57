/**
 * BERT4Rec's model file: its state_dict names (bert4rec.ts), the options in the `config` metadata,
 * and what a foreign file's tensors say of them.
 */
import { lossMetadata } from '../../losses/index.js';
import type { TrainingRecord } from '../contract.js';
import { sizeMetadata } from '../common/attention-options.js';
import { optionsFromCheckpoint, sniffCheckpoint, trainingRecordMetadata } from '../common/checkpoint-config.js';
import { CheckpointError, type LoadedCheckpoint } from '../common/checkpoint-format.js';
import type { BERT4RecConfig } from './bert4rec.js';
import { bert4recOptions, type BERT4RecModelOptions } from './options.js';

/** The checkpoint's `config` metadata (the loss always named: BERT4Rec's default is not the other models'). */
export function bert4recMetadata(cfg: BERT4RecConfig, options: BERT4RecModelOptions, record: TrainingRecord): Record<string, unknown> {
  return {
    ...sizeMetadata('bert4rec', cfg),
    mask_prob: options.maskProb,
    loss: options.loss,
    ...lossMetadata(options),
    ...trainingRecordMetadata(record),
  };
}

/** Options a foreign file may take from the caller: what its tensors cannot say. */
const FOREIGN_OVERRIDES = ['num_heads', 'dropout_rate', 'mask_prob'];

/** The options of the BERT4Rec in `ckpt` and its item count N (the embedding has N + 2 rows). */
export function bert4recOptionsOf(
  ckpt: LoadedCheckpoint,
  overrides: Readonly<Record<string, unknown>>,
): { options: BERT4RecModelOptions; itemNum: number } {
  const { tensors } = ckpt;
  const emb = tensors.get('item_embedding.weight');
  const pos = tensors.get('position_embedding.weight');
  if (!emb || !pos || emb.shape.length !== 2 || pos.shape.length !== 2 || emb.shape[0] < 3) {
    throw new CheckpointError('not a BERT4Rec checkpoint: item_embedding.weight / position_embedding.weight missing, not 2-D, or without items');
  }
  let blocks = 0;
  while (tensors.has(`encoder.layers.${blocks}.self_attn.in_proj_weight`)) blocks++;
  const shapes = { maxlen: pos.shape[0], hidden_units: emb.shape[1], num_blocks: blocks };
  const options = optionsFromCheckpoint(bert4recOptions, ckpt, shapes, overrides, FOREIGN_OVERRIDES);
  return { options, itemNum: emb.shape[0] - 2 };
}

export function looksLikeBERT4Rec(bytes: Uint8Array): boolean {
  return sniffCheckpoint(bytes, 'bert4rec', (t) => t.has('item_embedding.weight') && t.has('output_bias'));
}

/**
 * SASRec's model file: the reference's state_dict tensor names, the options in the `config`
 * metadata under the reference's flag names, and what a foreign file's tensors say of them.
 */
import { lossMetadata, type LossConfig } from '../../losses/index.js';
import type { TrainingRecord } from '../contract.js';
import type { LoadedCheckpoint } from '../common/checkpoint-format.js';
import { CheckpointError } from '../common/checkpoint-format.js';
import { sizeMetadata } from '../common/attention-options.js';
import { optionsFromCheckpoint, sniffCheckpoint, trainingRecordMetadata } from '../common/checkpoint-config.js';
import { mhcFromTensors, mhcMetadata } from '../common/mhc-options.js';
import { sasrecOptions, type SASRecOptions } from './options.js';
import { ablationMetadata } from './ablation.js';
import { OUTPUT_ITEM_EMB, type SASRecConfig } from './sasrec.js';

/** The checkpoint's `config` metadata. */
export function sasrecMetadata(cfg: SASRecConfig, options: LossConfig, record: TrainingRecord): Record<string, unknown> {
  return {
    ...sizeMetadata('sasrec', cfg),
    norm_first: cfg.normFirst ?? false,
    l2_emb: cfg.l2Emb ?? 0,
    ...lossMetadata(options),
    ...trainingRecordMetadata(record),
    ...mhcMetadata(cfg.mhc),
    ...ablationMetadata(cfg),
  };
}

/** Options a foreign file may take from the caller: what its tensors cannot say. */
const FOREIGN_OVERRIDES = ['num_heads', 'norm_first', 'dropout_rate', 'mhc_sinkhorn_iter', 'mhc_init_gate', 'no_position_emb', 'no_residual'];

/** The options of the SASRec in `ckpt` and its item count. */
export function sasrecOptionsOf(ckpt: LoadedCheckpoint, overrides: Readonly<Record<string, unknown>>): { options: SASRecOptions; itemNum: number } {
  const { tensors } = ckpt;
  const emb = tensors.get('item_emb.weight');
  const pos = tensors.get('pos_emb.weight');
  if (!emb || !pos || emb.shape.length !== 2 || pos.shape.length !== 2) {
    throw new CheckpointError('not a SASRec checkpoint: item_emb.weight / pos_emb.weight missing or not 2-D');
  }
  let blocks = 0;
  while (tensors.has(`attention_layers.${blocks}.in_proj_weight`)) blocks++;
  const shapes = { maxlen: pos.shape[0] - 1, hidden_units: emb.shape[1], num_blocks: blocks };
  // a foreign (.pth) file has a separate output table only if it holds output_item_emb.weight
  const foreign = { ...mhcFromTensors(tensors), ...(tensors.has(OUTPUT_ITEM_EMB) ? { unshared_item_emb: true } : {}) };
  const options = optionsFromCheckpoint(sasrecOptions, ckpt, shapes, overrides, FOREIGN_OVERRIDES, foreign);
  const out = tensors.get(OUTPUT_ITEM_EMB);
  if ((options.unsharedItemEmb ?? false) !== (out !== undefined)) {
    throw new CheckpointError(`unshared_item_emb is ${options.unsharedItemEmb ?? false} but ${OUTPUT_ITEM_EMB} is ${out ? 'present' : 'missing'}`);
  }
  return { options, itemNum: emb.shape[0] - 1 };
}

export function looksLikeSASRec(bytes: Uint8Array): boolean {
  return sniffCheckpoint(bytes, 'sasrec', (t) => t.has('item_emb.weight') && t.has('pos_emb.weight') && !t.has('abs_pos_K_emb.weight'));
}

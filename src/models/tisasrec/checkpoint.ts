/**
 * TiSASRec's model file: the reference's state_dict tensor names, the options in the `config`
 * metadata under the reference's flag names, what a foreign file's tensors say of them, and the
 * fitted time transform (metadata `time_scaling`) that evaluation and `recommend` apply to raw times.
 */
import type { TimeScaling } from '../../data/time.js';
import { lossMetadata, type LossConfig } from '../../losses/index.js';
import type { TrainingRecord } from '../contract.js';
import { CheckpointError, type LoadedCheckpoint } from '../common/checkpoint-format.js';
import { sizeMetadata } from '../common/attention-options.js';
import { optionsFromCheckpoint, sniffCheckpoint, trainingRecordMetadata } from '../common/checkpoint-config.js';
import { mhcFromTensors, mhcMetadata } from '../common/mhc-options.js';
import { tisasrecOptions, type TiSASRecOptions } from './options.js';
import type { TiSASRecConfig } from './tisasrec.js';

/** The checkpoint's `config` metadata. */
export function tisasrecMetadata(
  cfg: TiSASRecConfig,
  options: LossConfig & { readonly timeUnit: string },
  record: TrainingRecord,
): Record<string, unknown> {
  return {
    ...sizeMetadata('tisasrec', cfg),
    l2_emb: cfg.l2Emb ?? 0,
    time_span: cfg.timeSpan,
    time_unit: options.timeUnit,
    ...lossMetadata(options),
    ...trainingRecordMetadata(record),
    ...mhcMetadata(cfg.mhc),
  };
}

/** Options a foreign file may take from the caller: what its tensors cannot say. */
const FOREIGN_OVERRIDES = ['num_heads', 'dropout_rate', 'mhc_sinkhorn_iter', 'mhc_init_gate'];

/** The options of the TiSASRec in `ckpt` and its item count. */
export function tisasrecOptionsOf(
  ckpt: LoadedCheckpoint,
  overrides: Readonly<Record<string, unknown>>,
): { options: TiSASRecOptions; itemNum: number } {
  const { tensors } = ckpt;
  const emb = tensors.get('item_emb.weight');
  const absK = tensors.get('abs_pos_K_emb.weight');
  const timeK = tensors.get('time_matrix_K_emb.weight');
  if (!emb || !absK || !timeK || emb.shape.length !== 2 || absK.shape.length !== 2 || timeK.shape.length !== 2) {
    throw new CheckpointError('not a TiSASRec checkpoint: item_emb.weight / abs_pos_K_emb.weight / time_matrix_K_emb.weight missing or not 2-D');
  }
  let blocks = 0;
  while (tensors.has(`attention_layers.${blocks}.Q_w.weight`)) blocks++;
  const shapes = { maxlen: absK.shape[0], hidden_units: emb.shape[1], num_blocks: blocks, time_span: timeK.shape[0] - 1 };
  const options = optionsFromCheckpoint(tisasrecOptions, ckpt, shapes, overrides, FOREIGN_OVERRIDES, mhcFromTensors(tensors));
  return { options, itemNum: emb.shape[0] - 1 };
}

export function looksLikeTiSASRec(bytes: Uint8Array): boolean {
  return sniffCheckpoint(bytes, 'tisasrec', (t) => t.has('item_emb.weight') && t.has('abs_pos_K_emb.weight') && t.has('time_matrix_K_emb.weight'));
}

interface ScalingJson {
  unit: number;
  global_min: number;
  user_min: number[];
  user_scale: number[];
}

export function scalingToJson(s: TimeScaling): string {
  const j: ScalingJson = { unit: s.unit, global_min: s.globalMin, user_min: Array.from(s.userMin), user_scale: Array.from(s.userScale) };
  return JSON.stringify(j);
}

/** The fitted time transform of `ckpt`, when it has one. */
export function timeScalingOf(ckpt: LoadedCheckpoint): TimeScaling | undefined {
  const text = ckpt.extra.time_scaling;
  if (text === undefined) return undefined;
  let j: Partial<ScalingJson>;
  try {
    j = JSON.parse(text) as Partial<ScalingJson>;
  } catch {
    throw new CheckpointError('metadata "time_scaling" is not valid JSON');
  }
  const finite = (x: unknown) => typeof x === 'number' && Number.isFinite(x);
  if (
    !finite(j.unit) ||
    !(j.unit! > 0) ||
    !finite(j.global_min) ||
    !Array.isArray(j.user_min) ||
    !Array.isArray(j.user_scale) ||
    j.user_min.length !== j.user_scale.length ||
    !j.user_min.every(finite) ||
    !j.user_scale.every((x) => finite(x) && x > 0)
  ) {
    throw new CheckpointError('metadata "time_scaling" is malformed');
  }
  return { unit: j.unit!, globalMin: j.global_min!, userMin: Float64Array.from(j.user_min), userScale: Float64Array.from(j.user_scale) };
}

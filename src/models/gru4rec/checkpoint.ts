/**
 * GRU4Rec's model file: its tensors (gru.W [N + 1, 3d], gru.b, gru.U_rz, gru.U, output.weight, output_bias;
 * gru4rec.ts) and its options in the `config` metadata. The authors' models are Theano pickles, so there
 * is no foreign file format to read: a file without seqrec metadata takes its sizes from the tensors and
 * the caller's options (or the defaults) for the rest.
 */
import type { TrainingRecord } from '../contract.js';
import { optionsFromCheckpoint, sniffCheckpoint, trainingRecordMetadata } from '../common/checkpoint-config.js';
import { CheckpointError, type LoadedCheckpoint } from '../common/checkpoint-format.js';
import type { GRU4RecConfig } from './gru4rec.js';
import type { GRU4RecOptions, gru4recOptions } from './options.js';

/** The checkpoint's `config` metadata: the model, its sizes, its training options. */
export function gru4recMetadata(model: string, cfg: GRU4RecConfig, o: GRU4RecOptions, record: TrainingRecord): Record<string, unknown> {
  return {
    model,
    item_num: cfg.itemNum,
    maxlen: cfg.maxlen,
    hidden_units: cfg.hiddenUnits,
    dropout_rate: cfg.dropoutRate,
    gru_loss: o.gruLoss,
    final_act: o.finalAct,
    n_sample: o.nSample,
    sample_alpha: o.sampleAlpha,
    bpreg: o.bpreg,
    ...trainingRecordMetadata(record),
  };
}

/** Options a file without seqrec metadata may take from the caller. */
const FOREIGN_OVERRIDES = ['maxlen', 'dropout_rate', 'gru_loss', 'final_act', 'n_sample', 'sample_alpha', 'bpreg'];

/** The options of the GRU4Rec in `ckpt` (read with `group`, the model's) and its item count N. */
export function gru4recOptionsOf(
  group: typeof gru4recOptions,
  ckpt: LoadedCheckpoint,
  overrides: Readonly<Record<string, unknown>>,
): { options: GRU4RecOptions; itemNum: number } {
  const w = ckpt.tensors.get('gru.W');
  if (w?.shape.length !== 2 || w.shape[0] < 2 || w.shape[1] % 3 !== 0) {
    throw new CheckpointError('not a GRU4Rec checkpoint: gru.W [N + 1, 3d] missing or misshapen');
  }
  const options = optionsFromCheckpoint(group, ckpt, { hidden_units: w.shape[1] / 3 }, overrides, FOREIGN_OVERRIDES);
  return { options, itemNum: w.shape[0] - 1 };
}

/** Whether `bytes` are a model file of `model` ('gru4rec' also takes a GRU4Rec file without seqrec metadata). */
export function looksLikeGRU4Rec(model: string, bytes: Uint8Array): boolean {
  return sniffCheckpoint(bytes, model, (t) => model === 'gru4rec' && t.has('gru.W') && t.has('gru.U_rz') && t.has('output.weight'));
}

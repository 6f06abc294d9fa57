/**
 * GRU4Rec's model file: its tensors (gru.W [N + 1, 3d], or tied gru.W_in [3d, d]; gru.b, gru.U_rz, gru.U, output.weight, output_bias;
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
    ...(o.tiedEmbedding ? { tied_embedding: true } : {}),
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
  const wIn = ckpt.tensors.get('gru.W_in');
  const out = ckpt.tensors.get('output.weight');
  if (!w && wIn) {
    // tied: W_in [3d, d], the items from the output table [N + 1, d]
    if (wIn.shape.length !== 2 || wIn.shape[0] !== 3 * wIn.shape[1] || out?.shape.length !== 2 || out.shape[0] < 2 || out.shape[1] !== wIn.shape[1]) {
      throw new CheckpointError('not a GRU4Rec checkpoint: gru.W_in [3d, d] and output.weight [N + 1, d] misshapen');
    }
    const options = optionsFromCheckpoint(group, ckpt, { hidden_units: wIn.shape[1] }, overrides, FOREIGN_OVERRIDES, { tied_embedding: true });
    return { options: tiedAs(options, true), itemNum: out.shape[0] - 1 };
  }
  if (w?.shape.length !== 2 || w.shape[0] < 2 || w.shape[1] % 3 !== 0) {
    throw new CheckpointError('not a GRU4Rec checkpoint: gru.W [N + 1, 3d] missing or misshapen');
  }
  const options = optionsFromCheckpoint(group, ckpt, { hidden_units: w.shape[1] / 3 }, overrides, FOREIGN_OVERRIDES);
  return { options: tiedAs(options, false), itemNum: w.shape[0] - 1 };
}

/** The options, refused when their tied_embedding disagrees with the tensors (gru.W_in: tied, gru.W: not). */
function tiedAs(options: GRU4RecOptions, tied: boolean): GRU4RecOptions {
  if (options.tiedEmbedding !== tied) {
    throw new CheckpointError(
      `config says tied_embedding ${options.tiedEmbedding} but the tensors have ${tied ? 'gru.W_in (tied)' : 'gru.W (one-hot)'}`,
    );
  }
  return options;
}

/** Whether `bytes` are a model file of `model` ('gru4rec' also takes a GRU4Rec file without seqrec metadata). */
export function looksLikeGRU4Rec(model: string, bytes: Uint8Array): boolean {
  return sniffCheckpoint(bytes, model, (t) => model === 'gru4rec' && t.has('gru.W') && t.has('gru.U_rz') && t.has('output.weight'));
}

/**
 * Reading a network's options back from its model file: the `config` metadata of a seqrec
 * checkpoint, else (a converted PyTorch state_dict) what the tensors' shapes say plus the caller's
 * overrides for what shapes cannot say (num_heads, dropout_rate, …). The shapes always win: a file
 * whose config contradicts its tensors is refused.
 */
import { asFlag, camel, inFile, OptionError, type ConfigOf, type OptionGroup, type Options } from '../../core/options.js';
import { parseSafetensors } from '../../engine/safetensors.js';
import type { TrainingRecord } from '../contract.js';
import { CHECKPOINT_FORMAT, CheckpointError, type LoadedCheckpoint } from './checkpoint-format.js';
import { trainingRecordOptions } from './training-record.js';

const METADATA = 'metadata "config"';

/** A value the file's metadata holds is the file's fault: a CheckpointError, not an option error. */
function fromFile<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof OptionError) throw new CheckpointError(err.message);
    throw err;
  }
}

/**
 * The options of the model in `ckpt`. `shapes` are the options the tensors fix (snake_case name →
 * value); a foreign file takes `foreign` (what else its tensors say, e.g. mHC) and, for the options
 * named `overridable`, the caller's `overrides`.
 */
export function optionsFromCheckpoint<O extends Options>(
  group: OptionGroup<O>,
  ckpt: LoadedCheckpoint,
  shapes: Readonly<Record<string, number>>,
  overrides: Readonly<Record<string, unknown>>,
  overridable: readonly string[],
  foreign: Readonly<Record<string, unknown>> = {},
): ConfigOf<O> {
  const raw: Record<string, unknown> = {};
  if (ckpt.config) {
    for (const name of group.names) if (ckpt.config[name] !== undefined && ckpt.config[name] !== null) raw[name] = ckpt.config[name];
  } else {
    Object.assign(raw, shapes, foreign);
    for (const name of overridable) {
      const given = overrides[name] ?? overrides[camel(name)];
      if (given !== undefined) raw[name] = given;
    }
  }
  const config = ckpt.config ? fromFile(() => group.parse(raw, inFile(METADATA))) : group.parse(raw, asFlag);
  const names = Object.keys(shapes);
  const values = config as Record<string, unknown>;
  if (names.some((n) => values[camel(n)] !== shapes[n])) {
    throw new CheckpointError(
      `config says ${names.map((n) => `${n} ${String(values[camel(n)])}`).join(', ')} but the tensors have ${names.map((n) => shapes[n]).join(', ')}`,
    );
  }
  return config;
}

/** The training settings recorded in a model file (the defaults for a foreign file). */
export function trainingRecordOf(ckpt: LoadedCheckpoint, defaults: Partial<TrainingRecord> = {}): TrainingRecord {
  return fromFile(() => trainingRecordOptions.withDefaults(defaults).parse(ckpt.config ?? {}, inFile(METADATA)));
}

/** The record's entries in a checkpoint's `config` (the optimiser's only when it is not Adam, so Adam runs' files stay as they were). */
export function trainingRecordMetadata(record: TrainingRecord): Record<string, number | string> {
  const base = { batch_size: record.batchSize, lr: record.lr, num_epochs: record.numEpochs };
  return record.optimizer === 'adam' ? base : { ...base, optimizer: record.optimizer, momentum: record.momentum };
}

/**
 * Whether `bytes` are a model file of `model`: a seqrec checkpoint whose config names it, or a
 * foreign safetensors file whose tensors `looksLikeIt`.
 */
export function sniffCheckpoint(bytes: Uint8Array, model: string, looksLikeIt: (tensors: ReadonlyMap<string, unknown>) => boolean): boolean {
  try {
    const { tensors, metadata } = parseSafetensors(bytes);
    if (metadata.format === CHECKPOINT_FORMAT && metadata.config) {
      return (JSON.parse(metadata.config) as { model?: unknown }).model === model;
    }
    return looksLikeIt(tensors);
  } catch {
    return false;
  }
}

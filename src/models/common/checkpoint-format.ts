/**
 * seqrec checkpoints: one safetensors file that PyTorch can read.
 *
 * Layout
 * - Model tensors keep exactly the reference's PyTorch `state_dict` keys and shapes
 *   (`item_emb.weight`, `attention_layers.0.in_proj_weight`, …), stored as F32.
 * - Optional training state for resume: optimizer tensors under the prefix `optim.` (convention:
 *   `optim.exp_avg.<param>` and `optim.exp_avg_sq.<param>` for Adam's m and v), and a JSON
 *   `train_state` metadata entry (e.g. Adam's step count, epoch, lr-schedule position, the RNG's
 *   four state words). In PyTorch, drop them before loading the model:
 *   `sd = load_file(p); model.load_state_dict({k: v for k, v in sd.items() if not k.startswith("optim.")})`.
 * - `__metadata__` (strings only, as the format requires):
 *   `format` = "seqrec-checkpoint-1", `seqrec_version`, `config` (JSON hyper-parameters),
 *   `user_ids` / `item_ids` (JSON arrays of the original ids; index = dense id, index 0 is the
 *   padding entry ''), `train_state` (JSON), plus any caller-supplied `extra` entries.
 *
 * Loading also accepts a plain PyTorch state_dict converted to safetensors (no seqrec metadata):
 * `config` is then undefined and the caller must get the hyper-parameters elsewhere (flags).
 * In such foreign files `optim.*` names are not treated specially.
 */
import {
  parseSafetensors,
  joinChunks,
  serializeSafetensorsChunks,
  SafetensorsError,
  type SafetensorsTensor,
  type TensorToWrite,
} from '../../engine/safetensors.js';
import { UserError } from '../../core/errors.js';
import { VERSION } from '../../core/version.js';

/** A file that is not a valid checkpoint; the message is one line (and names the file when given). */
export class CheckpointError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

export const CHECKPOINT_FORMAT = 'seqrec-checkpoint-1';
export const OPTIM_PREFIX = 'optim.';
/** Metadata keys that seqrec owns; `extra` may not use them. */
export const RESERVED_METADATA_KEYS: readonly string[] = ['format', 'seqrec_version', 'config', 'user_ids', 'item_ids', 'train_state'];

export interface IdMaps {
  /** users[denseId] = original id; users[0] = '' (padding). */
  users: string[];
  /** items[denseId] = original id; items[0] = '' (padding). */
  items: string[];
}

export interface CheckpointData {
  /** Model tensors by PyTorch state_dict key. */
  tensors: ReadonlyMap<string, TensorToWrite>;
  /** Hyper-parameters (JSON-serializable object). */
  config: object;
  idMaps?: IdMaps;
  /** More string metadata; keys must not be reserved. */
  extra?: Record<string, string>;
  /** Optimizer tensors, stored as `optim.<name>`. */
  optimizer?: ReadonlyMap<string, TensorToWrite>;
  /** Resume state (JSON-serializable), stored as metadata `train_state`. */
  trainState?: unknown;
}

export interface LoadedCheckpoint {
  /** Model tensors (every tensor for a foreign file); `dtype` is the stored dtype, data is float32. */
  tensors: Map<string, SafetensorsTensor>;
  /** Parsed `config` metadata, or undefined when the file has none (e.g. a converted PyTorch state_dict). */
  config: Record<string, unknown> | undefined;
  idMaps?: IdMaps;
  /** Metadata entries other than the reserved ones. */
  extra: Record<string, string>;
  /** Optimizer tensors with the `optim.` prefix removed (seqrec checkpoints only). */
  optimizer?: Map<string, SafetensorsTensor>;
  trainState?: unknown;
  /** `format` metadata when it is a seqrec checkpoint, else undefined. */
  format?: string;
  seqrecVersion?: string;
}

/** This package's version (written into every checkpoint). */
export function seqrecVersion(): string {
  return VERSION;
}

function checkIdList(ids: unknown, what: string): string | undefined {
  if (!Array.isArray(ids) || !ids.every((x) => typeof x === 'string')) return `${what} must be an array of strings`;
  if (ids.length === 0 || ids[0] !== '') return `${what}[0] must be the padding entry ''`;
  const seen = new Set<string>();
  for (let i = 1; i < ids.length; i++) {
    if (ids[i] === '') return `${what}[${i}] is empty (only index 0, the padding, may be '')`;
    if (seen.has(ids[i])) return `${what} has duplicate id ${JSON.stringify(ids[i]).slice(0, 80)}`;
    seen.add(ids[i]);
  }
  return undefined;
}

/** The checkpoint as safetensors byte chunks (tensor chunks view the caller's arrays). */
export function encodeCheckpoint(ckpt: CheckpointData): Uint8Array[] {
  const { config, idMaps, extra, optimizer, trainState } = ckpt;
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new TypeError('saveCheckpoint: config must be a plain object');
  }
  const metadata: Record<string, string> = {
    format: CHECKPOINT_FORMAT,
    seqrec_version: seqrecVersion(),
    config: JSON.stringify(config),
  };
  if (idMaps) {
    for (const [list, key] of [
      [idMaps.users, 'idMaps.users'],
      [idMaps.items, 'idMaps.items'],
    ] as const) {
      const bad = checkIdList(list, key);
      if (bad) throw new TypeError(`saveCheckpoint: ${bad}`);
    }
    metadata.user_ids = JSON.stringify(idMaps.users);
    metadata.item_ids = JSON.stringify(idMaps.items);
  }
  if (trainState !== undefined) {
    const s = JSON.stringify(trainState);
    if (s === undefined) throw new TypeError('saveCheckpoint: trainState is not JSON-serializable');
    metadata.train_state = s;
  }
  for (const [k, v] of Object.entries(extra ?? {})) {
    if (RESERVED_METADATA_KEYS.includes(k)) throw new TypeError(`saveCheckpoint: extra metadata key "${k}" is reserved`);
    metadata[k] = v;
  }
  const all = new Map<string, TensorToWrite>();
  for (const [name, t] of ckpt.tensors) {
    if (name.startsWith(OPTIM_PREFIX)) {
      throw new TypeError(`saveCheckpoint: model tensor "${name}" uses the reserved prefix "${OPTIM_PREFIX}"`);
    }
    all.set(name, t);
  }
  for (const [name, t] of optimizer ?? []) all.set(OPTIM_PREFIX + name, t);
  return serializeSafetensorsChunks(all, metadata);
}

/** The checkpoint as one byte array (a model file's bytes). */
export function encodeCheckpointBytes(ckpt: CheckpointData): Uint8Array {
  return joinChunks(encodeCheckpoint(ckpt));
}

const where = (path: string | undefined) => (path ? `${path}: ` : '');

function corrupt(path: string | undefined, why: string): CheckpointError {
  return new CheckpointError(`${where(path)}not a valid seqrec checkpoint: ${why}`);
}

function parseJsonMeta(path: string | undefined, metadata: Record<string, string>, key: string): unknown {
  try {
    return JSON.parse(metadata[key]);
  } catch {
    throw corrupt(path, `metadata "${key}" is not valid JSON`);
  }
}

/** Decodes checkpoint bytes; `path`, when given, names the file in error messages. */
export function decodeCheckpoint(bytes: Uint8Array, path?: string): LoadedCheckpoint {
  let parsed: ReturnType<typeof parseSafetensors>;
  try {
    parsed = parseSafetensors(bytes);
  } catch (e) {
    if (e instanceof SafetensorsError) throw new CheckpointError(`${where(path)}not a valid safetensors checkpoint: ${e.message}`);
    throw e;
  }
  const { tensors, metadata } = parsed;
  const has = (k: string) => Object.hasOwn(metadata, k);
  // a NaN or ±Infinity weight would make every score NaN, which ranks as a perfect model
  for (const [name, t] of tensors) {
    const d = t.data;
    for (let i = 0; i < d.length; i++) {
      if (d[i] - d[i] !== 0) throw corrupt(path, `tensor "${name}" holds ${d[i]} (element ${i})`);
    }
  }

  let format: string | undefined;
  if (has('format') && metadata.format.startsWith('seqrec-checkpoint-')) {
    if (metadata.format !== CHECKPOINT_FORMAT) {
      throw new CheckpointError(`${where(path)}checkpoint format "${metadata.format}" is not supported (this seqrec reads ${CHECKPOINT_FORMAT})`);
    }
    format = metadata.format;
  }
  // Foreign files (e.g. Hugging Face's {"format": "pt"}) keep all their metadata in `extra`.
  const reserved = format !== undefined ? RESERVED_METADATA_KEYS : RESERVED_METADATA_KEYS.filter((k) => k !== 'format' && k !== 'seqrec_version');

  let config: Record<string, unknown> | undefined;
  if (has('config')) {
    const c = parseJsonMeta(path, metadata, 'config');
    if (typeof c !== 'object' || c === null || Array.isArray(c)) throw corrupt(path, 'metadata "config" is not a JSON object');
    config = c as Record<string, unknown>;
  }

  let idMaps: IdMaps | undefined;
  if (has('user_ids') || has('item_ids')) {
    if (!has('user_ids') || !has('item_ids')) throw corrupt(path, 'it has only one of user_ids and item_ids');
    const users = parseJsonMeta(path, metadata, 'user_ids');
    const items = parseJsonMeta(path, metadata, 'item_ids');
    const bad = checkIdList(users, 'user_ids') ?? checkIdList(items, 'item_ids');
    if (bad) throw corrupt(path, bad);
    idMaps = { users: users as string[], items: items as string[] };
  }

  const trainState = has('train_state') ? parseJsonMeta(path, metadata, 'train_state') : undefined;

  const extra: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (!reserved.includes(k)) Object.defineProperty(extra, k, { value: v, enumerable: true, writable: true, configurable: true });
  }

  let model = tensors;
  let optimizer: Map<string, SafetensorsTensor> | undefined;
  if (format !== undefined) {
    model = new Map();
    for (const [name, t] of tensors) {
      if (name.startsWith(OPTIM_PREFIX)) {
        optimizer ??= new Map();
        optimizer.set(name.slice(OPTIM_PREFIX.length), t);
      } else {
        model.set(name, t);
      }
    }
  }

  const out: LoadedCheckpoint = { tensors: model, config, extra };
  if (idMaps) out.idMaps = idMaps;
  if (optimizer) out.optimizer = optimizer;
  if (trainState !== undefined) out.trainState = trainState;
  if (format !== undefined) {
    out.format = format;
    if (has('seqrec_version')) out.seqrecVersion = metadata.seqrec_version;
  }
  return out;
}

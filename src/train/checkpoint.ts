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
import { readFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as nodePath from 'node:path';
import { UserError } from '../cli/errors.js';
import {
  parseSafetensors,
  serializeSafetensorsChunks,
  SafetensorsError,
  type SafetensorsTensor,
  type TensorToWrite,
} from '../engine/safetensors.js';
import { writeFileAtomic, writeFileAtomicSync } from './atomic.js';

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

let cachedVersion: string | undefined;
/** This package's version, from package.json (works from src/ and dist/). */
export function seqrecVersion(): string {
  if (cachedVersion === undefined) {
    let v = 'unknown';
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
      if (typeof pkg.version === 'string') v = pkg.version;
    } catch {
      // keep 'unknown'
    }
    cachedVersion = v;
  }
  return cachedVersion;
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
    for (const [list, key] of [[idMaps.users, 'idMaps.users'], [idMaps.items, 'idMaps.items']] as const) {
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

function corrupt(path: string, why: string): UserError {
  return new UserError(`${path}: not a valid seqrec checkpoint: ${why}`);
}

function parseJsonMeta(path: string, metadata: Record<string, string>, key: string): unknown {
  try {
    return JSON.parse(metadata[key]);
  } catch {
    throw corrupt(path, `metadata "${key}" is not valid JSON`);
  }
}

/** Decodes checkpoint bytes; `path` only names the file in error messages. */
export function decodeCheckpoint(bytes: Uint8Array, path: string): LoadedCheckpoint {
  let parsed;
  try {
    parsed = parseSafetensors(bytes);
  } catch (e) {
    if (e instanceof SafetensorsError) throw new UserError(`${path}: not a valid safetensors checkpoint: ${e.message}`);
    throw e;
  }
  const { tensors, metadata } = parsed;
  const has = (k: string) => Object.prototype.hasOwnProperty.call(metadata, k);

  let format: string | undefined;
  if (has('format') && metadata.format.startsWith('seqrec-checkpoint-')) {
    if (metadata.format !== CHECKPOINT_FORMAT) {
      throw new UserError(
        `${path}: checkpoint format "${metadata.format}" is not supported (this seqrec reads ${CHECKPOINT_FORMAT})`,
      );
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

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

function writeError(path: string, e: unknown): unknown {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string') return e; // a bug, not a user error: rethrow unchanged
  if (code === 'ENOENT') return new UserError(`cannot write checkpoint ${path}: directory ${nodePath.dirname(path)} does not exist`);
  if (code === 'EISDIR') return new UserError(`cannot write checkpoint ${path}: it is a directory`);
  if (code === 'EACCES' || code === 'EPERM') return new UserError(`cannot write checkpoint ${path}: permission denied`);
  if (code === 'ENOSPC') return new UserError(`cannot write checkpoint ${path}: no space left on device`);
  return new UserError(`cannot write checkpoint ${path}: ${oneLine((e as Error).message)}`);
}

function readError(path: string, e: unknown): unknown {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string') return e;
  if (code === 'ENOENT') return new UserError(`checkpoint not found: ${path}`);
  if (code === 'EISDIR') return new UserError(`cannot read checkpoint ${path}: it is a directory`);
  if (code === 'EACCES' || code === 'EPERM') return new UserError(`cannot read checkpoint ${path}: permission denied`);
  return new UserError(`cannot read checkpoint ${path}: ${oneLine((e as Error).message)}`);
}

/**
 * Writes a checkpoint atomically (temp file + fsync + rename). File-system failures throw `UserError`.
 * The tensors are written from the caller's arrays without a copy: do not change them until this resolves.
 */
export async function saveCheckpoint(path: string, ckpt: CheckpointData): Promise<void> {
  const chunks = encodeCheckpoint(ckpt);
  try {
    await writeFileAtomic(path, chunks);
  } catch (e) {
    throw writeError(path, e);
  }
}

export function saveCheckpointSync(path: string, ckpt: CheckpointData): void {
  const chunks = encodeCheckpoint(ckpt);
  try {
    writeFileAtomicSync(path, chunks);
  } catch (e) {
    throw writeError(path, e);
  }
}

/** Reads a checkpoint; missing, unreadable or corrupt files throw a one-line `UserError` naming `path`. */
export async function loadCheckpoint(path: string): Promise<LoadedCheckpoint> {
  let bytes: Uint8Array;
  try {
    bytes = await fsp.readFile(path);
  } catch (e) {
    throw readError(path, e);
  }
  return decodeCheckpoint(bytes, path);
}

export function loadCheckpointSync(path: string): LoadedCheckpoint {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw readError(path, e);
  }
  return decodeCheckpoint(bytes, path);
}

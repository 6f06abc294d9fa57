/**
 * Reading and writing seqrec checkpoints on disk (atomic writes, one-line errors naming the file).
 * The format itself lives in src/models/common/checkpoint-format.ts (no Node APIs, so browsers read it too).
 */
import { readFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as nodePath from 'node:path';
import { UserError } from '../core/errors.js';
import {
  CheckpointError,
  decodeCheckpoint as decodePure,
  encodeCheckpoint,
  type CheckpointData,
  type LoadedCheckpoint,
} from '../models/common/checkpoint-format.js';
import { writeFileAtomic, writeFileAtomicSync } from '../io/atomic.js';

export {
  CHECKPOINT_FORMAT,
  OPTIM_PREFIX,
  RESERVED_METADATA_KEYS,
  encodeCheckpoint,
  seqrecVersion,
  type CheckpointData,
  type IdMaps,
  type LoadedCheckpoint,
} from '../models/common/checkpoint-format.js';

/** Decodes checkpoint bytes; `path` only names the file in error messages (UserError when invalid). */
export function decodeCheckpoint(bytes: Uint8Array, path: string): LoadedCheckpoint {
  try {
    return decodePure(bytes, path);
  } catch (e) {
    if (e instanceof CheckpointError) throw new UserError(e.message);
    throw e;
  }
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

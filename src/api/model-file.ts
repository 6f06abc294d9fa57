import { readFile } from 'node:fs/promises';
import { UserError } from '../core/errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { Model } from '../models/contract.js';
import { modelFileBytes, specForFile } from '../train/model-file.js';
import { ensureKernels } from './options.js';

/** Writes the model file (atomically: a crash never leaves half a file). */
export async function saveModel(model: Model, path: string): Promise<void> {
  await writeFileAtomic(path, model.serialize());
}

/** How loadModel() reads a file. */
export interface LoadModelOptions {
  /** the model, when it should not be detected from the file */
  readonly model?: string;
  /** options a foreign file (a PyTorch state_dict: .pth, or converted to safetensors) cannot carry: numHeads, normFirst, dropoutRate */
  readonly overrides?: Readonly<Record<string, unknown>>;
}

/** Reads a model file written by saveModel() or `seqrec train`, or a PyTorch state_dict (.pth, or converted to safetensors). */
export async function loadModel(source: string | Uint8Array, options: LoadModelOptions = {}): Promise<Model> {
  const name = typeof source === 'string' ? source : 'the model file';
  let bytes: Uint8Array;
  try {
    bytes = typeof source === 'string' ? await readFile(source) : source;
  } catch (err) {
    throw new UserError(`${name}: cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  bytes = modelFileBytes(bytes, name);
  const spec = specForFile(bytes, name, options.model);
  ensureKernels();
  try {
    return spec.load(bytes, options.overrides ?? {});
  } catch (err) {
    throw new UserError(`${name}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

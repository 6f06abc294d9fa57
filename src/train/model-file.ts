/** Reading a model file of any registered model: the model named, or the one whose file it is. */
import { readFile } from 'node:fs/promises';
import { UserError } from '../core/errors.js';
import { defineOptions, str } from '../core/options.js';
import type { LoadedSplit } from '../data/types.js';
import type { HistoryBatch, Scorer } from '../eval/types.js';
import type { AnyModelSpec, Model } from '../models/contract.js';
import { detectModel, modelNames } from '../models/registry.js';
import { resolveModel } from './request.js';

/** The spec of a model file's bytes: `name` when given, else the one whose sniff() accepts them. */
export function specForFile(bytes: Uint8Array, path: string, name?: string): AnyModelSpec {
  if (name !== undefined) return resolveModel(name);
  const spec = detectModel(bytes);
  if (!spec)
    throw new UserError(`${path}: not a model file seqrec knows (${modelNames().join(', ')}), or a damaged one; with --model it says what is wrong`);
  return spec;
}

/**
 * Reads and parses a model file; errors name the file. `overrides` are options a foreign file
 * (a converted PyTorch state_dict) cannot carry.
 */
export async function loadModelFile(
  path: string,
  name?: string,
  overrides: Readonly<Record<string, unknown>> = {},
): Promise<{ spec: AnyModelSpec; model: Model }> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(`--state_dict_path: cannot read ${path}${code ? ` (${code})` : ''}`);
  }
  const spec = specForFile(bytes, path, name);
  try {
    return { spec, model: spec.load(bytes, overrides) };
  } catch (err) {
    throw new UserError(`${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The model's items must be the dataset's (same dense ids for the same original ids). */
export function checkSameItems(model: Model, loaded: LoadedSplit): void {
  const a = model.items.toRaw;
  const b = loaded.data.items.toRaw;
  if (a.length !== b.length) {
    throw new UserError(`--dataset ${loaded.path}: ${b.length - 1} items, the model was trained on ${a.length - 1}`);
  }
  for (let i = 1; i < a.length; i++) {
    if (a[i] !== b[i]) throw new UserError(`--dataset ${loaded.path}: item ${i} is "${b[i]}" there and "${a[i]}" in the model`);
  }
}

/**
 * The model's scorer for evaluating on `loaded`. A scorer that reads users (Scorer.usesUsers) reads
 * them by the model's dense ids: it gets each of the dataset's users as the model's user of the same
 * original id, and a user the model does not know as 0 (scored as a history of no known user). Any
 * other scorer, or a dataset whose users are the model's, is used as it is.
 */
export function scorerForDataset(model: Model, loaded: LoadedSplit): Scorer {
  const { scorer } = model;
  const known = model.users?.toIndex;
  if (!scorer.usesUsers || !known) return scorer;
  const toModel = Int32Array.from(loaded.data.users.toRaw, (id, u) => (u === 0 ? 0 : (known.get(id) ?? 0)));
  if (toModel.every((m, u) => m === u)) return scorer;
  const remap = (batch: HistoryBatch): HistoryBatch => ({ ...batch, users: batch.users.map((u) => toModel[u] ?? 0) });
  return {
    maxlen: scorer.maxlen,
    itemNum: scorer.itemNum,
    usesUsers: true,
    scoreCandidates: (batch, candidates, numCandidates) => scorer.scoreCandidates(remap(batch), candidates, numCandidates),
    scoreAll: (batch, out) => scorer.scoreAll(remap(batch), out),
  };
}

/** The options naming a model file: the file, and its model when it should not be detected. */
export const modelFileOptions = defineOptions({
  state_dict_path: str({ help: 'the model file (required)', arg: 'file' }),
  model: str({ help: `the model: ${modelNames().join(' | ')} (default: detected from the file)`, arg: 'name' }),
});

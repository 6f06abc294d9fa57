/**
 * Reading a model file of any registered model: the model named, or the one whose file it is. A
 * PyTorch `.pth` state dict (the reference's `torch.save(model.state_dict(), path)`) is read by the
 * restricted unpickler of engine/pth.ts and then loaded like a safetensors state dict without seqrec
 * metadata: the tensors' shapes give the sizes, the flags (`foreignModelOptions`) what shapes cannot say.
 */
import { readFile } from 'node:fs/promises';
import { quote, UserError } from '../core/errors.js';
import { defineOptions, str } from '../core/options.js';
import type { LoadedSplit } from '../data/types.js';
import { isTorchFile, torchStateDictToSafetensors } from '../engine/pth.js';
import type { HistoryBatch, Scorer } from '../eval/types.js';
import { attentionOptions } from '../models/common/attention-options.js';
import { mhcOptions } from '../models/common/mhc-options.js';
import type { AnyModelSpec, Model } from '../models/contract.js';
import { detectModel, modelNames } from '../models/registry.js';
import { resolveModel } from './request.js';

/**
 * A model file's bytes as the model loaders read them: safetensors as they are, a PyTorch `.pth`
 * state dict converted to a safetensors state dict (no metadata). Errors name the file.
 */
export function modelFileBytes(bytes: Uint8Array, path: string): Uint8Array {
  if (!isTorchFile(bytes)) return bytes;
  try {
    return torchStateDictToSafetensors(bytes);
  } catch (err) {
    if (err instanceof UserError) throw new UserError(`${path}: ${err.message}`);
    throw err;
  }
}

/** The spec of a model file's bytes: `name` when given, else the one whose sniff() accepts them. */
export function specForFile(bytes: Uint8Array, path: string, name?: string): AnyModelSpec {
  if (name !== undefined) return resolveModel(name);
  const spec = detectModel(bytes);
  if (!spec)
    throw new UserError(`${path}: not a model file seqrec knows (${modelNames().join(', ')}), or a damaged one; with --model it says what is wrong`);
  return spec;
}

/**
 * Reads and parses a model file (seqrec safetensors, a PyTorch state dict as .pth or safetensors);
 * errors name the file, `source` the flag or argument that gave it. `overrides` are options a foreign
 * file (a PyTorch state_dict) cannot carry.
 */
export async function loadModelFile(
  path: string,
  name?: string,
  overrides: Readonly<Record<string, unknown>> = {},
  source = '--state_dict_path',
): Promise<{ spec: AnyModelSpec; model: Model }> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(`${source}: cannot read ${path}${code ? ` (${code})` : ''}`);
  }
  bytes = modelFileBytes(bytes, path);
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
    if (a[i] !== b[i]) throw new UserError(`--dataset ${loaded.path}: item ${i} is ${quote(b[i])} there and ${quote(a[i])} in the model`);
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
  state_dict_path: str({
    help: 'the model file (required): seqrec safetensors, or a PyTorch state dict (.pth, or converted to safetensors)',
    arg: 'file',
  }),
  model: str({ help: `the model: ${modelNames().join(' | ')} (default: detected from the file)`, arg: 'name' }),
});

/**
 * What a PyTorch state dict (a `.pth`, or one converted to safetensors) cannot say and a seqrec model
 * file records: as the reference, give the flags the model was trained with. A seqrec model file
 * ignores them.
 */
export const foreignModelOptions = attentionOptions.pick('num_heads', 'norm_first').with(mhcOptions.pick('mhc_sinkhorn_iter'));

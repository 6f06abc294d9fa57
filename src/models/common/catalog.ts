/**
 * A model's catalogue (contract.ts): from the data it is trained on, or from its checkpoint, where
 * the id maps and the users' histories (for `recommend --user` and `eval` without the dataset's ids)
 * are read and checked against the model, so that a damaged file is one clear error instead of an
 * "index out of range" or `undefined` item ids at recommendation time. And the network built from
 * the file's weights (withWeights).
 */
import { idMapFromSorted } from '../../data/ids.js';
import type { IdMap, Split } from '../../data/types.js';
import type { Module, TensorEntry } from '../../nn/module.js';
import type { Catalog } from '../contract.js';
import { CheckpointError, type LoadedCheckpoint } from './checkpoint-format.js';

/** The catalogue of the data a model is trained on: every user's whole history (train + valid + test). */
export function catalogOf(split: Split, withTimes: boolean): Catalog {
  const d = split.data;
  return withTimes && d.times
    ? { items: d.items, users: d.users, histories: d.seqs, historyTimes: d.times }
    : { items: d.items, users: d.users, histories: d.seqs };
}

/** An IdMap from a checkpoint's id list (index = dense id, [0] = '' padding). */
function idMapFrom(raw: string[]): IdMap {
  return idMapFromSorted(raw.slice(1));
}

function parseLists(ckpt: LoadedCheckpoint, key: string): unknown[][] | undefined {
  const text = ckpt.extra[key];
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CheckpointError(`metadata "${key}" is not valid JSON`);
  }
  if (!Array.isArray(value) || !value.every(Array.isArray)) throw new CheckpointError(`metadata "${key}" is not a list of lists`);
  return value as unknown[][];
}

/** The id maps and histories of `ckpt` for a model over items 1..itemNum. */
export function catalogFromCheckpoint(ckpt: LoadedCheckpoint, itemNum: number): Catalog {
  const ids = ckpt.idMaps;
  if (ids && ids.items.length !== itemNum + 1) {
    throw new CheckpointError(`metadata "item_ids" lists ${ids.items.length - 1} items but item_emb.weight has ${itemNum}`);
  }
  const items = ids ? idMapFrom(ids.items) : idMapFrom(['', ...Array.from({ length: itemNum }, (_, i) => String(i + 1))]);
  const out: { items: IdMap; users?: IdMap; histories?: Int32Array[]; historyTimes?: Float64Array[] } = { items };
  if (ids) out.users = idMapFrom(ids.users);

  const histories = parseLists(ckpt, 'user_histories');
  if (histories) {
    if (out.users && histories.length !== out.users.toRaw.length) {
      throw new CheckpointError(`metadata "user_histories" has ${histories.length - 1} users but "user_ids" ${out.users.toRaw.length - 1}`);
    }
    out.histories = histories.map((h, u) => {
      for (const it of h) {
        if (!(Number.isInteger(it) && (it as number) >= 1 && (it as number) <= itemNum)) {
          throw new CheckpointError(`metadata "user_histories": user ${u} has item ${JSON.stringify(it)}, not in 1..${itemNum}`);
        }
      }
      return Int32Array.from(h as number[]);
    });
  }
  const times = parseLists(ckpt, 'user_times');
  if (times) {
    if (!out.histories || times.length !== out.histories.length || times.some((t, u) => t.length !== out.histories![u].length)) {
      throw new CheckpointError('metadata "user_times" does not match "user_histories"');
    }
    out.historyTimes = times.map((t, u) => {
      for (const x of t) {
        if (typeof x !== 'number' || !Number.isFinite(x)) throw new CheckpointError(`metadata "user_times": user ${u} has time ${JSON.stringify(x)}`);
      }
      return Float64Array.from(t as number[]);
    });
  }
  return out;
}

/**
 * A freshly built model with the file's weights, in evaluation mode; when they do not fit, the model's
 * (wasm) memory is handed back before the error goes on.
 */
export function withWeights<M extends Module>(model: M, tensors: ReadonlyMap<string, TensorEntry>): M {
  try {
    model.loadStateDict(tensors);
  } catch (err) {
    model.dispose();
    throw err;
  }
  model.eval();
  return model;
}

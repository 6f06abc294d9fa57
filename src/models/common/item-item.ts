/**
 * What the item-item linear models (EASE, SLIM) share: the training matrix A (users × items, 0/1:
 * the set of each user's TRAIN items), scoring a history as its indicator row times an item-item
 * weight matrix (scores_j = Σ_{i ∈ history} w_ij; the order of the history is ignored), the memory
 * check that refuses a fit that would not fit, and the model file (safetensors: the weights as F32
 * tensors, the settings and the catalogue in the header's metadata).
 */
import { UserError } from '../../core/errors.js';
import type { IdMap, Split } from '../../data/types.js';
import { parseSafetensors, serializeSafetensors, type SafetensorsTensor, type TensorToWrite } from '../../engine/safetensors.js';
import type { HistoryBatch, Scorer } from '../../eval/types.js';
import type { Catalog, Model } from '../contract.js';

/** A (users × items) 0/1 matrix in CSR: the items (1-based, sorted, unique) of row r are items[indptr[r]..indptr[r+1]). */
export interface ItemSets {
  readonly rows: number;
  readonly itemNum: number;
  readonly indptr: Int32Array;
  readonly items: Int32Array;
}

/** A: each user's set of training items (users without training items give empty rows). */
export function trainItemSets(split: Split): ItemSets {
  const { itemNum, userNum } = split.data;
  const indptr = new Int32Array(userNum + 2);
  const parts: Int32Array[] = [];
  let nnz = 0;
  for (let u = 0; u <= userNum; u++) {
    const s = u === 0 ? undefined : split.train[u];
    const uniq = s && s.length > 0 ? Int32Array.from(new Set(s)).sort() : new Int32Array(0);
    parts.push(uniq);
    nnz += uniq.length;
    indptr[u + 1] = nnz;
  }
  const items = new Int32Array(nnz);
  let at = 0;
  for (const p of parts) {
    items.set(p, at);
    at += p.length;
  }
  return { rows: userNum + 1, itemNum, indptr, items };
}

/** The longest history in the data (the scorers read histories up to this length). */
export function longestHistory(split: Split): number {
  let m = 1;
  for (const s of split.data.seqs) if (s && s.length > m) m = s.length;
  return m;
}

/** Each item's training popularity: the number of users with it among their train items ([0] = 0). */
export function trainPopularity(sets: ItemSets): Float32Array {
  const pop = new Float32Array(sets.itemNum + 1);
  for (let x = 0; x < sets.items.length; x++) pop[sets.items[x]]++;
  return pop;
}

/** The largest tie-breaking offset (the most popular item's), far below the weights' scale. */
export const TIE_SCALE = 1e-7;

/**
 * An item-item model with its catalogue (what `recommend` needs): the part EASE and SLIM share; each
 * adds how it fits, describes and serialises its weights.
 */
export abstract class ItemItemModel<S extends ItemItemScorer> implements Model {
  abstract readonly name: string;
  readonly items: Catalog['items'];
  readonly users: Catalog['users'];
  readonly histories: Catalog['histories'];

  /** `label` and `weights` name the model and its matrix in the error for a catalogue of another size. */
  constructor(
    readonly scorer: S,
    catalog: Catalog,
    label: string,
    weights: string,
  ) {
    if (catalog.items.toRaw.length !== scorer.itemNum + 1) {
      throw new Error(`${label}: item map has ${catalog.items.toRaw.length - 1} items, ${weights} ${scorer.itemNum}`);
    }
    this.items = catalog.items;
    this.users = catalog.users;
    this.histories = catalog.histories;
  }

  abstract describe(): Record<string, unknown>;
  abstract serialize(): Uint8Array;

  dispose(): void {}
}

/**
 * A Scorer for scores_j = Σ_{i ∈ set(history)} w_ij: the history as the indicator row of its distinct
 * items (padding 0 and ids outside 1..itemNum ignored), times W. `addRow(i, out, off)` adds row i of
 * W to out[off + 0..itemNum].
 *
 * Ties: a sparse W gives most items exactly 0 (they never co-occur with the history), and the
 * evaluation protocols do not rank a tie above the held-out item, so a held-out item scored 0 would
 * count as ranked first. Every score therefore gets TIE_SCALE · popularity_j / max popularity added:
 * equal scores are ordered by training popularity (PopRec's order), and distinct ones (weights of
 * order 1e-3 and up, float32) keep theirs. A scorer whose sums grow with the history (many exact ties
 * far from 0, where float32's step exceeds the offset) scales them down (`historyScale`) and takes a
 * larger `tieScale`.
 */
export abstract class ItemItemScorer implements Scorer {
  /** the tie-breaking offsets, [itemNum+1] */
  protected readonly tie: Float32Array;
  /** the largest training popularity (0 for an empty catalogue) */
  protected readonly maxPopularity: number;

  constructor(
    readonly itemNum: number,
    readonly maxlen: number,
    /** training popularity of each item, [itemNum+1] */
    readonly popularity: Float32Array,
    /** the most popular item's offset */
    tieScale = TIE_SCALE,
  ) {
    if (popularity.length !== itemNum + 1) throw new Error(`item-item scorer: ${popularity.length} popularities for ${itemNum} items`);
    let max = 0;
    for (const p of popularity) if (p > max) max = p;
    this.maxPopularity = max;
    this.tie = new Float32Array(itemNum + 1);
    if (max > 0) for (let j = 1; j <= itemNum; j++) this.tie[j] = (tieScale * popularity[j]) / max;
  }

  protected abstract addRow(i: number, out: Float32Array, off: number): void;

  /** The factor on a history's summed rows, given its number of distinct items (1: the sum itself). */
  protected historyScale(_distinctItems: number): number {
    return 1;
  }

  /** out[off + j] = scale · Σ_{i ∈ history} W_ij + tie_j for j in 0..itemNum (unscaled: tie_j first, then the rows in order). */
  private scoreRow(items: readonly number[], out: Float32Array, off: number): void {
    const N1 = this.itemNum + 1;
    const scale = this.historyScale(items.length);
    if (scale === 1) {
      out.set(this.tie, off);
      for (const i of items) this.addRow(i, out, off);
      return;
    }
    out.fill(0, off, off + N1);
    for (const i of items) this.addRow(i, out, off);
    for (let j = 0; j < N1; j++) out[off + j] = out[off + j] * scale + this.tie[j];
  }

  /** The distinct items of history b. */
  protected historySet(batch: HistoryBatch, b: number): number[] {
    const L = batch.maxlen;
    const seen = new Set<number>();
    for (let t = 0; t < L; t++) {
      const i = batch.seqs[b * L + t];
      if (i >= 1 && i <= this.itemNum) seen.add(i);
    }
    return [...seen];
  }

  scoreAll(batch: HistoryBatch, out?: Float32Array): Float32Array {
    const N1 = this.itemNum + 1;
    const n = batch.batchSize * N1;
    const res = out && out.length >= n ? out.subarray(0, n) : new Float32Array(n);
    for (let b = 0; b < batch.batchSize; b++) this.scoreRow(this.historySet(batch, b), res, b * N1);
    return res;
  }

  scoreCandidates(batch: HistoryBatch, candidates: Int32Array, numCandidates: number): Float32Array {
    const N1 = this.itemNum + 1;
    const out = new Float32Array(batch.batchSize * numCandidates);
    const row = new Float32Array(N1);
    for (let b = 0; b < batch.batchSize; b++) {
      this.scoreRow(this.historySet(batch, b), row, 0);
      for (let c = 0; c < numCandidates; c++) {
        const j = candidates[b * numCandidates + c];
        out[b * numCandidates + c] = j >= 1 && j <= this.itemNum ? row[j] : 0;
      }
    }
    return out;
  }
}

const GB = 1e9;

/** Refuses a fit whose estimated peak memory exceeds `--memory_gb`, naming what helps. */
export function checkMemory(model: string, needBytes: number, memoryGb: number, what: string): void {
  if (needBytes <= memoryGb * GB) return;
  throw new UserError(
    `--model ${model} would need about ${needBytes >= 10 * GB ? (needBytes / GB).toFixed(0) : (needBytes / GB).toPrecision(2)} GB (${what}), above --memory_gb ${memoryGb}: ` +
      'reduce the catalogue (--min_item_count) or raise --memory_gb if the machine has the memory',
  );
}

// ---- model file ----------------------------------------------------------------------------------

export interface ItemItemFile {
  readonly config: Record<string, unknown>;
  readonly catalog: Catalog;
  readonly maxlen: number;
  readonly tensors: Map<string, SafetensorsTensor>;
}

/** The model file: `tensors` plus metadata format, config, maxlen, item/user ids and histories. */
export function writeItemItemFile(
  format: string,
  config: Record<string, unknown>,
  maxlen: number,
  catalog: Catalog,
  tensors: ReadonlyArray<TensorToWrite & { name: string }>,
): Uint8Array {
  const metadata: Record<string, string> = {
    format,
    config: JSON.stringify(config),
    maxlen: String(maxlen),
    item_ids: JSON.stringify(catalog.items.toRaw),
  };
  if (catalog.users) metadata.user_ids = JSON.stringify(catalog.users.toRaw);
  if (catalog.histories) metadata.user_histories = JSON.stringify(catalog.histories.map((h) => Array.from(h ?? [])));
  return serializeSafetensors(tensors, metadata);
}

function idMapFrom(toRaw: string[]): IdMap {
  const toIndex = new Map<string, number>();
  for (let i = 1; i < toRaw.length; i++) toIndex.set(toRaw[i], i);
  return { toIndex, toRaw };
}

function stringList(text: string | undefined, key: string, label: string): string[] {
  let v: unknown;
  try {
    v = JSON.parse(text ?? '');
  } catch {
    throw new UserError(`not a ${label} model file (metadata "${key}" is missing or not JSON)`);
  }
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new UserError(`${label} model file: metadata "${key}" is not a list of ids`);
  return v as string[];
}

/** Reads a file written by writeItemItemFile; `label` names the model in errors. */
export function readItemItemFile(bytes: Uint8Array, format: string, label: string): ItemItemFile {
  let parsed: ReturnType<typeof parseSafetensors>;
  try {
    parsed = parseSafetensors(bytes);
  } catch (e) {
    throw new UserError(`not a ${label} model file (${(e as Error).message})`);
  }
  const md = parsed.metadata;
  if (md.format !== format) throw new UserError(`not a ${label} model file (metadata "format" is ${JSON.stringify(md.format)}, not "${format}")`);
  let config: unknown;
  try {
    config = JSON.parse(md.config ?? '');
  } catch {
    throw new UserError(`${label} model file: metadata "config" is missing or not JSON`);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config))
    throw new UserError(`${label} model file: metadata "config" is not an object`);
  const maxlen = Number(md.maxlen);
  if (!(Number.isInteger(maxlen) && maxlen >= 1)) throw new UserError(`${label} model file: metadata "maxlen" is ${JSON.stringify(md.maxlen)}`);
  const itemIds = stringList(md.item_ids, 'item_ids', label);
  const itemNum = itemIds.length - 1;
  const catalog: { items: IdMap; users?: IdMap; histories?: Int32Array[] } = { items: idMapFrom(itemIds) };
  if (md.user_ids !== undefined) catalog.users = idMapFrom(stringList(md.user_ids, 'user_ids', label));
  if (md.user_histories !== undefined) {
    let v: unknown;
    try {
      v = JSON.parse(md.user_histories);
    } catch {
      throw new UserError(`${label} model file: metadata "user_histories" is not JSON`);
    }
    if (!Array.isArray(v)) throw new UserError(`${label} model file: metadata "user_histories" is not a list`);
    catalog.histories = v.map((h: unknown, u) => {
      if (!Array.isArray(h) || !h.every((i) => Number.isInteger(i) && i >= 1 && i <= itemNum)) {
        throw new UserError(`${label} model file: metadata "user_histories": user ${u} has an item outside 1..${itemNum}`);
      }
      return Int32Array.from(h as number[]);
    });
  }
  return { config: config as Record<string, unknown>, catalog, maxlen, tensors: parsed.tensors };
}

/** Whether `bytes` are a safetensors file whose metadata "format" is `format` (looks at the header only). */
export function sniffItemItemFile(bytes: Uint8Array, format: string): boolean {
  if (bytes.byteLength < 16) return false;
  // the whole JSON header (its metadata keys may come in any order, after a long config)
  const length = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (length < 2n || length > BigInt(bytes.byteLength - 8)) return false;
  const head = new TextDecoder().decode(bytes.subarray(8, 8 + Number(length)));
  return head.startsWith('{') && head.includes(`"format":"${format}"`);
}

/** A tensor of the file, with the shape the model expects. */
export function tensorOf(file: ItemItemFile, name: string, shape: readonly number[], label: string): Float32Array {
  const t = file.tensors.get(name);
  if (!t) throw new UserError(`${label} model file: tensor "${name}" is missing`);
  if (t.shape.length !== shape.length || t.shape.some((d, i) => shape[i] >= 0 && d !== shape[i])) {
    throw new UserError(
      `${label} model file: tensor "${name}" has shape [${t.shape.join(', ')}], expected [${shape.map((d) => (d < 0 ? '?' : d)).join(', ')}]`,
    );
  }
  return t.data;
}

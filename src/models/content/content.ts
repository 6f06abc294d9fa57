/**
 * Content-based recommendation: each item is the unit vector of its side features (data/features.ts),
 * every field weighted alike — a field's part of the vector has unit length, and the whole is divided
 * by √(fields the item has) — and a history scores item j as Σ_{i ∈ history} x_i · x_j = p · x_j with
 * p the sum of the history's item vectors: cosine similarity to the user's profile p, up to p's length,
 * which does not change the ranking. Items without features score 0 and, like all ties, are ordered by
 * training popularity. Nothing is learnt from the interactions but that popularity, so an item nobody
 * has touched is recommended as readily as any other.
 *
 * Discrete features make exact ties common (every item of a history's year scores the same), and the
 * protocols never rank a tie above the held-out item: the popularity order must survive float32. The
 * score is therefore the mean similarity p · x_j / |history| ∈ [0, 1], plus up to CONTENT_TIE_SCALE ·
 * popularity: the ranking by similarity, with similarities within CONTENT_TIE_SCALE of each other
 * ordered by popularity.
 *
 * With a popularity prior w (`--content_pop_weight`, default 0) the score is
 *   (1 − w) · p · x_j / |history|  +  w · ln(1 + pop_j) / ln(1 + max pop)
 * (pop_j: the users with item j in train), the usual blend of a content score with popularity.
 */
import { UserError } from '../../core/errors.js';
import type { FeatureMatrix, Split } from '../../data/types.js';
import type { Catalog } from '../contract.js';
import {
  ItemItemModel,
  ItemItemScorer,
  longestHistory,
  readItemItemFile,
  sniffItemItemFile,
  tensorOf,
  trainItemSets,
  trainPopularity,
  writeItemItemFile,
} from '../common/item-item.js';

export const CONTENT_FORMAT = 'seqrec-content';

/** Items' feature vectors, CSR by item (rows 0..itemNum; row 0 empty). */
export interface ItemVectors {
  readonly itemNum: number;
  readonly featureNum: number;
  readonly rowPtr: Int32Array;
  readonly idx: Int32Array;
  readonly val: Float32Array;
}

/** The items' unit vectors over the chosen fields (all when `fields` is empty). */
export function itemVectors(m: FeatureMatrix, fields: readonly string[]): ItemVectors {
  const known = m.fields.map((f) => f.name);
  for (const f of fields) {
    if (!known.includes(f)) throw new UserError(`--content_fields: no field ${JSON.stringify(f)} in ${m.source} (it has ${known.join(', ')})`);
  }
  const use = m.fields.map((f) => fields.length === 0 || fields.includes(f.name));
  const n = m.rowPtr.length - 2;
  const rowPtr = new Int32Array(n + 2);
  const idx: number[] = [];
  const val: number[] = [];
  for (let i = 1; i <= n; i++) {
    const byField = new Map<number, Array<[number, number]>>();
    for (let x = m.rowPtr[i]; x < m.rowPtr[i + 1]; x++) {
      const f = m.fieldOf[m.idx[x]];
      if (!use[f] || m.val[x] === 0) continue;
      const part = byField.get(f) ?? [];
      if (part.length === 0) byField.set(f, part);
      part.push([m.idx[x], m.val[x]]);
    }
    const scale = 1 / Math.sqrt(Math.max(1, byField.size));
    for (const part of byField.values()) {
      const norm = Math.hypot(...part.map(([, v]) => v));
      for (const [k, v] of part) {
        idx.push(k);
        val.push((v / norm) * scale);
      }
    }
    rowPtr[i + 1] = idx.length;
  }
  rowPtr[n + 1] = idx.length;
  return { itemNum: n, featureNum: m.names.length, rowPtr, idx: Int32Array.from(idx), val: Float32Array.from(val) };
}

/** The most popular item's tie-breaking offset: 2^-12 leaves float32 11 bits of popularity at scores up to 1. */
export const CONTENT_TIE_SCALE = 2 ** -12;

/** Scores a history as the mean of its items' cosine similarities to every item (see the file comment). */
export class ContentScorer extends ItemItemScorer {
  /** the same vectors by feature (CSC): feature f's items and weights */
  private readonly colPtr: Int32Array;
  private readonly colItem: Int32Array;
  private readonly colVal: Float32Array;

  constructor(
    readonly vectors: ItemVectors,
    maxlen: number,
    popularity: Float32Array,
    /** w, the popularity prior's weight in [0, 1] */
    readonly popWeight = 0,
  ) {
    super(vectors.itemNum, maxlen, popularity, CONTENT_TIE_SCALE);
    if (!(popWeight >= 0 && popWeight <= 1)) throw new UserError(`--content_pop_weight must be in [0, 1], got ${popWeight}`);
    const max = this.maxPopularity;
    if (popWeight > 0 && max > 0) for (let j = 1; j <= vectors.itemNum; j++) this.tie[j] += (popWeight * Math.log1p(popularity[j])) / Math.log1p(max);
    const { featureNum, rowPtr, idx, val } = vectors;
    this.colPtr = new Int32Array(featureNum + 1);
    for (const f of idx) this.colPtr[f + 1]++;
    for (let f = 0; f < featureNum; f++) this.colPtr[f + 1] += this.colPtr[f];
    const fill = this.colPtr.slice(0, featureNum);
    this.colItem = new Int32Array(idx.length);
    this.colVal = new Float32Array(idx.length);
    for (let i = 1; i <= vectors.itemNum; i++) {
      for (let x = rowPtr[i]; x < rowPtr[i + 1]; x++) {
        const at = fill[idx[x]]++;
        this.colItem[at] = i;
        this.colVal[at] = val[x];
      }
    }
  }

  /** x_i · x_j, the cosine similarity of two items. */
  similarity(i: number, j: number): number {
    const { rowPtr, idx, val } = this.vectors;
    let s = 0;
    for (let x = rowPtr[i]; x < rowPtr[i + 1]; x++) for (let y = rowPtr[j]; y < rowPtr[j + 1]; y++) if (idx[x] === idx[y]) s += val[x] * val[y];
    return s;
  }

  protected override historyScale(distinctItems: number): number {
    return distinctItems > 0 ? (1 - this.popWeight) / distinctItems : 1;
  }

  protected addRow(i: number, out: Float32Array, off: number): void {
    const { rowPtr, idx, val } = this.vectors;
    for (let x = rowPtr[i]; x < rowPtr[i + 1]; x++) {
      const f = idx[x];
      const w = val[x];
      for (let y = this.colPtr[f]; y < this.colPtr[f + 1]; y++) out[off + this.colItem[y]] += w * this.colVal[y];
    }
  }
}

export interface ContentSettings {
  /** the feature fields used (empty: all) */
  readonly fields: readonly string[];
  /** the popularity prior's weight w (0: none) */
  readonly popWeight?: number;
}

export class ContentModel extends ItemItemModel<ContentScorer> {
  readonly name = 'content';

  constructor(
    scorer: ContentScorer,
    readonly settings: ContentSettings,
    /** the feature names, for describing the model file */
    readonly featureNames: readonly string[],
    catalog: Catalog,
  ) {
    super(scorer, catalog, 'content', 'item vectors');
  }

  static fit(split: Split, settings: ContentSettings): ContentModel {
    const m = split.features?.items;
    if (!m) throw new UserError("--model content needs --item_features (a file of the items' features)");
    const vectors = itemVectors(m, settings.fields);
    const d = split.data;
    const scorer = new ContentScorer(vectors, longestHistory(split), trainPopularity(trainItemSets(split)), settings.popWeight ?? 0);
    return new ContentModel(scorer, settings, m.names, { items: d.items, users: d.users, histories: d.seqs });
  }

  describe(): Record<string, unknown> {
    const v = this.scorer.vectors;
    return {
      model: 'content',
      contentFields: this.settings.fields.join(','),
      contentPopWeight: this.scorer.popWeight,
      itemNum: v.itemNum,
      features: v.featureNum,
    };
  }

  serialize(): Uint8Array {
    const v = this.scorer.vectors;
    const rowLengths = new Float32Array(v.itemNum + 1);
    for (let i = 0; i <= v.itemNum; i++) rowLengths[i] = v.rowPtr[i + 1] - v.rowPtr[i];
    const config = { contentFields: this.settings.fields.join(','), contentPopWeight: this.scorer.popWeight, featureNames: this.featureNames };
    return writeItemItemFile(CONTENT_FORMAT, config, this.scorer.maxlen, this, [
      { name: 'X.row_lengths', shape: [v.itemNum + 1], data: rowLengths },
      { name: 'X.features', shape: [v.idx.length], data: Float32Array.from(v.idx) },
      { name: 'X.values', shape: [v.val.length], data: v.val },
      { name: 'popularity', shape: [v.itemNum + 1], data: this.scorer.popularity },
    ]);
  }

  static parse(bytes: Uint8Array): ContentModel {
    const f = readItemItemFile(bytes, CONTENT_FORMAT, 'content');
    const n = f.catalog.items.toRaw.length - 1;
    const names = f.config.featureNames;
    if (!Array.isArray(names) || !names.every((x) => typeof x === 'string'))
      throw new UserError('content model file: config "featureNames" is not a list of names');
    const lengths = tensorOf(f, 'X.row_lengths', [n + 1], 'content');
    const feats = tensorOf(f, 'X.features', [-1], 'content');
    const val = tensorOf(f, 'X.values', [feats.length], 'content');
    const rowPtr = new Int32Array(n + 2);
    for (let i = 0; i <= n; i++) rowPtr[i + 1] = rowPtr[i] + lengths[i];
    if (rowPtr[n + 1] !== feats.length) throw new UserError(`content model file: row lengths sum to ${rowPtr[n + 1]}, ${feats.length} features`);
    const idx = Int32Array.from(feats);
    for (const k of idx) if (!(k >= 0 && k < names.length)) throw new UserError(`content model file: feature ${k} outside 0..${names.length - 1}`);
    const fields = String(f.config.contentFields ?? '');
    const vectors: ItemVectors = { itemNum: n, featureNum: names.length, rowPtr, idx, val };
    const pop = tensorOf(f, 'popularity', [n + 1], 'content');
    const popWeight = Number(f.config.contentPopWeight ?? 0);
    if (!(popWeight >= 0 && popWeight <= 1))
      throw new UserError(`content model file: config "contentPopWeight" ${f.config.contentPopWeight} is not in [0, 1]`);
    const settings = { fields: fields === '' ? [] : fields.split(','), popWeight };
    return new ContentModel(new ContentScorer(vectors, f.maxlen, pop, popWeight), settings, names, f.catalog);
  }
}

export function looksLikeContent(bytes: Uint8Array): boolean {
  return sniffItemItemFile(bytes, CONTENT_FORMAT);
}

/**
 * Side features as a sparse matrix over the dataset's dense ids: each column of a feature file
 * (data/feature-files.ts) becomes a field of features, the way factorisation machines and two-tower
 * models read them:
 * - categorical: one feature per value (`gender=F`), weight 1;
 * - multi: one per value of `a|b|c`, weight 1 each;
 * - numeric: equal-frequency buckets of the values (at most NUMERIC_BUCKETS), one-hot (`age∈[25,31)`);
 * - text: TF-IDF over lower-cased words of two or more letters or digits that occur in at least two
 *   rows (idf = ln((1 + n) / (1 + df)) + 1), each row's field scaled to unit length.
 * A missing value gives its field no feature in that row.
 */
import { quote, UserError } from '../core/errors.js';
import type { FeatureRecords } from './feature-files.js';
import type { FeatureField, FeatureMatrix, IdMap } from './types.js';

export type { FeatureField, FeatureMatrix } from './types.js';

export const NUMERIC_BUCKETS = 8;
/** the largest text vocabulary per field (the most frequent words are kept) */
export const TEXT_VOCABULARY = 5000;

interface Encoded {
  names: string[];
  /** per record: (local feature, weight) pairs */
  rows: Array<Array<[number, number]>>;
}

function encodeCategorical(values: readonly string[], name: string, multi: boolean): Encoded {
  const index = new Map<string, number>();
  const rows = values.map((v) => {
    if (v === '') return [];
    const parts = multi ? [...new Set(v.split('|').map((x) => x.trim()))].filter((x) => x !== '') : [v];
    return parts.map((p): [number, number] => {
      let i = index.get(p);
      if (i === undefined) {
        i = index.size;
        index.set(p, i);
      }
      return [i, 1];
    });
  });
  return { names: [...index.keys()].map((k) => `${name}=${k}`), rows };
}

function encodeNumeric(values: readonly string[], name: string, where: (row: number) => string): Encoded {
  const nums = values.map((v, r) => {
    if (v === '') return Number.NaN;
    const x = Number(v);
    if (!Number.isFinite(x)) throw new UserError(`${where(r)}: ${name} ${quote(v)} is not a number`);
    return x;
  });
  const sorted = nums.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (sorted.length === 0) return { names: [], rows: values.map(() => []) };
  // equal-frequency cut points, each a distinct value (ties never split across buckets)
  const cuts: number[] = [];
  for (let b = 1; b < NUMERIC_BUCKETS; b++) {
    const c = sorted[Math.floor((b * sorted.length) / NUMERIC_BUCKETS)];
    if (c > sorted[0] && (cuts.length === 0 || c > cuts[cuts.length - 1])) cuts.push(c);
  }
  const edges = [sorted[0], ...cuts, sorted[sorted.length - 1]];
  const names = edges.slice(0, -1).map((lo, b) => (b === edges.length - 2 ? `${name}∈[${lo},${edges[b + 1]}]` : `${name}∈[${lo},${edges[b + 1]})`));
  const bucket = (x: number) => {
    let b = 0;
    while (b < cuts.length && x >= cuts[b]) b++;
    return b;
  };
  return { names, rows: nums.map((x) => (Number.isNaN(x) ? [] : [[bucket(x), 1]])) };
}

const WORD = /[\p{L}\p{N}]{2,}/gu;

function encodeText(values: readonly string[], name: string): Encoded {
  const tokens = values.map((v) => v.toLowerCase().match(WORD) ?? []);
  const df = new Map<string, number>();
  for (const t of tokens) for (const w of new Set(t)) df.set(w, (df.get(w) ?? 0) + 1);
  const kept = [...df.entries()]
    .filter(([, d]) => d >= 2)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, TEXT_VOCABULARY)
    .map(([w]) => w)
    .sort();
  const index = new Map(kept.map((w, i) => [w, i]));
  const n = values.length;
  const idf = kept.map((w) => Math.log((1 + n) / (1 + (df.get(w) ?? 0))) + 1);
  const rows = tokens.map((t) => {
    const tf = new Map<number, number>();
    for (const w of t) {
      const i = index.get(w);
      if (i !== undefined) tf.set(i, (tf.get(i) ?? 0) + 1);
    }
    const pairs = [...tf.entries()].map(([i, c]): [number, number] => [i, c * idf[i]]);
    const norm = Math.hypot(...pairs.map(([, x]) => x));
    return pairs.map(([i, x]): [number, number] => [i, x / norm]);
  });
  return { names: kept.map((w) => `${name}:${w}`), rows };
}

/**
 * The records' features over the dense ids of `ids` (the dataset's users or items). Ids the dataset
 * does not have are counted (`unmatched`), not encoded; dense ids without a row have no features.
 */
export function featureMatrix(records: FeatureRecords, ids: IdMap): FeatureMatrix {
  const where = (r: number) => `${records.source}:${records.records[r].line}`;
  const fields: FeatureField[] = [];
  const names: string[] = [];
  const encoded: Encoded[] = [];
  records.columns.forEach((c, k) => {
    const values = records.records.map((r) => r.values[k] ?? '');
    const e =
      c.kind === 'numeric'
        ? encodeNumeric(values, c.name, where)
        : c.kind === 'text'
          ? encodeText(values, c.name)
          : encodeCategorical(values, c.name, c.kind === 'multi');
    fields.push({ name: c.name, kind: c.kind, start: names.length, size: e.names.length });
    names.push(...e.names);
    encoded.push(e);
  });
  const n = ids.toRaw.length - 1;
  const rowOf = new Int32Array(n + 1).fill(-1);
  let unmatched = 0;
  records.records.forEach((r, i) => {
    const d = ids.toIndex.get(r.id);
    if (d === undefined) unmatched++;
    else rowOf[d] = i;
  });
  const rowPtr = new Int32Array(n + 2);
  const idx: number[] = [];
  const val: number[] = [];
  let covered = 0;
  for (let d = 0; d <= n; d++) {
    const i = rowOf[d];
    if (d > 0 && i >= 0) {
      const before = idx.length;
      encoded.forEach((e, k) => {
        for (const [f, w] of e.rows[i]) {
          idx.push(fields[k].start + f);
          val.push(w);
        }
      });
      if (idx.length > before) covered++;
    }
    rowPtr[d + 1] = idx.length;
  }
  const fieldOf = new Int32Array(names.length);
  for (const [k, f] of fields.entries()) fieldOf.fill(k, f.start, f.start + f.size);
  return { source: records.source, fields, names, fieldOf, rowPtr, idx: Int32Array.from(idx), val: Float32Array.from(val), covered, unmatched };
}

/** One line per field for `data stats`: its kind and number of features, and the coverage of the ids. */
export function describeFeatures(m: FeatureMatrix, entity: 'users' | 'items', total: number): string {
  const head = `${entity} features from ${m.source}: ${m.names.length} features in ${m.fields.length} fields, ${m.covered} of ${total} ${entity} covered${m.unmatched > 0 ? `, ${m.unmatched} rows for ids not in the data` : ''}`;
  return [head, ...m.fields.map((f) => `  ${f.name.padEnd(14)} ${f.kind.padEnd(11)} ${f.size} features`)].join('\n');
}

/**
 * Side-feature rows as a model keeps them (data/features.ts's matrix without its names) and as its
 * model file carries them (metadata "side_features", JSON), so that a loaded model scores without
 * the feature files it was trained with.
 */
import { UserError } from '../../core/errors.js';
import type { Bags } from '../../engine/bag-ops.js';
import type { FeatureMatrix, SideFeatures } from '../../data/types.js';

/** CSR rows over dense ids (row 0 empty): row r's features idx[rowPtr[r] ..] with weights val[..]. */
export interface FeatureRows {
  readonly featureNum: number;
  /** each feature's field (0 .. fieldNum − 1), for field-aware models */
  readonly fieldOf: Int32Array;
  readonly fieldNum: number;
  readonly rowPtr: Int32Array;
  readonly idx: Int32Array;
  readonly val: Float32Array;
}

export interface ModelFeatures {
  readonly users?: FeatureRows;
  readonly items?: FeatureRows;
}

/** Whether `id` has a row (ids 1 .. rows − 1; 0 and ids beyond the file have no features). */
export function hasRow(rows: FeatureRows, id: number): boolean {
  return id >= 1 && id < rows.rowPtr.length - 1;
}

/**
 * How many of `ids` read each feature (a feature in the rows of an id counted once per occurrence of
 * the id), as one bag over the features read: { ptr: [0, n], idx: the features, val: their counts }.
 */
export function featureReads(rows: FeatureRows, ids: Int32Array): { ptr: Int32Array; idx: Int32Array; val: Float32Array } {
  const counts = new Float32Array(rows.featureNum);
  for (const id of ids) {
    if (!hasRow(rows, id)) continue;
    for (let x = rows.rowPtr[id]; x < rows.rowPtr[id + 1]; x++) counts[rows.idx[x]]++;
  }
  const idx: number[] = [];
  for (let f = 0; f < counts.length; f++) if (counts[f] > 0) idx.push(f);
  return { ptr: Int32Array.from([0, idx.length]), idx: Int32Array.from(idx), val: Float32Array.from(idx, (f) => counts[f]) };
}

function rowsOf(m: FeatureMatrix | undefined): FeatureRows | undefined {
  return m && { featureNum: m.names.length, fieldOf: m.fieldOf, fieldNum: m.fields.length, rowPtr: m.rowPtr, idx: m.idx, val: m.val };
}

/** The rows of the side features a model reads (`reads`: which). */
export function modelFeatures(f: SideFeatures | undefined, reads: readonly ('users' | 'items')[]): ModelFeatures {
  const users = reads.includes('users') ? rowsOf(f?.users) : undefined;
  const items = reads.includes('items') ? rowsOf(f?.items) : undefined;
  return { ...(users ? { users } : {}), ...(items ? { items } : {}) };
}

const plain = (r: FeatureRows) => ({
  featureNum: r.featureNum,
  fieldNum: r.fieldNum,
  fieldOf: Array.from(r.fieldOf),
  rowPtr: Array.from(r.rowPtr),
  idx: Array.from(r.idx),
  val: Array.from(r.val),
});

export function encodeModelFeatures(f: ModelFeatures): string {
  return JSON.stringify({ ...(f.users ? { users: plain(f.users) } : {}), ...(f.items ? { items: plain(f.items) } : {}) });
}

function decodeRows(v: unknown, what: string): FeatureRows | undefined {
  if (v === undefined) return undefined;
  const r = v as Record<string, unknown>;
  const ok =
    typeof r === 'object' &&
    r !== null &&
    Number.isInteger(r.featureNum) &&
    Number.isInteger(r.fieldNum) &&
    [r.fieldOf, r.rowPtr, r.idx, r.val].every((a) => Array.isArray(a) && a.every((x) => typeof x === 'number' && Number.isFinite(x)));
  if (!ok) throw new UserError(`model file: metadata "side_features" ${what} is not feature rows`);
  const featureNum = r.featureNum as number;
  const fieldNum = r.fieldNum as number;
  const fieldOf = Int32Array.from(r.fieldOf as number[]);
  const rowPtr = Int32Array.from(r.rowPtr as number[]);
  const idx = Int32Array.from(r.idx as number[]);
  const val = Float32Array.from(r.val as number[]);
  const last = rowPtr[rowPtr.length - 1];
  const ordered = rowPtr.every((p, i) => i === 0 || p >= rowPtr[i - 1]);
  if (
    rowPtr.length < 2 ||
    rowPtr[0] !== 0 ||
    !ordered ||
    last !== idx.length ||
    idx.length !== val.length ||
    idx.some((k) => k < 0 || k >= featureNum)
  ) {
    throw new UserError(`model file: metadata "side_features" ${what} rows are inconsistent`);
  }
  return { featureNum, fieldOf, fieldNum, rowPtr, idx, val };
}

export function decodeModelFeatures(text: string | undefined): ModelFeatures {
  if (text === undefined) return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new UserError('model file: metadata "side_features" is not JSON');
  }
  const o = (v ?? {}) as Record<string, unknown>;
  const users = decodeRows(o.users, 'users');
  const items = decodeRows(o.items, 'items');
  return { ...(users ? { users } : {}), ...(items ? { items } : {}) };
}

/** The rows of `ids` as bags (their features; `square`: the weights squared, for Σ ‖v_g‖² x_g²). */
export function bagsOf(rows: FeatureRows | undefined, ids: Int32Array, square = false): Bags {
  const ptr = new Int32Array(ids.length + 1);
  if (!rows) return { ptr, idx: new Int32Array(0), val: new Float32Array(0) };
  for (let m = 0; m < ids.length; m++) {
    const id = ids[m];
    ptr[m + 1] = ptr[m] + (hasRow(rows, id) ? rows.rowPtr[id + 1] - rows.rowPtr[id] : 0);
  }
  const idx = new Int32Array(ptr[ids.length]);
  const val = new Float32Array(ptr[ids.length]);
  for (let m = 0; m < ids.length; m++) {
    const id = ids[m];
    if (!hasRow(rows, id)) continue;
    const a = rows.rowPtr[id];
    const n = rows.rowPtr[id + 1] - a;
    idx.set(rows.idx.subarray(a, a + n), ptr[m]);
    for (let x = 0; x < n; x++) val[ptr[m] + x] = square ? rows.val[a + x] ** 2 : rows.val[a + x];
  }
  return { ptr, idx, val };
}

/**
 * Reading user and item feature files into records: one row per id, each column's raw value with the
 * kind it is encoded as (data/features.ts). Known layouts are recognised by file name:
 * MovieLens-100k `u.user` (id|age|gender|occupation|zip) and `u.item` (id|title|release|video|url|19 genre
 * flags, Latin-1), MovieLens-1M `users.dat` (UserID::Gender::Age::Occupation::Zip) and `movies.dat`
 * (MovieID::Title::Genre|Genre, Latin-1). Any other file is CSV, TSV (with a header) or JSONL whose
 * columns are declared, e.g. `movieId:id,genres:multi,title:text,year:numeric,country:categorical`.
 */
import { basename, dirname, join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { quote, UserError } from '../core/errors.js';
import { splitDelimited } from './formats.js';
import { readLines } from './lines.js';

import type { FeatureKind } from './types.js';

export type { FeatureKind } from './types.js';

/** How a column becomes features: a one-hot value, several (`a|b|c`), a bucketed number, or TF-IDF words. */
export const FEATURE_KINDS: readonly FeatureKind[] = ['categorical', 'multi', 'numeric', 'text'];

export interface FeatureColumn {
  readonly name: string;
  readonly kind: FeatureKind;
}

/** One id's raw values, in the columns' order ('' for a missing value; a multi column's values joined by '|'). */
export interface FeatureRecord {
  readonly id: string;
  readonly line: number;
  readonly values: readonly string[];
}

export interface FeatureRecords {
  readonly source: string;
  /** the layout it was read as: a known one's name, or csv / tsv / jsonl */
  readonly layout: string;
  readonly columns: readonly FeatureColumn[];
  readonly records: readonly FeatureRecord[];
}

/** The MovieLens-100k genres, in u.item's flag order (u.genre, when it lies beside u.item, is read instead). */
const ML100K_GENRES = [
  'unknown',
  'Action',
  'Adventure',
  'Animation',
  "Children's",
  'Comedy',
  'Crime',
  'Documentary',
  'Drama',
  'Fantasy',
  'Film-Noir',
  'Horror',
  'Musical',
  'Mystery',
  'Romance',
  'Sci-Fi',
  'Thriller',
  'War',
  'Western',
];

interface KnownLayout {
  readonly name: string;
  readonly separator: string;
  readonly fields: number;
  readonly encoding: 'utf8' | 'latin1';
  readonly columns: readonly FeatureColumn[];
  /** the raw fields of a line → the columns' values (the id first) */
  readonly values: (fields: string[], source: string) => string[];
}

const zipRegion = (zip: string) => (/^\d/.test(zip) ? zip[0] : zip === '' ? '' : 'other');
const yearOf = (text: string) => /(\d{4})\s*\)?\s*$/.exec(text.trim())?.[1] ?? '';

function ml100kGenres(source: string): string[] {
  const beside = join(dirname(source), 'u.genre');
  if (!existsSync(beside)) return ML100K_GENRES;
  const names: string[] = [];
  for (const line of readFileSync(beside, 'latin1').split(/\r?\n/)) {
    const m = /^(.*)\|(\d+)$/.exec(line.trim());
    if (m) names[Number(m[2])] = m[1];
  }
  return names.length === ML100K_GENRES.length && names.every((n) => n !== undefined) ? names : ML100K_GENRES;
}

const KNOWN: Readonly<Record<string, KnownLayout>> = {
  'u.user': {
    name: 'MovieLens-100k u.user',
    separator: '|',
    fields: 5,
    encoding: 'utf8',
    columns: [
      { name: 'age', kind: 'numeric' },
      { name: 'gender', kind: 'categorical' },
      { name: 'occupation', kind: 'categorical' },
      { name: 'zip_region', kind: 'categorical' },
    ],
    values: (f) => [f[0], f[1], f[2], f[3], zipRegion(f[4])],
  },
  'u.item': {
    name: 'MovieLens-100k u.item',
    separator: '|',
    fields: 24,
    encoding: 'latin1',
    columns: [
      { name: 'title', kind: 'text' },
      { name: 'year', kind: 'numeric' },
      { name: 'genres', kind: 'multi' },
    ],
    values: (f, source) => {
      const genres = ml100kGenres(source);
      const on = f.slice(5).flatMap((flag, g) => (flag === '1' ? [genres[g]] : []));
      return [f[0], f[1].replace(/\s*\(\d{4}\)\s*$/, ''), yearOf(f[2]), on.join('|')];
    },
  },
  'users.dat': {
    name: 'MovieLens-1M users.dat',
    separator: '::',
    fields: 5,
    encoding: 'utf8',
    columns: [
      { name: 'gender', kind: 'categorical' },
      { name: 'age_group', kind: 'categorical' },
      { name: 'occupation', kind: 'categorical' },
      { name: 'zip_region', kind: 'categorical' },
    ],
    values: (f) => [f[0], f[1], f[2], f[3], zipRegion(f[4])],
  },
  'movies.dat': {
    name: 'MovieLens-1M movies.dat',
    separator: '::',
    fields: 3,
    encoding: 'latin1',
    columns: [
      { name: 'title', kind: 'text' },
      { name: 'year', kind: 'numeric' },
      { name: 'genres', kind: 'multi' },
    ],
    values: (f) => [f[0], f[1].replace(/\s*\(\d{4}\)\s*$/, ''), yearOf(f[1]), f[2]],
  },
};

/** Parses a declaration `id_col:id,name:kind,…` (the flag's name for the errors). */
export function parseColumnDeclaration(text: string, flag: string): { id: string; columns: FeatureColumn[] } {
  let id: string | undefined;
  const columns: FeatureColumn[] = [];
  for (const part of text.split(',')) {
    const m = /^\s*([^:]+?)\s*:\s*([a-z]+)\s*$/.exec(part);
    if (!m) throw new UserError(`${flag}: expected name:kind pairs separated by commas, got ${quote(part.trim())}`);
    const [, name, kind] = m;
    if (kind === 'id') {
      if (id !== undefined) throw new UserError(`${flag}: two id columns (${id}, ${name})`);
      id = name;
    } else if ((FEATURE_KINDS as readonly string[]).includes(kind)) columns.push({ name, kind: kind as FeatureKind });
    else throw new UserError(`${flag}: unknown kind ${quote(kind)} for ${name} (expected id, ${FEATURE_KINDS.join(', ')})`);
  }
  if (id === undefined) throw new UserError(`${flag}: no id column (declare one as name:id)`);
  if (columns.length === 0) throw new UserError(`${flag}: no feature column besides the id`);
  return { id, columns };
}

/**
 * Reads a feature file: a known MovieLens layout by its name, else CSV/TSV/JSONL by extension with the
 * declared columns (`declaration`, named by `flag` in errors). Every error names the file and line.
 */
export async function readFeatureFile(path: string, flag: string, declaration?: string): Promise<FeatureRecords> {
  const known = KNOWN[basename(path).replace(/\.gz$/i, '')];
  if (known && declaration === undefined) return readKnown(path, known);
  if (declaration === undefined) {
    throw new UserError(
      `${flag} ${path}: not a known layout (${Object.keys(KNOWN).join(', ')}); declare its columns with ${flag}_columns, e.g. "item_id:id,genres:multi,title:text"`,
    );
  }
  const declared = parseColumnDeclaration(declaration, `${flag}_columns`);
  return /\.jsonl?(\.gz)?$/i.test(path) ? readJsonl(path, declared) : readDelimited(path, declared, /\.tsv(\.gz)?$/i.test(path) ? '\t' : ',');
}

function checkedId(id: string, path: string, lineNo: number, seen: Set<string>): string {
  if (id === '') throw new UserError(`${path}:${lineNo}: empty id`);
  if (seen.has(id)) throw new UserError(`${path}:${lineNo}: id ${quote(id)} appears twice`);
  seen.add(id);
  return id;
}

async function readKnown(path: string, layout: KnownLayout): Promise<FeatureRecords> {
  const records: FeatureRecord[] = [];
  const seen = new Set<string>();
  for await (const [lineNo, line] of readLines(path, layout.encoding)) {
    if (line.trim() === '') continue;
    const fields = line.split(layout.separator);
    if (fields.length !== layout.fields) {
      throw new UserError(
        `${path}:${lineNo}: expected ${layout.fields} fields separated by ${quote(layout.separator)} (${layout.name}), got ${fields.length}`,
      );
    }
    const [id, ...values] = layout.values(fields, path);
    records.push({ id: checkedId(id.trim(), path, lineNo, seen), line: lineNo, values });
  }
  if (records.length === 0) throw new UserError(`${path}: no feature rows`);
  return { source: path, layout: layout.name, columns: layout.columns, records };
}

async function readDelimited(path: string, declared: { id: string; columns: FeatureColumn[] }, sep: string): Promise<FeatureRecords> {
  const records: FeatureRecord[] = [];
  const seen = new Set<string>();
  let at: number[] | undefined;
  let width = 0;
  for await (const [lineNo, line] of readLines(path)) {
    if (line.trim() === '') continue;
    const fields = splitDelimited(line, sep);
    if (fields === null) throw new UserError(`${path}:${lineNo}: unbalanced quotes`);
    if (at === undefined) {
      const header = fields.map((h) => h.trim());
      at = [declared.id, ...declared.columns.map((c) => c.name)].map((name) => {
        const i = header.indexOf(name);
        if (i < 0) throw new UserError(`${path}: no column ${quote(name)} in the header (${header.join(', ')})`);
        return i;
      });
      width = header.length;
      continue;
    }
    if (fields.length !== width) throw new UserError(`${path}:${lineNo}: ${fields.length} fields, the header has ${width}`);
    const [id, ...values] = at.map((i) => fields[i].trim());
    records.push({ id: checkedId(id, path, lineNo, seen), line: lineNo, values });
  }
  if (records.length === 0) throw new UserError(`${path}: no feature rows`);
  return { source: path, layout: sep === '\t' ? 'tsv' : 'csv', columns: declared.columns, records };
}

function jsonValue(v: unknown, path: string, lineNo: number, name: string): string {
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) return v.map((x) => jsonValue(x, path, lineNo, name)).join('|');
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new UserError(`${path}:${lineNo}: ${name} is an object; expected a string, number or list`);
}

async function readJsonl(path: string, declared: { id: string; columns: FeatureColumn[] }): Promise<FeatureRecords> {
  const records: FeatureRecord[] = [];
  const seen = new Set<string>();
  for await (const [lineNo, line] of readLines(path)) {
    if (line.trim() === '') continue;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      throw new UserError(`${path}:${lineNo}: not a JSON object`);
    }
    if (row === null || typeof row !== 'object' || Array.isArray(row)) throw new UserError(`${path}:${lineNo}: not a JSON object`);
    const r = row as Record<string, unknown>;
    if (!(declared.id in r)) throw new UserError(`${path}:${lineNo}: no ${quote(declared.id)} key`);
    const id = jsonValue(r[declared.id], path, lineNo, declared.id);
    records.push({
      id: checkedId(id, path, lineNo, seen),
      line: lineNo,
      values: declared.columns.map((c) => jsonValue(r[c.name], path, lineNo, c.name)),
    });
  }
  if (records.length === 0) throw new UserError(`${path}: no feature rows`);
  return { source: path, layout: 'jsonl', columns: declared.columns, records };
}

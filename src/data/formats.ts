import { basename } from 'node:path';

export const DATA_FORMATS = ['auto', 'sasrec', 'ml-ratings', 'ml-udata', 'csv', 'tsv', 'jsonl'] as const;
export type DataFormat = (typeof DATA_FORMATS)[number];
export type ConcreteFormat = Exclude<DataFormat, 'auto'>;

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export function isNumeric(s: string): boolean {
  return NUMBER.test(s) && Number.isFinite(Number(s)); // "1e400" matches the pattern but is Infinity
}

/** Picks a format from the file name, else from the first non-blank line. */
export function detectFormat(path: string, firstLine: string): ConcreteFormat {
  const name = basename(path).toLowerCase().replace(/\.gz$/, '');
  if (name === 'ratings.dat' || (name.endsWith('.dat') && firstLine.includes('::'))) return 'ml-ratings';
  if (name === 'u.data' || /^u\d\.(base|test)$/.test(name) || /^u[ab]\.(base|test)$/.test(name)) return 'ml-udata';
  if (name.endsWith('.csv')) return 'csv';
  if (name.endsWith('.tsv')) return 'tsv';
  if (name.endsWith('.jsonl') || name.endsWith('.ndjson')) return 'jsonl';

  const line = firstLine.trim();
  if (line.startsWith('{')) return 'jsonl';
  if (line.includes('::')) return 'ml-ratings';
  const fields = line.split(/\s+/);
  if (fields.length === 4 && fields.every(isNumeric)) return 'ml-udata';
  if (fields.length === 2 || (fields.length === 3 && isNumeric(fields[2]))) {
    if (!line.includes(',')) return 'sasrec';
  }
  if (line.includes(',')) return 'csv';
  if (line.includes('\t')) return 'tsv';
  return 'sasrec';
}

/** Splits one CSV/TSV record (RFC 4180 quoting, no embedded newlines). Returns null on a broken quote. */
export function splitDelimited(line: string, sep: string): string[] | null {
  if (!line.includes('"')) return line.split(sep);
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let field = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) return null;
        field += line.slice(i, q);
        if (line[q + 1] === '"') {
          field += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      out.push(field);
      if (i === line.length) return out;
      if (line[i] !== sep) return null;
      i++;
    } else {
      const next = line.indexOf(sep, i);
      if (next < 0) {
        out.push(line.slice(i));
        return out;
      }
      out.push(line.slice(i, next));
      i = next + 1;
    }
  }
}

export const USER_COLUMNS = ['user_id', 'userid', 'user', 'uid', 'reviewerid', 'visitorid', 'session_id', 'sessionid'];
export const ITEM_COLUMNS = ['item_id', 'itemid', 'item', 'iid', 'movie_id', 'movieid', 'product_id', 'productid', 'asin'];
export const TIME_COLUMNS = ['timestamp', 'time', 'ts', 'unix_time', 'unixreviewtime', 'datetime', 'date'];

/** Index of the first candidate column name present in the header (case-insensitive), or -1. */
export function findColumn(header: string[], candidates: string[]): number {
  const lower = header.map((h) => h.trim().toLowerCase());
  for (const c of candidates) {
    const k = lower.indexOf(c);
    if (k >= 0) return k;
  }
  return -1;
}

/** A timestamp from a number (kept as is) or a date string (→ unix seconds); NaN when neither. */
export function parseTime(s: string): number {
  const t = s.trim();
  if (isNumeric(t)) return Number(t);
  if (t === '') return NaN;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? NaN : ms / 1000;
}

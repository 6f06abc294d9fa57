/** Every --format value. */
export const DATA_FORMATS = ['auto', 'sasrec', 'sequences', 'ml-ratings', 'ml-udata', 'csv', 'tsv', 'jsonl'] as const;
/** An input format: auto (detected from the file name, else its first lines) or one of the readers. */
export type DataFormat = (typeof DATA_FORMATS)[number];
export type ConcreteFormat = Exclude<DataFormat, 'auto'>;

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export function isNumeric(s: string): boolean {
  return NUMBER.test(s) && Number.isFinite(Number(s)); // "1e400" matches the pattern but is Infinity
}

/** A whitespace-separated line's fields. */
export function fieldsOf(line: string): string[] {
  return line.trim().split(/\s+/);
}

/**
 * What `--format auto` looks at: the first DETECT_LINES non-blank lines, or fewer once they hold
 * DETECT_CHARS characters (always at least one line). The reader keeps them and parses them after
 * detection, so no line is read twice.
 */
export const DETECT_LINES = 1000;
export const DETECT_CHARS = 1 << 20;

/**
 * Picks a format from the file name, else from the content of `head`: the first non-blank lines
 * (DETECT_LINES at most).
 *
 * 1. File names win: `ratings.dat` (or `*.dat` with `::`), `u.data` / `u1.base` …, `*.csv`, `*.tsv`,
 *    `*.jsonl` / `*.ndjson` (`.gz` stripped first).
 * 2. The first line gives a candidate, as it always has: `{` → jsonl; `::` → ml-ratings; four
 *    numeric fields → ml-udata; two fields, or three with a numeric third, and no comma → sasrec;
 *    a comma → csv; a tab → tsv (a header); anything else → sasrec.
 * 3. One sequence per line (`user item1 item2 …`) overrides a sasrec or ml-udata candidate, or a tsv
 *    one whose first line is all numbers (so not a header), when the head shows what only that
 *    format has: no user id (first field) on two of its lines, and either a line of more than four
 *    fields or lines of different lengths (counting lines of two fields or more). In `user item`,
 *    `user item timestamp` and u.data every line has the same number of fields, and a user's
 *    interactions take several lines.
 *
 * A head whose lines all have the same 2–4 fields stays with the first line's candidate: it reads
 * as well one way as the other (a `user item1 item2` line is also `user item timestamp`), so pass
 * `--format sequences` for such a file.
 */
export function detectFormat(path: string, head: readonly string[]): ConcreteFormat {
  const firstLine = head[0] ?? '';
  const name = path
    .slice(path.lastIndexOf('/') + 1)
    .toLowerCase()
    .replace(/\.gz$/, '');
  if (name === 'ratings.dat' || (name.endsWith('.dat') && firstLine.includes('::'))) return 'ml-ratings';
  if (name === 'u.data' || /^u\d\.(base|test)$/.test(name) || /^u[ab]\.(base|test)$/.test(name)) return 'ml-udata';
  if (name.endsWith('.csv')) return 'csv';
  if (name.endsWith('.tsv')) return 'tsv';
  if (name.endsWith('.jsonl') || name.endsWith('.ndjson')) return 'jsonl';
  const candidate = formatOfFirstLine(firstLine);
  return mayBeSequences(candidate, firstLine) && looksLikeSequences(head) ? 'sequences' : candidate;
}

function formatOfFirstLine(firstLine: string): ConcreteFormat {
  const line = firstLine.trim();
  if (line.startsWith('{')) return 'jsonl';
  if (line.includes('::')) return 'ml-ratings';
  const fields = fieldsOf(line);
  if (fields.length === 4 && fields.every(isNumeric)) return 'ml-udata';
  if (fields.length === 2 || (fields.length === 3 && isNumeric(fields[2]))) {
    if (!line.includes(',')) return 'sasrec';
  }
  if (line.includes(',')) return 'csv';
  if (line.includes('\t')) return 'tsv';
  return 'sasrec';
}

function mayBeSequences(candidate: ConcreteFormat, firstLine: string): boolean {
  if (candidate === 'sasrec' || candidate === 'ml-udata') return true;
  return candidate === 'tsv' && fieldsOf(firstLine).every(isNumeric);
}

/** No user on two lines, and a line longer than any other format's or lines of different lengths. */
function looksLikeSequences(head: readonly string[]): boolean {
  const users = new Set<string>();
  let shortest = Infinity;
  let longest = 0;
  for (const line of head) {
    const fields = fieldsOf(line);
    if (users.has(fields[0])) return false;
    users.add(fields[0]);
    if (fields.length >= 2) {
      shortest = Math.min(shortest, fields.length);
      longest = Math.max(longest, fields.length);
    }
  }
  return longest > 4 || (longest > 0 && shortest !== longest);
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
/** Rating column names tried when ratings are read (`--task ctr`). */
export const RATING_COLUMNS = ['rating', 'ratings', 'score', 'stars', 'overall'];
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

/**
 * The interaction file's parsing rules, Node-free: format detection from the first lines, one parser
 * per format, and the reading of numbered lines into an EventLog. The Node reader (readers.ts) feeds it
 * a file's lines; the browser (text.ts) a string's.
 */
import { quote, UserError } from '../core/errors.js';
import { EventLog } from './eventlog.js';
import {
  type ConcreteFormat,
  type DataFormat,
  DATA_FORMATS,
  DETECT_CHARS,
  DETECT_LINES,
  detectFormat,
  fieldsOf,
  findColumn,
  isNumeric,
  ITEM_COLUMNS,
  parseTime,
  splitDelimited,
  RATING_COLUMNS,
  TIME_COLUMNS,
  USER_COLUMNS,
} from './formats.js';
import type { Interactions } from './types.js';

export interface ReadOptions {
  /** default 'auto': by file name, else by the content of the first lines (detectFormat in formats.ts) */
  format?: DataFormat;
  /** CSV/TSV/JSONL column (key) names; when absent, common names (user_id, userId, movieId, timestamp, …) are tried */
  userCol?: string;
  itemCol?: string;
  /** 'none' ignores any time column */
  timeCol?: string;
  /** keep each event's explicit rating (Interactions.ratings): MovieLens files, or a CSV/TSV rating column */
  ratings?: boolean;
}

/** Numbered lines: [1-based line number, the line without its end-of-line characters]. */
export type NumberedLines = AsyncIterator<[number, string]> & AsyncIterable<[number, string]>;

interface LineParser {
  readonly hasTime: boolean;
  /** it reads a rating per event (only when ReadOptions.ratings asks) */
  readonly hasRatings?: boolean;
  /** the first non-blank line is a header, not data */
  readonly header: boolean;
  parse(line: string, lineNo: number, log: EventLog): void;
}

/**
 * Parses `lines` of the file `path` (named in errors and used by format detection). Dense ids follow
 * ascending raw-id order; with timestamps each user's events are sorted by time (stable), else file
 * order is taken as chronological. Blank lines are skipped in every format.
 */
export async function parseInteractionLines(path: string, lines: NumberedLines, options: ReadOptions = {}): Promise<Interactions> {
  const format = options.format ?? 'auto';
  if (!(DATA_FORMATS as readonly string[]).includes(format)) {
    throw new UserError(`unknown format ${quote(format)} (expected one of ${DATA_FORMATS.join(', ')})`);
  }
  // auto: the first lines are read ahead for detection, then parsed from memory like the rest
  const { head, concrete } = format === 'auto' ? await detectFromHead(path, lines) : { head: [], concrete: format };
  let parser: LineParser | null = null;
  let log: EventLog | null = null;
  for (const source of [head, lines]) {
    for await (const [lineNo, line] of source) {
      if (line.trim() === '') continue;
      if (!parser) {
        parser = makeParser(concrete, path, line, lineNo, options);
        if (options.ratings && !parser.hasRatings) {
          const why = concrete === 'csv' || concrete === 'tsv' ? 'its header has no rating column' : `seqrec reads none from the ${concrete} format`;
          throw new UserError(
            `${path}: no ratings to read (${why}): --task ctr needs MovieLens u.data or ratings.dat, or a CSV/TSV with a rating column (${RATING_COLUMNS.join(', ')})`,
          );
        }
        log = new EventLog(parser.hasTime, options.ratings === true);
        if (parser.header) continue;
      }
      parser.parse(line, lineNo, log!);
    }
  }
  if (!log || log.length === 0) throw new UserError(`${path}: no interactions (the file is empty)`);
  return log.finish();
}

/**
 * Reads the first non-blank lines, the ones detection looks at (DETECT_LINES, or fewer once they hold
 * DETECT_CHARS characters), and detects the format from them; the caller parses `head` before the
 * rest of `lines`.
 */
export async function detectFromHead(path: string, lines: NumberedLines) {
  const head: Array<[number, string]> = [];
  const texts: string[] = [];
  let chars = 0;
  while (head.length < DETECT_LINES && chars < DETECT_CHARS) {
    const next = await lines.next();
    if (next.done) break;
    if (next.value[1].trim() === '') continue;
    head.push(next.value);
    texts.push(next.value[1]);
    chars += next.value[1].length;
  }
  return { head, concrete: detectFormat(path, texts) };
}

const shown = (line: string): string => quote(line);

function makeParser(format: ConcreteFormat, path: string, firstLine: string, firstLineNo: number, opts: ReadOptions): LineParser {
  switch (format) {
    case 'sasrec':
      return sasrecParser(path, firstLine, firstLineNo);
    case 'sequences':
      return sequencesParser(path);
    case 'ml-ratings':
      return fixedParser(path, (l) => l.trim().split('::'), 'user::item::rating::timestamp', opts.ratings === true);
    case 'ml-udata':
      return fixedParser(path, fieldsOf, 'user<TAB>item<TAB>rating<TAB>timestamp', opts.ratings === true);
    case 'csv':
    case 'tsv':
      return delimitedParser(path, firstLine, firstLineNo, format === 'csv' ? ',' : '\t', opts);
    case 'jsonl':
      return jsonlParser(path, firstLine, firstLineNo, opts);
  }
}

function sasrecParser(path: string, firstLine: string, firstNo: number): LineParser {
  const hasTime = fieldsOf(firstLine).length === 3;
  const expected = hasTime ? '"user item timestamp"' : '"user item"';
  return {
    hasTime,
    header: false,
    parse(line, lineNo, log) {
      const f = fieldsOf(line);
      if (hasTime && f.length === 3 && !isNumeric(f[2])) {
        // not "expected "user item timestamp", got "user item timestamp"": say what is wrong with it
        const header = lineNo === firstNo ? ' (a header line? this format has none: remove it, or give a .csv or .tsv file with a header)' : '';
        throw new UserError(`${path}:${lineNo}: the timestamp ${quote(f[2])} is not a finite number${header}`);
      }
      if (f.length !== (hasTime ? 3 : 2)) {
        // more than 4 fields fits no format but sequences (detection passed it over: a user on two lines)
        const why = f.length === 2 || f.length === 3 ? ` (as on the first line)` : f.length > 4 ? ' (one sequence per line? --format sequences)' : '';
        throw new UserError(`${path}:${lineNo}: expected ${expected}${why}, got ${shown(line)}`);
      }
      log.push(f[0], f[1], hasTime ? Number(f[2]) : 0);
    },
  };
}

/**
 * One line per user, `user item1 item2 …` in time order (S3-Rec, ICLRec, DuoRec, FMLP-Rec, BSARec);
 * no timestamps. A line with no item, or a user's second line, is an error: a file that repeats
 * users is most likely `user item` lines read with the wrong --format.
 */
function sequencesParser(path: string): LineParser {
  const lineOfUser = new Map<string, number>();
  return {
    hasTime: false,
    header: false,
    parse(line, lineNo, log) {
      const f = fieldsOf(line);
      const user = f[0];
      if (f.length < 2) throw new UserError(`${path}:${lineNo}: user ${quote(user)} has no items (expected "user item1 item2 …")`);
      const first = lineOfUser.get(user);
      if (first !== undefined) {
        throw new UserError(`${path}:${lineNo}: user ${quote(user)} is on line ${first} too (the sequences format has one line per user)`);
      }
      lineOfUser.set(user, lineNo);
      for (let k = 1; k < f.length; k++) log.push(user, f[k], 0);
    },
  };
}

/** MovieLens `u::i::rating::ts` and `u i rating ts`: the rating is ignored (implicit feedback) unless `ratings` keeps it. */
function fixedParser(path: string, split: (line: string) => string[], expected: string, ratings: boolean): LineParser {
  return {
    hasTime: true,
    hasRatings: ratings,
    header: false,
    parse(line, lineNo, log) {
      const f = split(line);
      if (f.length !== 4 || f[0] === '' || f[1] === '' || !isNumeric(f[3])) {
        throw new UserError(`${path}:${lineNo}: expected "${expected}", got ${shown(line)}`);
      }
      if (ratings && !isNumeric(f[2])) throw new UserError(`${path}:${lineNo}: the rating ${quote(f[2])} is not a number`);
      log.push(f[0], f[1], Number(f[3]), ratings ? Number(f[2]) : 0);
    },
  };
}

function resolveColumn(
  path: string,
  lineNo: number,
  header: string[],
  given: string | undefined,
  candidates: string[],
  flag: string,
  required: boolean,
): number {
  if (given !== undefined) {
    const k = header.indexOf(given);
    if (k >= 0) return k;
    const ci = findColumn(header, [given.toLowerCase()]);
    if (ci >= 0) return ci;
    throw new UserError(`${path}:${lineNo}: no column ${quote(given)} (${flag}) in header ${quote(header.join(', '), 120)}`);
  }
  const k = findColumn(header, candidates);
  if (k < 0 && required) {
    throw new UserError(
      `${path}:${lineNo}: cannot tell which column is the ${flag.slice(2, -4)} id in header ${quote(header.join(', '), 120)}; set ${flag}`,
    );
  }
  return k;
}

/** The user, item and time columns must be three different columns (time: −1 when absent). */
function checkDistinctColumns(path: string, names: readonly string[], user: number, item: number, time: number, opts: ReadOptions): void {
  const role = (flag: string, given: string | undefined) => (given !== undefined ? flag : `the detected ${flag.slice(2, -4)} column`);
  const u = role('--user_col', opts.userCol),
    i = role('--item_col', opts.itemCol),
    t = role('--time_col', opts.timeCol);
  const pairs: Array<[number, number, string, string]> = [
    [user, item, u, i],
    [user, time, u, t],
    [item, time, i, t],
  ];
  for (const [a, b, first, second] of pairs) {
    if (a >= 0 && a === b) {
      const hint = first.startsWith('--') && second.startsWith('--') ? '' : ' (name the other columns too, or --time_col none)';
      throw new UserError(`${path}: ${first} and ${second} are the same column ${quote(names[a])}${hint}`);
    }
  }
}

function delimitedParser(path: string, headerLine: string, headerNo: number, sep: string, opts: ReadOptions): LineParser {
  const header = splitDelimited(headerLine, sep);
  if (!header) throw new UserError(`${path}:${headerNo}: unbalanced quote in header`);
  const u = resolveColumn(path, headerNo, header, opts.userCol, USER_COLUMNS, '--user_col', true);
  const i = resolveColumn(path, headerNo, header, opts.itemCol, ITEM_COLUMNS, '--item_col', true);
  const t = opts.timeCol === 'none' ? -1 : resolveColumn(path, headerNo, header, opts.timeCol, TIME_COLUMNS, '--time_col', false);
  checkDistinctColumns(path, header, u, i, t, opts);
  const r = opts.ratings ? findColumn(header, RATING_COLUMNS) : -1;
  const need = Math.max(u, i, t, r) + 1;
  return {
    hasTime: t >= 0,
    hasRatings: r >= 0,
    header: true,
    parse(line, lineNo, log) {
      const f = splitDelimited(line, sep);
      if (!f || f.length < need) {
        throw new UserError(`${path}:${lineNo}: expected ${header.length} ${sep === ',' ? 'comma' : 'tab'}-separated fields, got ${shown(line)}`);
      }
      const user = f[u].trim();
      const item = f[i].trim();
      if (user === '' || item === '') throw new UserError(`${path}:${lineNo}: empty ${user === '' ? 'user' : 'item'} id in ${shown(line)}`);
      let time = 0;
      if (t >= 0) {
        time = parseTime(f[t]);
        if (!Number.isFinite(time)) throw new UserError(`${path}:${lineNo}: bad timestamp ${quote(f[t])} in column ${quote(header[t])}`);
      }
      if (r >= 0 && !isNumeric(f[r].trim()))
        throw new UserError(`${path}:${lineNo}: the rating ${quote(f[r])} in column ${quote(header[r])} is not a number`);
      log.push(user, item, time, r >= 0 ? Number(f[r]) : 0);
    },
  };
}

function jsonlParser(path: string, firstLine: string, firstNo: number, opts: ReadOptions): LineParser {
  const first = parseJson(path, firstLine, firstNo);
  const keys = Object.keys(first);
  const u = keys[resolveColumn(path, firstNo, keys, opts.userCol, USER_COLUMNS, '--user_col', true)];
  const i = keys[resolveColumn(path, firstNo, keys, opts.itemCol, ITEM_COLUMNS, '--item_col', true)];
  const tk = opts.timeCol === 'none' ? -1 : resolveColumn(path, firstNo, keys, opts.timeCol, TIME_COLUMNS, '--time_col', false);
  checkDistinctColumns(path, keys, keys.indexOf(u), keys.indexOf(i), tk, opts);
  const t = tk >= 0 ? keys[tk] : null;
  return {
    hasTime: t !== null,
    header: false,
    parse(line, lineNo, log) {
      const rec = parseJson(path, line, lineNo);
      const user = rec[u];
      const item = rec[i];
      if ((typeof user !== 'string' && typeof user !== 'number') || (typeof item !== 'string' && typeof item !== 'number')) {
        throw new UserError(`${path}:${lineNo}: expected string or number fields ${quote(u)} and ${quote(i)}, got ${shown(line)}`);
      }
      let time = 0;
      if (t !== null) {
        const v = rec[t];
        time = typeof v === 'number' ? v : typeof v === 'string' ? parseTime(v) : NaN;
        if (!Number.isFinite(time)) throw new UserError(`${path}:${lineNo}: bad timestamp in field ${quote(t)}`);
      }
      log.push(jsonId(user, u, path, lineNo), jsonId(item, i, path, lineNo), time);
    },
  };
}

/**
 * A JSONL id as text. A JSON number is read as a double, so two ids above 2^53 (or 1.0 and 1) could
 * become one: number ids must be integers a double holds exactly; others must be written as strings.
 */
function jsonId(v: string | number, field: string, path: string, lineNo: number): string {
  if (typeof v === 'string') return v;
  if (!Number.isSafeInteger(v)) {
    throw new UserError(
      `${path}:${lineNo}: field ${quote(field)} is the number ${quote(String(v))}, which JSON readers cannot hold exactly (ids must be integers below 2^53, or strings): write the ids as strings`,
    );
  }
  return String(v);
}

function parseJson(path: string, line: string, lineNo: number): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new UserError(`${path}:${lineNo}: expected a JSON object, got ${shown(line)}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new UserError(`${path}:${lineNo}: expected a JSON object, got ${shown(line)}`);
  }
  return v as Record<string, unknown>;
}

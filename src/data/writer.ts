import { writeFileAtomic, writeFilesAtomic } from '../io/atomic.js';
import type { IdMap, Interactions } from './types.js';

export interface WriteOptions {
  /** write `user item timestamp` (default: whenever the data has timestamps) */
  withTimes?: boolean;
  /** field separator (default ' ', as the SASRec data files; TiSASRec.pytorch reads '\t') */
  separator?: ' ' | '\t';
}

/** Writes SASRec format with dense ids: one `user item [timestamp]` line per event, users ascending, chronological. */
export async function writeSasrecFile(data: Interactions, path: string, options: WriteOptions = {}): Promise<void> {
  const withTimes = options.withTimes ?? data.times !== undefined;
  if (withTimes && !data.times) throw new Error('writeSasrecFile: withTimes requested but the data has no timestamps');
  const sep = options.separator ?? ' ';
  await writeFileAtomic(path, inChunks(eventLines(data, withTimes, sep)));
}

function* eventLines(data: Interactions, withTimes: boolean, sep: string): Generator<string> {
  for (let u = 1; u <= data.userNum; u++) {
    const s = data.seqs[u];
    const t = data.times?.[u];
    for (let k = 0; k < s.length; k++) yield withTimes ? `${u}${sep}${s[k]}${sep}${t![k]}\n` : `${u}${sep}${s[k]}\n`;
  }
}

/**
 * Writes one sequence per line with dense ids: `user item1 item2 …`, users ascending, each user's items
 * in time order (the S3-Rec / ICLRec layout; it has no timestamps).
 */
export async function writeSequencesFile(data: Interactions, path: string, options: Pick<WriteOptions, 'separator'> = {}): Promise<void> {
  const sep = options.separator ?? ' ';
  await writeFileAtomic(path, inChunks(sequenceLines(data, sep)));
}

function* sequenceLines(data: Interactions, sep: string): Generator<string> {
  for (let u = 1; u <= data.userNum; u++) {
    // a line with a user and no item could not be read back
    if (data.seqs[u].length === 0) throw new Error(`writeSequencesFile: user ${u} has no interactions`);
    yield `${u}${sep}${data.seqs[u].join(sep)}\n`;
  }
}

/** Lines joined into chunks of about 64 KiB, so a large file is written in few calls. */
function* inChunks(lines: Iterable<string>): Generator<string> {
  let chunk = '';
  for (const line of lines) {
    chunk += line;
    if (chunk.length >= 1 << 16) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk !== '') yield chunk;
}

/** The id-map file names written next to a converted file `path`. */
export function idMapPaths(path: string): { users: string; items: string } {
  return { users: `${path}.users.tsv`, items: `${path}.items.tsv` };
}

/** Writes `<path>.users.tsv` and `<path>.items.tsv`: `dense<TAB>raw` lines, so original ids can be recovered. */
export async function writeIdMaps(data: Interactions, path: string): Promise<{ users: string; items: string }> {
  const paths = idMapPaths(path);
  await writeMap(data.users, paths.users);
  await writeMap(data.items, paths.items);
  return paths;
}

/**
 * A converted dataset as one set: the data file (`sasrec` or `sequences` layout) and its id maps are
 * published together or not at all (io/atomic.ts writeFilesAtomic), so two runs writing the same path
 * never leave one's data beside the other's maps.
 */
export async function writeDatasetSet(
  data: Interactions,
  path: string,
  options: WriteOptions & { layout: 'sasrec' | 'sequences' },
): Promise<{ users: string; items: string }> {
  const sep = options.separator ?? ' ';
  const withTimes = options.withTimes ?? data.times !== undefined;
  if (options.layout === 'sasrec' && withTimes && !data.times) throw new Error('writeDatasetSet: withTimes requested but the data has no timestamps');
  const lines = options.layout === 'sequences' ? sequenceLines(data, sep) : eventLines(data, withTimes, sep);
  const paths = idMapPaths(path);
  await writeFilesAtomic([
    [path, inChunks(lines)],
    [paths.users, inChunks(mapLines(data.users))],
    [paths.items, inChunks(mapLines(data.items))],
  ]);
  return paths;
}

async function writeMap(map: IdMap, path: string): Promise<void> {
  await writeFileAtomic(path, inChunks(mapLines(map)));
}

function* mapLines(map: IdMap): Generator<string> {
  for (let i = 1; i < map.toRaw.length; i++) yield `${i}\t${map.toRaw[i]}\n`;
}

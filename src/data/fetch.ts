import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { unzipSync } from 'fflate';
import { quote, UserError } from '../core/errors.js';
import { kcore, type KcoreMode } from './kcore.js';
import { readInteractions } from './readers.js';
import { datasetStats, type DatasetStats } from './stats.js';
import type { Interactions } from './types.js';
import { writeIdMaps, writeSasrecFile } from './writer.js';
import { makeDirs } from '../io/dirs.js';

export const DEFAULT_BASE_URL = 'https://files.grouplens.org/datasets/movielens';

/**
 * The official GroupLens zips. sha256 and sizes are those pinned by TensorFlow Datasets
 * (tensorflow/datasets: tensorflow_datasets/url_checksums/movielens.txt); the md5 sums agree with the
 * ones pinned by torchtext and others (ml-100k 0e33842e24a9c977be4e0107933c0723,
 * ml-1m c4d9eecfca2ab87c1945afe126590906).
 */
export const MOVIELENS = {
  'ml-1m': {
    sha256: 'a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20',
    size: 5917549,
    ratings: 'ml-1m/ratings.dat',
    format: 'ml-ratings',
  },
  'ml-100k': {
    sha256: '50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229',
    size: 4924029,
    ratings: 'ml-100k/u.data',
    format: 'ml-udata',
  },
} as const;
export type MovieLensName = keyof typeof MOVIELENS;

export interface FetchOptions {
  /** default $XDG_CACHE_HOME/seqrec or ~/.cache/seqrec */
  cacheDir?: string;
  /** default $SEQREC_DATA_BASE_URL or the GroupLens server; the zip is fetched from `<base>/<name>.zip` */
  baseUrl?: string;
  /** expected sha256 of the zip (default: the official one) */
  sha256?: string;
  /** k-core of the converted file (default 5/5 one-pass, the SASRec/TiSASRec preprocessing; 0 disables) */
  minUserCount?: number;
  minItemCount?: number;
  kcoreMode?: KcoreMode;
  /** progress messages (default: none) */
  log?: (message: string) => void;
  /** seconds to wait for the server's answer, and then for each next piece of data (default 30) */
  timeoutSeconds?: number;
}

export interface FetchResult {
  zipPath: string;
  /** the extracted ratings file */
  rawPath: string;
  /** the SASRec-format file `user item timestamp` (dense ids), with `.users.tsv` / `.items.tsv` maps */
  outputPath: string;
  stats: DatasetStats;
  downloaded: boolean;
}

export function defaultCacheDir(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg && xdg !== '' ? xdg : join(homedir(), '.cache'), 'seqrec');
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(path), h);
  return h.digest('hex');
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

const MiB = 2 ** 20;

/**
 * Downloads `url` to `dest` through `<dest>.tmp-<pid>` (removed on any failure): gives up when the server
 * does not answer, or sends nothing more, for `timeoutMs` (connect and idle timeouts); logs the bytes
 * and the rate about once a second and at the end.
 */
async function download(url: string, dest: string, timeoutMs: number, log: (m: string) => void): Promise<void> {
  const abort = new AbortController();
  let stalled: 'answer' | 'data' = 'answer';
  let timer = setTimeout(() => abort.abort(), timeoutMs);
  const rearm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => abort.abort(), timeoutMs);
  };
  const why = (err: unknown) =>
    abort.signal.aborted
      ? `no ${stalled === 'answer' ? 'answer from the server' : 'data'} for ${timeoutMs / 1000} s (--timeout)`
      : ((err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message);
  let res: Response;
  try {
    res = await fetch(url, { signal: abort.signal });
  } catch (err) {
    clearTimeout(timer);
    throw new UserError(`download of ${url} failed: ${why(err)}`);
  }
  if (!res.ok || !res.body) {
    clearTimeout(timer);
    throw new UserError(`download of ${url} failed: HTTP ${res.status}`);
  }
  stalled = 'data';
  rearm();
  const total = Number(res.headers.get('content-length') ?? NaN);
  const t0 = performance.now();
  let got = 0;
  let lastLog = t0;
  const progress = () => {
    const s = Math.max((performance.now() - t0) / 1000, 1e-3);
    const of = Number.isFinite(total) ? ` of ${(total / MiB).toFixed(1)} MiB` : '';
    log(`downloaded ${(got / MiB).toFixed(1)} MiB${of} (${(got / MiB / s).toFixed(1)} MiB/s)`);
  };
  const tmp = `${dest}.tmp-${process.pid}`;
  try {
    const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
    body.on('data', (chunk: Buffer) => {
      got += chunk.length;
      rearm();
      if (performance.now() - lastLog >= 1000) {
        lastLog = performance.now();
        progress();
      }
    });
    await pipeline(body, createWriteStream(tmp));
    clearTimeout(timer);
    progress();
    await rename(tmp, dest);
  } catch (err) {
    clearTimeout(timer);
    await rm(tmp, { force: true });
    throw new UserError(`download of ${url} failed: ${why(err)}; nothing was kept`);
  }
}

/**
 * Downloads a MovieLens zip into the cache (reused when its checksum matches), verifies its sha256,
 * extracts it and converts the ratings to `<cache>/<name>.txt` (`user item timestamp`, dense ids).
 * A checksum mismatch removes the zip and converts nothing.
 */
export async function fetchMovieLens(name: MovieLensName, options: FetchOptions = {}): Promise<FetchResult> {
  const spec = MOVIELENS[name];
  if (!spec) throw new UserError(`unknown dataset ${quote(name)} (expected one of ${Object.keys(MOVIELENS).join(', ')})`);
  const log = options.log ?? (() => {});
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const base = (options.baseUrl ?? process.env.SEQREC_DATA_BASE_URL ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
  const expected = (options.sha256 ?? spec.sha256).toLowerCase();
  await makeDirs(cacheDir);

  const zipPath = join(cacheDir, `${name}.zip`);
  let downloaded = false;
  if (!((await exists(zipPath)) && (await sha256File(zipPath)) === expected)) {
    const url = `${base}/${name}.zip`;
    log(`downloading ${url}`);
    await download(url, zipPath, (options.timeoutSeconds ?? 30) * 1000, log);
    downloaded = true;
    const got = await sha256File(zipPath);
    if (got !== expected) {
      await rm(zipPath, { force: true });
      throw new UserError(`${url}: sha256 mismatch (got ${got}, expected ${expected}); the download was removed`);
    }
    log(`sha256 ok (${expected})`);
  } else {
    log(`using cached ${zipPath} (sha256 ok)`);
  }

  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(await readFile(zipPath), { filter: (f) => !f.name.endsWith('/') && f.name.startsWith(`${name}/`) });
  } catch (err) {
    throw new UserError(`${zipPath}: not a readable zip (${(err as Error).message})`);
  }
  if (!files[spec.ratings]) throw new UserError(`${zipPath}: ${spec.ratings} is missing from the zip`);
  const dir = join(cacheDir, name);
  await makeDirs(dir);
  for (const [entry, bytes] of Object.entries(files)) {
    const dest = join(cacheDir, entry);
    if (!dest.startsWith(dir)) continue; // refuses `..` entries
    await makeDirs(join(dest, '..'));
    await writeFile(`${dest}.tmp-${process.pid}`, bytes);
    await rename(`${dest}.tmp-${process.pid}`, dest);
  }
  const rawPath = join(cacheDir, spec.ratings);

  let data: Interactions = await readInteractions(rawPath, { format: spec.format });
  const minUserCount = options.minUserCount ?? 5;
  const minItemCount = options.minItemCount ?? 5;
  if (minUserCount > 0 || minItemCount > 0) data = kcore(data, { minUserCount, minItemCount, mode: options.kcoreMode });
  const outputPath = join(cacheDir, `${name}.txt`);
  await writeSasrecFile(data, outputPath, { withTimes: true });
  await writeIdMaps(data, outputPath);
  return { zipPath, rawPath, outputPath, stats: datasetStats(data), downloaded };
}

import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { UserError } from '../core/errors.js';

/**
 * A pipe (`-` for standard input, /dev/stdin, a FIFO) can be read once and not seeked, while a file is
 * read twice (format detection, then the data): its bytes are read once, kept in memory, and every later
 * read of that path is served from them.
 */
const piped = new Map<string, Promise<Buffer>>();

async function pipedBytes(path: string): Promise<Buffer | undefined> {
  const known = piped.get(path);
  if (known) return known;
  // standard input: read from the process (a socket there cannot be opened by name: ENXIO)
  const stdin = path === '-' || path === '/dev/stdin' || path === '/proc/self/fd/0' || path === '/dev/fd/0';
  if (!stdin) {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(path);
    } catch {
      return undefined; // openOrThrow words the error
    }
    if (info.isFile() || info.isDirectory()) return undefined;
  }
  const source: Readable = stdin ? process.stdin : createReadStream(path);
  const bytes = (async () => {
    const chunks: Buffer[] = [];
    for await (const c of source) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
    return Buffer.concat(chunks);
  })();
  piped.set(path, bytes);
  return bytes;
}

/** True when the file starts with the gzip magic bytes (so `.gz` is detected by content, not by name). */
export async function isGzipFile(path: string): Promise<boolean> {
  const bytes = await pipedBytes(path);
  if (bytes) return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
  const fh = await openOrThrow(path);
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await fh.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

async function openOrThrow(path: string) {
  if (path === '') throw new UserError('the data file path is empty');
  try {
    const fh = await open(path, 'r');
    // opening a directory succeeds on Linux; only the first read fails (EISDIR, naming no path)
    if ((await fh.stat()).isDirectory()) {
      await fh.close();
      throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    }
    return fh;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${path}: no such file`);
    if (code === 'EISDIR') throw new UserError(`${path}: is a directory, expected a data file`);
    if (code === 'EACCES') throw new UserError(`${path}: permission denied`);
    throw err;
  }
}

/**
 * Streams a plain or gzipped text file line by line (never the whole file as one string), decoded as
 * `encoding` (UTF-8 by default; MovieLens' item files are Latin-1).
 * Yields [1-based line number, line without its end-of-line characters].
 */
export async function* readLines(path: string, encoding: 'utf8' | 'latin1' = 'utf8'): AsyncGenerator<[number, string]> {
  const gz = await isGzipFile(path);
  const bytes = await pipedBytes(path);
  const file = bytes ? Readable.from([bytes]) : createReadStream(path);
  let input: Readable = file;
  if (gz) {
    const gunzip = createGunzip();
    // a corrupt gzip stream errors on gunzip; surface it as one line naming the file
    file.on('error', (e: Error) => gunzip.destroy(e));
    input = file.pipe(gunzip);
  }
  input.setEncoding(encoding);
  const rl = createInterface({ input, crlfDelay: Infinity });
  let lineNo = 0;
  try {
    for await (const line of rl) {
      lineNo++;
      yield [lineNo, line];
    }
  } catch (err) {
    if (gz && (err as NodeJS.ErrnoException).code?.startsWith('Z_')) {
      throw new UserError(`${path}: corrupt gzip data after line ${lineNo}`);
    }
    throw err;
  } finally {
    rl.close();
    file.destroy();
  }
}

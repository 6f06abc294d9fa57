/**
 * Atomic file replacement: write `<path>.tmp-<pid>-<random>` in the same directory, fsync it,
 * rename it over `path`, then fsync the directory. Readers see either the old file or the complete
 * new one, never a partial write; on any error the temporary file is removed and `path` is left as
 * it was. An existing file's permission bits are kept.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as nodePath from 'node:path';
import { makeDirs } from './dirs.js';

/** What can be written: bytes, text (UTF-8), or chunks of either from a (possibly async) generator. */
export type Chunk = Uint8Array | string;
export type AtomicData = Chunk | Iterable<Chunk> | AsyncIterable<Chunk>;
export type AtomicDataSync = Chunk | Iterable<Chunk>;

function tempPathFor(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
}

function toBytes(chunk: Uint8Array | string): Uint8Array {
  return typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
}

/** Permission bits of an existing target, or undefined when there is none. */
function existingMode(path: string): number | undefined {
  try {
    return fs.statSync(path).mode & 0o7777;
  } catch {
    return undefined;
  }
}

function isAsyncIterable(x: unknown): x is AsyncIterable<Chunk> {
  return typeof x === 'object' && x !== null && Symbol.asyncIterator in x;
}

async function fsyncDir(dir: string): Promise<void> {
  // Makes the rename itself durable on POSIX; not possible (and not needed) everywhere, e.g. Windows.
  let h: fsp.FileHandle | undefined;
  try {
    h = await fsp.open(dir, 'r');
    await h.sync();
  } catch {
    // best effort
  } finally {
    await h?.close().catch(() => {});
  }
}

function fsyncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // best effort
  } finally {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // ignore
      }
    }
  }
}

/** Atomically replaces `path` with `data`. The promise rejects with the original error on failure. */
export async function writeFileAtomic(path: string, data: AtomicData): Promise<void> {
  const tmp = tempPathFor(path);
  const mode = existingMode(path);
  let handle: fsp.FileHandle | undefined;
  let created = false;
  try {
    handle = await fsp.open(tmp, 'wx');
    created = true;
    if (mode !== undefined) await handle.chmod(mode);
    const write = async (chunk: Uint8Array | string): Promise<void> => {
      const bytes = toBytes(chunk);
      let done = 0;
      while (done < bytes.byteLength) {
        const { bytesWritten } = await handle!.write(bytes, done, bytes.byteLength - done);
        done += bytesWritten;
      }
    };
    if (typeof data === 'string' || data instanceof Uint8Array) {
      await write(data);
    } else if (isAsyncIterable(data)) {
      for await (const chunk of data) await write(chunk);
    } else {
      for (const chunk of data) await write(chunk);
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fsp.rename(tmp, path);
    created = false;
  } catch (err) {
    if (handle) await handle.close().catch(() => {});
    if (created) await fsp.unlink(tmp).catch(() => {});
    throw err;
  }
  await fsyncDir(nodePath.dirname(path));
}

/** Synchronous `writeFileAtomic` (no async generators). */
export function writeFileAtomicSync(path: string, data: AtomicDataSync): void {
  const tmp = tempPathFor(path);
  const mode = existingMode(path);
  let fd: number | undefined;
  let created = false;
  try {
    fd = fs.openSync(tmp, 'wx');
    created = true;
    if (mode !== undefined) fs.fchmodSync(fd, mode);
    const chunks: Iterable<Chunk> = typeof data === 'string' || data instanceof Uint8Array ? [data] : data;
    for (const chunk of chunks) {
      const bytes = toBytes(chunk);
      let done = 0;
      while (done < bytes.byteLength) done += fs.writeSync(fd, bytes, done, bytes.byteLength - done);
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, path);
    created = false;
  } catch (err) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // ignore
      }
    }
    if (created) {
      try {
        fs.unlinkSync(tmp);
      } catch {
        // ignore
      }
    }
    throw err;
  }
  fsyncDirSync(nodePath.dirname(path));
}

/** Writes JSON (2-space indented, newline-terminated) atomically, creating the folder. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await makeDirs(nodePath.dirname(path));
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

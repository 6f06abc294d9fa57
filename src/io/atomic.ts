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

/**
 * Writes several files as one set (a data file and its id maps): every file is written in full to its
 * temporary file first, and only then are they renamed over their targets, one after another, while
 * holding `<first path>.lock`, so two writers of the same set never interleave their renames. A failure
 * before the renames (a generator that throws, a full disk) leaves every target as it was and no temp
 * file. What remains is the moment between the renames themselves: a `kill -9` there leaves a mixed set.
 */
export async function writeFilesAtomic(files: ReadonlyArray<readonly [string, AtomicData]>): Promise<void> {
  const temps: string[] = [];
  try {
    for (const [path, data] of files) {
      const tmp = tempPathFor(path);
      temps.push(tmp);
      await writeTemp(tmp, path, data);
    }
    const release = await holdSetLock(`${files[0][0]}.lock`);
    try {
      for (const [i, [path]] of files.entries()) await fsp.rename(temps[i], path);
    } finally {
      release();
    }
  } catch (err) {
    for (const tmp of temps) await fsp.unlink(tmp).catch(() => {});
    throw err;
  }
  for (const dir of new Set(files.map(([p]) => nodePath.dirname(p)))) await fsyncDir(dir);
}

/** Writes `data` to the new file `tmp` (with `path`'s permission bits) and syncs it. */
async function writeTemp(tmp: string, path: string, data: AtomicData): Promise<void> {
  const mode = existingMode(path);
  const handle = await fsp.open(tmp, 'wx');
  try {
    if (mode !== undefined) await handle.chmod(mode);
    const write = async (chunk: Chunk): Promise<void> => {
      const bytes = toBytes(chunk);
      let done = 0;
      while (done < bytes.byteLength) done += (await handle.write(bytes, done, bytes.byteLength - done)).bytesWritten;
    };
    if (typeof data === 'string' || data instanceof Uint8Array) await write(data);
    else if (isAsyncIterable(data)) for await (const c of data) await write(c);
    else for (const c of data) await write(c);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * A short-lived lock file (created exclusively, holding the pid) around a set's renames; waits for a
 * live holder (renames take milliseconds) and takes over a dead one's.
 */
async function holdSetLock(lock: string): Promise<() => void> {
  for (let waited = 0; ; waited += 20) {
    try {
      await fsp.writeFile(lock, `${process.pid}\n`, { flag: 'wx' });
      return () => fs.rmSync(lock, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const pid = Number.parseInt(await fsp.readFile(lock, 'utf8').catch(() => ''), 10);
    let alive = false;
    try {
      if (pid > 0) {
        process.kill(pid, 0);
        alive = true;
      }
    } catch (e) {
      alive = (e as NodeJS.ErrnoException).code === 'EPERM';
    }
    if ((!alive && pid > 0) || waited > 30_000) await fsp.rm(lock, { force: true });
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * One writer per output directory: `<dir>/.seqrec.lock` holds the holder's pid. A second run refuses
 * with one line naming it; a lock whose process is gone (killed with `kill -9`) is taken over, saying
 * so. Taking the lock also removes the temporary files (`*.tmp-<pid>-<random>`, io/atomic.ts) that
 * dead processes left in the directory: with the lock held, no live run is writing them.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../core/errors.js';
import { makeDirs } from './dirs.js';

export const LOCK_FILE = '.seqrec.lock';

interface LockInfo {
  pid: number;
  host: string;
  command: string;
  started: string;
}

/** A held lock: `release()` removes it (idempotent). */
export interface DirLock {
  readonly path: string;
  release(): void;
}

/** Directories this process holds (a second hold in the same process is refused like another's). */
const heldHere = new Set<string>();

/** Whether process `pid` is alive on this machine (EPERM: alive, another user's). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(path: string): LockInfo | undefined {
  try {
    const v = JSON.parse(fs.readFileSync(path, 'utf8')) as Partial<LockInfo>;
    if (typeof v.pid === 'number')
      return { pid: v.pid, host: String(v.host ?? ''), command: String(v.command ?? ''), started: String(v.started ?? '') };
  } catch {
    // unreadable: treated as stale below
  }
  return undefined;
}

/** Places the lock file only if none exists: written to a temp file, then hard-linked (atomic, complete). */
function tryCreate(path: string, info: LockInfo): boolean {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  fs.writeFileSync(tmp, `${JSON.stringify(info)}\n`, { flag: 'wx' });
  try {
    fs.linkSync(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    // a file system without hard links: create it exclusively instead (a reader may see it empty for a moment)
    try {
      fs.writeFileSync(path, `${JSON.stringify(info)}\n`, { flag: 'wx' });
      return true;
    } catch (e2) {
      if ((e2 as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e2;
    }
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** Whether a lock is stale: its holder is not running (on this host), or the file is unreadable. */
function isStale(info: LockInfo | undefined, path: string): boolean {
  if (info === undefined) {
    // a lock being written is complete when linked, so an unreadable one is damaged; give it a moment anyway
    try {
      return Date.now() - fs.statSync(path).mtimeMs > 2000;
    } catch {
      return true;
    }
  }
  if (info.host !== '' && info.host !== hostname()) return false; // another machine's: cannot tell, keep it
  if (info.pid === process.pid) return !heldHere.has(path); // a previous process that had our pid
  return !processAlive(info.pid);
}

/** Removes `*.tmp-<pid>-<hex>` files in `dir` whose process is not alive (a killed run's partial writes). */
export function removeStaleTempFiles(dir: string): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = /\.tmp-(\d+)-[0-9a-f]+$/.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || processAlive(pid)) continue;
    try {
      fs.rmSync(join(dir, name), { force: true });
      removed.push(name);
    } catch {
      // best effort
    }
  }
  return removed;
}

/** The pid of the live process holding `dir`'s lock (this one included), or undefined when none does. */
export function liveHolder(dir: string): number | undefined {
  const path = join(dir, LOCK_FILE);
  if (!fs.existsSync(path)) return undefined;
  const holder = readLock(path);
  return holder !== undefined && !isStale(holder, path) ? holder.pid : undefined;
}

/**
 * Takes `dir`'s lock (the directory must exist). `flag` names the option that chose the directory in
 * the refusal (`--train_dir`, `experiments output folder`); `say` gets the notes (a stale lock taken
 * over, stale temp files removed).
 */
export function lockDir(dir: string, flag: string, say: (line: string) => void = () => {}): DirLock {
  const path = join(dir, LOCK_FILE);
  const info: LockInfo = {
    pid: process.pid,
    host: hostname(),
    command: process.argv.slice(2).join(' ').slice(0, 200),
    started: new Date().toISOString(),
  };
  for (let attempt = 0; ; attempt++) {
    if (tryCreate(path, info)) break;
    const holder = readLock(path);
    if (!isStale(holder, path) || attempt >= 2) {
      const who = holder ? `process ${holder.pid}${holder.host && holder.host !== hostname() ? ` on ${holder.host}` : ''}` : 'another process';
      throw new UserError(
        `${flag} ${dir} is in use by ${who} (${LOCK_FILE}); wait for it to end, or choose another ${flag === '--train_dir' ? '--train_dir' : 'folder'} (no run there? remove ${join(dir, LOCK_FILE)})`,
      );
    }
    // stale: move it aside under a unique name (rename is atomic, so of two runs taking over, one wins)
    const aside = `${path}.stale-${process.pid}-${randomBytes(6).toString('hex')}`;
    try {
      fs.renameSync(path, aside);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // someone else moved it: try again
      throw e;
    }
    const moved = readLock(aside);
    if (moved?.pid !== holder?.pid || moved?.started !== holder?.started) {
      // a live run replaced the stale lock meanwhile and we moved its lock: put it back (the next attempt refuses)
      try {
        fs.linkSync(aside, path);
      } catch {
        // a third run holds it now
      }
      fs.rmSync(aside, { force: true });
      continue;
    }
    fs.rmSync(aside, { force: true });
    say(`note: ${dir}: taking over the lock of process ${holder?.pid ?? '?'}, which is no longer running`);
  }
  heldHere.add(path);
  const removed = removeStaleTempFiles(dir);
  if (removed.length > 0)
    say(
      `note: ${dir}: removed ${removed.length} temporary file${removed.length > 1 ? 's' : ''} of killed runs (${removed[0]}${removed.length > 1 ? ', …' : ''})`,
    );
  let released = false;
  return {
    path,
    release() {
      if (released) return;
      released = true;
      heldHere.delete(path);
      const now = readLock(path);
      if (now?.pid === process.pid) fs.rmSync(path, { force: true });
    },
  };
}

/**
 * Creates `dir` when missing and takes its lock; `release()` also removes the directory again when
 * this call created it and the run left it empty (a refused run leaves no trace).
 */
export async function holdDir(dir: string, flag: string, say: (line: string) => void = () => {}): Promise<DirLock> {
  if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) throw new UserError(`${dir}: already exists and is not a directory`);
  const created = !fs.existsSync(dir);
  await makeDirs(dir);
  let lock: DirLock;
  try {
    lock = lockDir(dir, flag, say);
  } catch (e) {
    if (created) fs.rmdirSync(dir);
    throw e;
  }
  return {
    path: lock.path,
    release() {
      lock.release();
      if (created) {
        try {
          fs.rmdirSync(dir);
        } catch {
          // not empty: the run wrote its files
        }
      }
    },
  };
}

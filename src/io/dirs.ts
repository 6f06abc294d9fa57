/** Creating output directories (Node only). */
import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/**
 * `mkdir -p`, one directory at a time from the first existing ancestor down. Node 20's
 * `mkdir(…, { recursive: true })` never returns for some paths (under /proc, where mkdir reports
 * ENOENT for a parent that exists). Errors keep their code and name the directory (see
 * cli/main.ts fileErrorLine).
 */
export async function makeDirs(path: string): Promise<void> {
  const missing: string[] = [];
  for (let p = resolve(path); ; ) {
    try {
      if (!(await stat(p)).isDirectory()) throw Object.assign(new Error(`${p} is not a directory`), { code: 'ENOTDIR', path: p });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      missing.push(p);
      const parent = dirname(p);
      if (parent === p) break;
      p = parent;
    }
  }
  for (const dir of missing.reverse()) {
    try {
      await mkdir(dir);
    } catch (err) {
      // created meanwhile by someone else: fine when it is a directory
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && (await stat(dir)).isDirectory()) continue;
      throw err;
    }
  }
}

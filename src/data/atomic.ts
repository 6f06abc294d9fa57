import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { UserError } from '../cli/errors.js';

/**
 * Writes a text file through `<path>.tmp-<pid>` and renames it into place, so a crash or an error
 * never leaves a half-written file at `path`. `write` gets a function that buffers and writes chunks.
 */
export async function writeFileAtomic(path: string, write: (put: (chunk: string) => Promise<void>) => Promise<void>): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const out = createWriteStream(tmp);
  let buffered = '';
  const flush = async () => {
    if (buffered === '') return;
    const chunk = buffered;
    buffered = '';
    if (!out.write(chunk)) await once(out, 'drain');
  };
  try {
    try {
      await once(out, 'open');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new UserError(`${path}: cannot write (no such directory)`);
      if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw new UserError(`${path}: cannot write (permission denied)`);
      throw err;
    }
    await write(async (chunk) => {
      buffered += chunk;
      if (buffered.length >= 1 << 16) await flush();
    });
    await flush();
    out.end();
    await once(out, 'finish');
    await rename(tmp, path);
  } catch (err) {
    out.destroy();
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Checks on the files a command is about to write, made before it reads or computes anything: an
 * output must not be one of the command's own inputs, and must not be an existing directory.
 */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError } from '../core/errors.js';

/** The path a file would have once written: symbolic links of what exists resolved. */
function canonical(path: string): string {
  if (existsSync(path)) return realpathSync(path);
  const dir = dirname(resolve(path));
  return join(existsSync(dir) ? realpathSync(dir) : dir, basename(path));
}

/** Whether two paths name the same file (the second need not exist yet). */
export function isSameFile(existing: string, other: string): boolean {
  return existsSync(existing) && canonical(existing) === canonical(other);
}

/**
 * Refuses when `output` (given by flag `outFlag`) is the same file as one of the inputs, or is a
 * directory. Inputs are [flag, path] pairs; absent paths are skipped.
 */
export function checkOutputPath(outFlag: string, output: string, inputs: ReadonlyArray<readonly [string, string | undefined]>): void {
  for (const [flag, input] of inputs) {
    if (input && isSameFile(input, output)) {
      throw new UserError(`--${outFlag} ${output} is the ${flag} file: refusing to overwrite an input`);
    }
  }
  if (output === '') throw new UserError(`--${outFlag}: the path is empty`);
  if (existsSync(output) && statSync(output).isDirectory()) throw new UserError(`--${outFlag} ${output}: is a directory (a file is needed)`);
}

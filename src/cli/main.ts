import { Command, CommanderError } from 'commander';
import { oneLine, UserError } from '../core/errors.js';
import { commandModules } from './commands.js';
import { VERSION } from '../core/version.js';
import { installKernelsFromEnv } from '../kernels/wasm/install.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('seqrec')
    .description('Sequential recommendation: train, evaluate and serve SASRec-family models.')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  for (const register of commandModules) register(program);
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

const FILE_ERRORS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EISDIR: 'is a directory (a file is needed)',
  ENOTDIR: 'a part of the path is not a directory',
  EEXIST: 'already exists and is not a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  ENAMETOOLONG: 'file name too long',
  ELOOP: 'too many symbolic links',
  EMFILE: 'too many open files',
};

/**
 * A file-system error as one line naming the path it concerns: for a rename, the destination (the
 * source is seqrec's own temporary file), with its temporary suffix removed.
 */
export function fileErrorLine(err: unknown): string | null {
  const e = err as NodeJS.ErrnoException & { dest?: string };
  if (!(err instanceof Error) || typeof e.code !== 'string' || !(e.code in FILE_ERRORS)) return null;
  const target = e.dest ?? e.path;
  if (typeof target !== 'string') return null;
  const shown = target.replace(/\.tmp-[0-9a-z-]+$/i, '');
  return `${shown === '' ? '(empty path)' : shown}: ${FILE_ERRORS[e.code]}`;
}

let stdoutGuarded = false;

/**
 * Standard output that cannot be written (a full disk, a closed pipe) raises an 'error' event no
 * caller awaits: without a listener it is a stack trace. A closed pipe (`| head`) ends the process
 * quietly; anything else is one line and exit code 1.
 */
function guardStdout(): void {
  if (stdoutGuarded) return;
  stdoutGuarded = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    process.stderr.write(`seqrec: standard output: ${(err.code && FILE_ERRORS[err.code]) || err.message}\n`);
    process.exit(1);
  });
}

/** Runs the CLI; resolves to the process exit code. Errors become one line on stderr. */
export async function main(argv: string[]): Promise<number> {
  guardStdout();
  const program = buildProgram();
  try {
    installKernelsFromEnv();
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit with code 0; commander already printed its message
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof UserError) {
      process.stderr.write(`seqrec: ${oneLine(err.message)}\n`);
      return 2;
    }
    const fileLine = fileErrorLine(err);
    if (fileLine) {
      process.stderr.write(`seqrec: ${oneLine(fileLine)}\n`);
      return 2;
    }
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`seqrec: ${oneLine(msg)}\n`);
    if (process.env.SEQREC_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}

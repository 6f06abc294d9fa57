import { Command, CommanderError } from 'commander';
import { UserError } from './errors.js';
import { commandModules } from './commands.js';
import { VERSION } from '../version.js';
import '../train/models.js';
import { useWasmKernels } from '../kernels/wasm/install.js';

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

/** Runs the CLI; resolves to the process exit code. Errors become one line on stderr. */
/** The fast WebAssembly kernels unless SEQREC_KERNELS=reference asks for the plain-TypeScript ones. */
function selectKernels(): void {
  const choice = process.env.SEQREC_KERNELS ?? 'wasm';
  if (choice === 'reference') return;
  if (choice !== 'wasm') throw new UserError(`SEQREC_KERNELS: expected wasm or reference, got "${choice}"`);
  useWasmKernels();
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    selectKernels();
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit with code 0; commander already printed its message
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof UserError) {
      process.stderr.write(`seqrec: ${err.message}\n`);
      return 2;
    }
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`seqrec: ${msg}\n`);
    if (process.env.SEQREC_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI: `node --import tsx src/cli/run.ts ...args`, from the repo root, or from `cwd` (for
 * commands that read paths relative to the working directory, as the reference's data/NAME.txt).
 */
export function runCli(args: string[], options: { stdin?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const entry = options.cwd
      ? [import.meta.resolve('tsx'), fileURLToPath(new URL('../../src/cli/run.ts', import.meta.url))]
      : ['tsx', 'src/cli/run.ts'];
    const child = spawn(process.execPath, ['--import', entry[0], entry[1], ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}

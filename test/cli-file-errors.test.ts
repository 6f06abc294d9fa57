/**
 * File-system trouble outside seqrec's control (a directory where a file is expected, a file where a
 * directory is, an unwritable standard output) ends in one line naming the path, never a Node stack
 * trace or a raw "EISDIR: illegal operation on a directory, read".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileErrorLine } from '../src/cli/main.js';
import { runCli } from './helpers/cli.js';
import { testTempDir } from './helpers/tmp.js';

const dir = testTempDir('seqrec-file-errors-');
const tiny = 'test/fixtures/data/tiny.txt';

/** The one `seqrec:` line of stderr, asserting it is the only one and the last line (no trace after it). */
function oneErrorLine(stderr: string): string {
  const errors = stderr
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('seqrec:'));
  assert.equal(errors.length, 1, stderr);
  assert.ok(stderr.trim().endsWith(errors[0]), `no stack trace after the error:\n${stderr}`);
  assert.doesNotMatch(stderr, /\n\s+at /, 'no stack frames');
  return errors[0];
}

test('a directory given as the data file is named, for every command that reads one', async () => {
  const d = join(dir, 'a-directory');
  mkdirSync(d, { recursive: true });
  for (const args of [
    ['data', 'stats', '--dataset', d],
    ['train', '--model', 'pop', '--dataset', d, '--train_dir', join(dir, 'unused')],
    ['convert', '--input', d, '--output', join(dir, 'out.txt')],
  ]) {
    const r = await runCli(args);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(oneErrorLine(r.stderr), `seqrec: ${d}: is a directory, expected a data file`);
  }
  const empty = await runCli(['data', 'stats', '--dataset', '']);
  assert.equal(empty.code, 2);
  assert.equal(oneErrorLine(empty.stderr), 'seqrec: the data file path is empty');
});

test('--train_dir naming an existing file is refused with its path', async () => {
  const f = join(dir, 'a-file');
  writeFileSync(f, 'keep me\n');
  const r = await runCli(['train', '--model', 'pop', '--dataset', tiny, '--train_dir', f]);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(oneErrorLine(r.stderr), `seqrec: ${f}: already exists and is not a directory`);
});

test('fileErrorLine: a failed rename names the destination without the temporary suffix; other errors pass', () => {
  const rename = Object.assign(new Error("EISDIR: illegal operation on a directory, rename 'x/o.txt.tmp-123' -> 'x/o.txt'"), {
    code: 'EISDIR',
    path: 'x/o.txt.tmp-123',
    dest: 'x/o.txt',
  });
  assert.equal(fileErrorLine(rename), 'x/o.txt: is a directory (a file is needed)');
  const write = Object.assign(new Error('EPERM'), { code: 'EPERM', path: '/r/config.json.tmp-30603-9f0a1b2c3d4e' });
  assert.equal(fileErrorLine(write), '/r/config.json: operation not permitted');
  assert.equal(fileErrorLine(new Error('plain')), null);
  assert.equal(fileErrorLine(Object.assign(new Error('no path'), { code: 'EISDIR' })), null);
});

/** Runs the CLI with its standard output on /dev/full (every write fails with ENOSPC). */
function runToFullDevice(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const full = openSync('/dev/full', 'w');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/run.ts', ...args], { stdio: ['ignore', full, 'pipe'] });
    closeSync(full);
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stderr }));
  });
}

test('an unwritable standard output is one line and exit 1; train has written its files first', {
  skip: !existsSync('/dev/full') && 'no /dev/full',
}, async () => {
  const stats = await runToFullDevice(['data', 'stats', '--dataset', tiny]);
  assert.equal(stats.code, 1, stats.stderr);
  assert.equal(oneErrorLine(stats.stderr), 'seqrec: standard output: no space left on device');
  const runDir = join(dir, 'full-stdout');
  const train = await runToFullDevice(['train', '--model', 'pop', '--dataset', tiny, '--train_dir', runDir]);
  assert.equal(train.code, 1, train.stderr);
  assert.equal(oneErrorLine(train.stderr), 'seqrec: standard output: no space left on device');
  for (const f of ['poprec.json', 'results.json', 'summary.txt']) assert.ok(existsSync(join(runDir, f)), `${f} written before the table`);
});

test('a --train_dir that cannot be created is one line, and never hangs (Node 20 recursive mkdir loops under /proc)', {
  timeout: 60_000,
}, async () => {
  const f = join(dir, 'plain-file');
  writeFileSync(f, 'x\n');
  const under = await runCli(['train', '--model', 'pop', '--dataset', tiny, '--train_dir', join(f, 'sub')]);
  assert.equal(under.code, 2, under.stderr);
  assert.equal(oneErrorLine(under.stderr), `seqrec: ${join(f, 'sub')}: a part of the path is not a directory`);
  if (existsSync('/proc/self')) {
    const proc = await runCli(['train', '--model', 'pop', '--dataset', tiny, '--train_dir', '/proc/seqrec-cannot-exist']);
    assert.equal(proc.code, 2, proc.stderr);
    assert.equal(oneErrorLine(proc.stderr), 'seqrec: /proc/seqrec-cannot-exist: no such file or directory');
  }
});

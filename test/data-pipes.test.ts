/**
 * Datasets from pipes (issue 23, finding 8): `--dataset -` (standard input), /dev/stdin and a FIFO are
 * read once (format detection and the data from the same bytes), gzipped or not; no bare ESPIPE.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { runCli } from './helpers/cli.js';
import { testTempDir } from './helpers/tmp.js';

const dir = testTempDir('seqrec-pipes-');
const text = 'u1 i1 1\nu1 i2 2\nu1 i3 3\nu2 i1 1\nu2 i3 2\nu2 i2 3\nu3 i2 5\n';

test('`--dataset -` and `--dataset /dev/stdin` read standard input, plain or gzipped', async () => {
  for (const dataset of ['-', '/dev/stdin']) {
    const r = await runCli(['data', 'stats', '--dataset', dataset], { stdin: text });
    assert.equal(r.code, 0, `${dataset}: ${r.stderr}`);
    assert.match(r.stdout, /users\s+3/);
    assert.match(r.stdout, /timestamps yes/);
  }
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/run.ts', 'data', 'stats', '--dataset', '-'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stdin.end(gzipSync(text));
  const code = await new Promise((r) => child.on('close', r));
  assert.equal(code, 0);
  assert.match(out, /actions\s+7/);
});

test('a FIFO is read once, like a file', async () => {
  const fifo = join(dir, 'events.fifo');
  execFileSync('mkfifo', [fifo]);
  const writer = spawn('sh', ['-c', `printf '${text.replace(/\n/g, '\\n')}' > '${fifo}'`]);
  const written = new Promise((res) => writer.on('close', res));
  const r = await runCli(['data', 'stats', '--dataset', fifo]);
  await written;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /users\s+3/);
});

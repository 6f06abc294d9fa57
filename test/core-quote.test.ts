/**
 * Error messages quote at most a short, sanitised excerpt of their input (issue 23, finding 9):
 * `quote` in every message that quotes input, `oneLine` as the CLI's last guard.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { oneLine, quote } from '../src/core/errors.js';
import { runCli } from './helpers/cli.js';
import { testTempDir } from './helpers/tmp.js';

test('quote: double-quoted, unsafe characters escaped, long input cut with the rest counted', () => {
  assert.equal(quote('u1'), '"u1"');
  assert.equal(quote('a"b\\c'), '"a\\"b\\\\c"');
  assert.equal(quote('\u001b[2J\u0007x\u009b\u202e\n'), '"\\u001b[2J\\u0007x\\u009b\\u202e\\u000a"');
  const long = quote('x'.repeat(10_000_000));
  assert.equal(long, `"${'x'.repeat(60)}" (… ${10_000_000 - 60} more characters)`);
  assert.equal(quote('é'.repeat(70), 10), `"${'é'.repeat(10)}" (… 60 more characters)`);
  assert.equal(quote(12), '"12"');
});

test('oneLine: one terminal line of bounded length', () => {
  const m = oneLine(`bad\n\u001b[31m${'y'.repeat(5000)}`);
  assert.ok(!m.includes('\n') && !m.includes('\u001b'));
  assert.ok(m.length < 1100, String(m.length));
  assert.match(m, /more characters\)$/);
});

const dir = testTempDir('seqrec-quote-');

test('a 4 MB CSV header with terminal escapes gives one short, escaped line on stderr', async () => {
  const file = join(dir, 'bad.csv');
  const header = Array.from({ length: 400_000 }, (_, i) => `c${i}\u001b[2J`).join(',');
  writeFileSync(file, `${header}\n${header.replace(/c/g, 'v')}\n`);
  const r = await runCli(['train', '--model', 'pop', '--dataset', file, '--train_dir', join(dir, 'run')]);
  assert.equal(r.code, 2, r.stderr.slice(0, 500));
  assert.ok(r.stderr.length < 1000, `stderr is ${r.stderr.length} characters`);
  assert.ok(!r.stderr.includes('\u001b'), 'no raw escape byte');
  assert.match(r.stderr, /^seqrec: .*bad\.csv:1: cannot tell which column is the user id in header "c0\\u001b\[2J, c1/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});

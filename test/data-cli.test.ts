import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readInteractions } from '../src/data/index.js';
import { sharedPath, NEEDS_SHARED } from './helpers/shared.js';

const repoRoot = path.resolve(fileURLToPath(import.meta.url), '../..');
const fx = (name: string) => path.join(repoRoot, 'test/fixtures/data', name);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function seqrec(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/run.ts', ...args], { cwd: repoRoot }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function oneLineError(r: Run, pattern: RegExp): void {
  assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line expected, got: ${r.stderr}`);
  assert.match(lines[0], pattern);
}

test('data stats prints the Games counts', { skip: NEEDS_SHARED }, async () => {
  const r = await seqrec('data', 'stats', '--dataset', sharedPath('data/games/Video.txt'));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^users +31,013$/m);
  assert.match(r.stdout, /^items +23,715$/m);
  assert.match(r.stdout, /^actions +287,107$/m);
});

test('data stats --json with k-core flags (kebab aliases) on ml-100k', { skip: NEEDS_SHARED }, async () => {
  const r = await seqrec('data', 'stats', '--dataset', sharedPath('data/ml-100k/u.data'), '--min-user-count', '5', '--min_item_count', '5', '--json');
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.deepEqual([s.users, s.items, s.actions, s.hasTimes], [943, 1349, 99287, true]);
});

test('convert writes dense SASRec lines with timestamps plus id maps, readable back', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'seqrec-convert-'));
  try {
    const out = path.join(dir, 'out.txt');
    const r = await seqrec('convert', '--input', fx('tiny-ts.txt'), '--output', out);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(out, 'utf8'), '1 1 50\n1 3 100\n1 2 100\n2 1 100\n2 3 100\n2 2 300\n');
    assert.equal(readFileSync(`${out}.users.tsv`, 'utf8'), '1\tu10\n2\tu7\n');
    assert.equal(readFileSync(`${out}.items.tsv`, 'utf8'), '1\ta\n2\tb\n3\tc\n');
    const back = await readInteractions(out);
    assert.deepEqual(
      back.seqs.slice(1).map((s) => Array.from(s)),
      [
        [1, 3, 2],
        [1, 3, 2],
      ],
    );

    const plain = path.join(dir, 'plain.txt');
    const r2 = await seqrec('convert', '--input', fx('tiny.csv'), '--output', plain, '--no_times', '--sep', 'tab');
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal(readFileSync(plain, 'utf8'), '1\t1\n1\t3\n2\t1\n2\t2\n');
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.includes('.tmp-')),
      [],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('errors: malformed line, empty file, bad flag value → exit 2 and one line; nothing written', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'seqrec-convert-'));
  try {
    const out = path.join(dir, 'out.txt');
    oneLineError(
      await seqrec('convert', '--input', fx('malformed.txt'), '--output', out),
      /^seqrec: .*malformed\.txt:4: expected "user item", got "three 13 x y"$/,
    );
    oneLineError(await seqrec('data', 'stats', '--dataset', fx('empty.txt')), /^seqrec: .*empty\.txt: no interactions/);
    oneLineError(
      await seqrec('convert', '--input', fx('tiny.txt'), '--output', out, '--min_user_count', 'abc'),
      /^seqrec: --min_user_count: expected an integer ≥ 0, got "abc"$/,
    );
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('unknown flag → commander error, non-zero exit', async () => {
  const r = await seqrec('data', 'stats', '--no-such-flag');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /unknown option '--no-such-flag'/);
  assert.equal(existsSync(path.join(repoRoot, '--no-such-flag')), false);
});

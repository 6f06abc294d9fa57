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

test('data stats reads Beauty.txt (one sequence per line) through --format auto', { skip: NEEDS_SHARED }, async () => {
  const r = await seqrec('data', 'stats', '--dataset', sharedPath('data/beauty-s3rec/Beauty.txt'), '--json');
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.deepEqual([s.users, s.items, s.actions, s.hasTimes, s.minLength], [22363, 12101, 198502, false, 5]);
});

test('convert --layout sequences and back: the fixture, timestamps dropped with a note, the same interactions', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'seqrec-convert-'));
  try {
    const dense = async (p: string, format?: 'sequences') => (await readInteractions(p, { format })).seqs.slice(1).map((s) => Array.from(s));
    // sequences → sasrec
    const events = path.join(dir, 'events.txt');
    const r1 = await seqrec('convert', '--input', fx('sequences-short.txt'), '--output', events);
    assert.equal(r1.code, 0, r1.stderr);
    assert.equal(readFileSync(events, 'utf8'), '1 2\n1 3\n2 1\n2 1\n3 3\n3 1\n3 2\n');
    assert.equal(readFileSync(`${events}.users.tsv`, 'utf8'), '1\t3\n2\t9\n3\t12\n');
    assert.equal(readFileSync(`${events}.items.tsv`, 'utf8'), '1\t10\n2\t20\n3\t30\n');
    assert.doesNotMatch(r1.stderr, /note:/);
    const original = await dense(fx('sequences-short.txt'));
    assert.deepEqual(await dense(events), original);
    // sasrec → sequences
    const lines = path.join(dir, 'lines.txt');
    const r2 = await seqrec('convert', '--input', events, '--output', lines, '--layout', 'sequences');
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal(readFileSync(lines, 'utf8'), '1 2 3\n2 1 1\n3 3 1 2\n');
    assert.match(r2.stderr, /^wrote .*lines\.txt: 3 users, 3 items, 7 actions, one line per user; id maps /);
    assert.doesNotMatch(r2.stderr, /note:/);
    assert.deepEqual(await dense(lines), original);

    // timestamps are dropped; every user has 3 items, so 4 numeric fields a line: auto would say u.data
    const timed = path.join(dir, 'timed.txt');
    const r3 = await seqrec('convert', '--input', fx('tiny-ts.txt'), '--output', timed, '--layout', 'sequences', '--sep', 'tab');
    assert.equal(r3.code, 0, r3.stderr);
    assert.equal(readFileSync(timed, 'utf8'), '1\t1\t3\t2\n2\t1\t3\t2\n');
    assert.match(r3.stderr, /6 actions, one line per user \(timestamps dropped: the sequences layout has none\)/);
    assert.match(r3.stderr, /\nnote: --format auto reads .*timed\.txt as ml-udata .*; read it with --format sequences\n$/);
    assert.deepEqual(await dense(timed, 'sequences'), await dense(fx('tiny-ts.txt')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('convert Beauty.txt to sasrec and back to sequences gives the same file', { skip: NEEDS_SHARED }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'seqrec-convert-'));
  try {
    const beauty = sharedPath('data/beauty-s3rec/Beauty.txt');
    const events = path.join(dir, 'events.txt');
    const back = path.join(dir, 'Beauty.txt');
    const r1 = await seqrec('convert', '--input', beauty, '--output', events);
    assert.equal(r1.code, 0, r1.stderr);
    assert.match(r1.stderr, /22363 users, 12101 items, 198502 actions;/);
    assert.equal(readFileSync(events, 'utf8').split('\n', 6).join(' '), '1 1 1 2 1 3 1 4 1 5 2 6');
    const r2 = await seqrec('convert', '--input', events, '--output', back, '--layout', 'sequences');
    assert.equal(r2.code, 0, r2.stderr);
    assert.doesNotMatch(r2.stderr, /note:/);
    assert.ok(readFileSync(back).equals(readFileSync(beauty)), 'Beauty.txt converted twice differs');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('convert --help shows --layout and the detection rule; a bad --layout is one line, nothing written', async () => {
  const help = await seqrec('convert', '--help');
  assert.equal(help.code, 0, help.stderr);
  const text = help.stdout.replace(/\s+/g, ' ');
  assert.match(
    text,
    /--layout <layout> sasrec: one "user item \[timestamp\]" line per interaction; sequences: one "user item1 item2 …" line per user/,
  );
  assert.match(text, /\(default sasrec\)/);
  assert.match(text, /a sequences file is one where no user starts two lines and a line has more than 4 fields or the lines differ in length/);
  assert.match(text, /--format <name> .*\(auto \| sasrec \| sequences \| ml-ratings/);
  const dir = mkdtempSync(path.join(tmpdir(), 'seqrec-convert-'));
  try {
    oneLineError(
      await seqrec('convert', '--input', fx('tiny.txt'), '--output', path.join(dir, 'out.txt'), '--layout', 'lines'),
      /^seqrec: --layout: expected sasrec or sequences, got "lines"$/,
    );
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

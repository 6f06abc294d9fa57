import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { readInteractions, bundledDatasetPath, datasetStats, detectFileFormat, loadDataset } from '../src/data/index.js';
import { UserError } from '../src/core/errors.js';
import type { Interactions } from '../src/data/types.js';
import { sharedPath, NEEDS_SHARED } from './helpers/shared.js';

const repoRoot = path.resolve(fileURLToPath(import.meta.url), '../..');
const fx = (name: string) => path.join(repoRoot, 'test/fixtures/data', name);
const shared = (name: string) => sharedPath('data', name);

const seqs = (d: Interactions) => d.seqs.slice(1).map((s) => Array.from(s));
const times = (d: Interactions) => d.times!.slice(1).map((t) => Array.from(t));

async function rejectsUser(p: Promise<unknown>, pattern: RegExp) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof UserError, `expected UserError, got ${String(err)}`);
    assert.match(err.message, pattern);
    assert.ok(!err.message.includes('\n'), 'message must be one line');
    return true;
  });
}

test('sasrec "user item": file order, dense ids in ascending numeric raw order, blank trailing lines', async () => {
  const d = await readInteractions(fx('tiny.txt'));
  assert.equal(d.userNum, 3);
  assert.equal(d.itemNum, 4);
  assert.deepEqual(d.items.toRaw, ['', '10', '11', '12', '13']);
  assert.deepEqual(d.users.toRaw, ['', '1', '2', '3']);
  assert.equal(d.items.toIndex.get('12'), 3);
  assert.deepEqual(seqs(d), [
    [1, 2, 3],
    [2, 4, 1, 3],
    [4, 1],
  ]);
  assert.equal(d.seqs[0].length, 0);
  assert.equal(d.times, undefined);
});

test('sasrec with timestamps (tabs): string ids sorted as strings, events sorted by time, stable for ties', async () => {
  const d = await readInteractions(fx('tiny-ts.txt'));
  assert.deepEqual(d.users.toRaw, ['', 'u10', 'u7']);
  assert.deepEqual(d.items.toRaw, ['', 'a', 'b', 'c']);
  // u10: c@100, a@50, b@100 → a, c, b (c before b: tie keeps file order)
  // u7: b@300, a@100, c@100 → a, c, b
  assert.deepEqual(seqs(d), [
    [1, 3, 2],
    [1, 3, 2],
  ]);
  assert.deepEqual(times(d), [
    [50, 100, 100],
    [100, 100, 300],
  ]);
});

test('MovieLens ratings.dat: "::" separated, numeric id order (10 after 2), time sorted', async () => {
  const d = await readInteractions(fx('ratings.dat'));
  assert.deepEqual(d.users.toRaw, ['', '2', '5']);
  assert.deepEqual(d.items.toRaw, ['', '1', '2', '3', '10']);
  assert.deepEqual(seqs(d), [
    [1, 4, 3],
    [1, 3, 2],
  ]);
  assert.deepEqual(times(d), [
    [978301000, 978301500, 978302000],
    [978300700, 978300760, 978300760],
  ]);
});

test('MovieLens u.data (tab, rating ignored)', async () => {
  const d = await readInteractions(fx('u.data'));
  assert.deepEqual(d.users.toRaw, ['', '22', '186', '196']);
  assert.deepEqual(d.items.toRaw, ['', '51', '242', '302', '377']);
  assert.deepEqual(seqs(d), [[4], [1, 3], [1, 2]]);
});

test('CSV with header: default column names, quoted fields with commas and escaped quotes', async () => {
  const d = await readInteractions(fx('tiny.csv'));
  assert.deepEqual(d.users.toRaw, ['', 'alice', 'bob']);
  assert.deepEqual(d.items.toRaw, ['', 'Alien', 'Say "hi"', 'The Matrix, 1999']);
  assert.deepEqual(seqs(d), [
    [1, 3],
    [1, 2],
  ]);
  assert.deepEqual(times(d), [
    [900, 1000],
    [1000, 1100],
  ]);
});

test('TSV needs --user_col/--item_col for unknown headers; ISO dates become unix seconds', async () => {
  await rejectsUser(readInteractions(fx('tiny.tsv')), /tiny\.tsv:1: cannot tell which column is the user id .*--user_col/);
  await rejectsUser(readInteractions(fx('tiny.tsv'), { userCol: 'nope' }), /tiny\.tsv:1: no column "nope" \(--user_col\)/);
  const d = await readInteractions(fx('tiny.tsv'), { userCol: 'visitor', itemCol: 'thing', timeCol: 'when' });
  assert.deepEqual(d.users.toRaw, ['', 'v1', 'v2']);
  assert.deepEqual(seqs(d), [[2], [2, 1]]);
  assert.deepEqual(times(d), [[1577836800], [1577836800, 1577923200]]);
  const noTime = await readInteractions(fx('tiny.tsv'), { userCol: 'visitor', itemCol: 'thing', timeCol: 'none' });
  assert.equal(noTime.times, undefined);
  assert.deepEqual(seqs(noTime), [[2], [1, 2]]);
});

test('JSONL with numeric and string ids', async () => {
  const d = await readInteractions(fx('tiny.jsonl'));
  assert.deepEqual(d.users.toRaw, ['', '1', '3']);
  assert.deepEqual(seqs(d), [[2], [2, 1]]);
});

test('explicit --format overrides detection', async () => {
  // u.data content read as sasrec has 4 fields per line → error on line 1
  await rejectsUser(readInteractions(fx('u.data'), { format: 'sasrec' }), /u\.data:1: expected "user item"/);
  await rejectsUser(readInteractions(fx('u.data'), { format: 'bogus' as never }), /unknown format "bogus"/);
});

test('malformed line → UserError naming file and 1-based line', async () => {
  await rejectsUser(readInteractions(fx('malformed.txt')), /malformed\.txt:4: expected "user item", got "three 13 x y"/);
  await rejectsUser(readInteractions(fx('ratings.dat'), { format: 'ml-udata' }), /ratings\.dat:1: expected "user<TAB>item/);
});

test('infinite timestamps (1e400) and one column named for two roles → UserError', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'seqrec-readers-'));
  try {
    const write = (name: string, text: string) => {
      const p = path.join(dir, name);
      writeFileSync(p, text);
      return p;
    };
    await rejectsUser(readInteractions(write('inf.txt', 'u1 i1 5\nu1 i2 1e400\n')), /inf\.txt:2: the timestamp "1e400" is not a finite number$/);
    await rejectsUser(readInteractions(write('inf.csv', 'user,item,timestamp\nu1,i1,-1e999\n')), /inf\.csv:2: bad timestamp "-1e999"/);
    await rejectsUser(readInteractions(write('inf.jsonl', '{"user":"u1","item":"i1","timestamp":1e400}\n')), /inf\.jsonl:1: bad timestamp/);
    await rejectsUser(
      readInteractions(fx('tiny.csv'), { userCol: 'movieId', itemCol: 'movieId' }),
      /tiny\.csv: --user_col and --item_col are the same column "movieId"$/,
    );
    await rejectsUser(
      readInteractions(fx('tiny.csv'), { timeCol: 'userId' }),
      /the detected user column and --time_col are the same column "userId" \(name the other columns too/,
    );
    await rejectsUser(
      readInteractions(fx('tiny.csv'), { userCol: 'timestamp' }),
      /--user_col and the detected time column are the same column "timestamp"/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('empty, blank-only and missing files → UserError', async () => {
  await rejectsUser(readInteractions(fx('empty.txt')), /empty\.txt: no interactions \(the file is empty\)/);
  await rejectsUser(readInteractions(fx('blank.txt')), /blank\.txt: no interactions/);
  await rejectsUser(readInteractions(fx('does-not-exist.txt')), /does-not-exist\.txt: no such file/);
});

test('.gz files are gunzipped by content (any name); corrupt gzip → UserError', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'seqrec-data-'));
  try {
    const gz = path.join(dir, 'ratings.dat.gz');
    writeFileSync(gz, gzipSync(Buffer.from('5::3::4::978300760\n5::1::3::978300700\n')));
    const d = await readInteractions(gz);
    assert.deepEqual(seqs(d), [[1, 2]]);
    assert.deepEqual(times(d), [[978300700, 978300760]]);
    const bad = path.join(dir, 'bad.txt.gz');
    writeFileSync(bad, gzipSync(Buffer.from('1 2\n'.repeat(5000))).subarray(0, 60));
    await assert.rejects(readInteractions(bad), (err: unknown) => err instanceof UserError && /bad\.txt\.gz/.test(err.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Games Video.txt (shared copy): 31,013 users, 23,715 items, ids map to themselves', { skip: NEEDS_SHARED }, async () => {
  const d = await readInteractions(shared('games/Video.txt'));
  const s = datasetStats(d);
  assert.equal(s.users, 31013);
  assert.equal(s.items, 23715);
  assert.equal(s.actions, 287107);
  for (const u of [1, 2, 5000, 31013]) assert.equal(d.users.toRaw[u], String(u));
  for (const i of [1, 77, 23715]) assert.equal(d.items.toRaw[i], String(i));
});

test('bundled data/games/Video.txt.gz reads to the same dataset', { skip: NEEDS_SHARED }, async () => {
  const p = bundledDatasetPath();
  assert.equal(p, path.join(repoRoot, 'data/games/Video.txt.gz'));
  const d = await loadDataset(p);
  const s = datasetStats(d);
  assert.deepEqual([s.users, s.items, s.actions], [31013, 23715, 287107]);
  assert.equal(s.maxLength, 860);
  const plain = await readInteractions(shared('games/Video.txt'));
  for (const u of [1, 123, 31013]) assert.deepEqual(Array.from(d.seqs[u]), Array.from(plain.seqs[u]));
});

/** Runs `body` with a function that writes a file in a temporary folder (returning its path); removes the folder. */
async function withFiles(body: (write: (name: string, text: string | Buffer) => string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'seqrec-sequences-'));
  try {
    await body((name, text) => {
      const p = path.join(dir, name);
      writeFileSync(p, text);
      return p;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('sequences fixture (4- then 3-field lines, the first like u.data) is detected as sequences: one line per user, no times', async () => {
  assert.equal(await detectFileFormat(fx('sequences-short.txt')), 'sequences');
  const d = await readInteractions(fx('sequences-short.txt'));
  assert.deepEqual(d.users.toRaw, ['', '3', '9', '12']);
  assert.deepEqual(d.items.toRaw, ['', '10', '20', '30']);
  // 3: 20 30 · 9: 10 10 (a repeated item is kept) · 12: 30 10 20, in file order
  assert.deepEqual(seqs(d), [
    [2, 3],
    [1, 1],
    [3, 1, 2],
  ]);
  assert.equal(d.times, undefined);
  assert.deepEqual(seqs(await readInteractions(fx('sequences-short.txt'), { format: 'sequences' })), seqs(d));
  // the first line alone would say u.data, and u.data refuses the second line
  await rejectsUser(readInteractions(fx('sequences-short.txt'), { format: 'ml-udata' }), /sequences-short\.txt:2: expected "user<TAB>item/);
});

test('detection: existing fixtures keep their formats; heads of equal 2–4-field lines keep the first line’s candidate', async () => {
  const expected: Record<string, string> = {
    'tiny.txt': 'sasrec',
    'tiny-ts.txt': 'sasrec',
    'few.txt': 'sasrec',
    'malformed.txt': 'sasrec',
    'u.data': 'ml-udata',
    'ratings.dat': 'ml-ratings',
    'tiny.csv': 'csv',
    'tiny.tsv': 'tsv',
    'tiny.jsonl': 'jsonl',
  };
  for (const [name, format] of Object.entries(expected)) assert.equal(await detectFileFormat(fx(name)), format, name);

  await withFiles(async (write) => {
    const detected = async (name: string, text: string | Buffer) => detectFileFormat(write(name, text));
    // u.data's content under another name: four numeric fields, users on several lines
    assert.equal(await detected('udata.txt', readFileSync(fx('u.data'))), 'ml-udata');
    // ambiguous heads (every line the same 2–4 fields): read as before
    assert.equal(await detected('same2.txt', '1 10\n2 11\n3 12\n'), 'sasrec');
    assert.equal(await detected('same3.txt', '1 10 11\n2 11 12\n'), 'sasrec');
    assert.deepEqual(times(await readInteractions(write('same3.txt', '1 10 11\n2 11 12\n'))), [[11], [12]]);
    assert.equal(await detected('same4.txt', '1 10 11 12\n2 11 12 13\n'), 'ml-udata');
    // a one-field line fits no format: it does not make the lengths differ
    assert.equal(await detected('lone.txt', '1 10\n2\n3 11\n'), 'sasrec');
    // more than 4 fields: only sequences has them, even on a single line
    assert.equal(await detected('long.txt', '1 10 11 12 13\n'), 'sequences');
    // a user on two lines is never sequences
    assert.equal(await detected('repeat.txt', '1 10 11 12 13\n1 14\n'), 'sasrec');
    assert.equal(await detected('repeat3.txt', '1 10 5\n2 11\n1 12 7\n'), 'sasrec');
    // tab-separated numbers are no TSV header; a real header keeps TSV even when values hold spaces
    assert.equal(await detected('tabs.txt', '1\t5\t6\t7\t8\n2\t5\n'), 'sequences');
    assert.equal(await detected('table.txt', 'user_id\titem_id\ttitle\n1\t2\tThe Matrix\n2\t3\tAlien\n'), 'tsv');
    // gzipped, any name
    assert.equal(await detected('beauty.gz', gzipSync(Buffer.from('1 1 2\n2 3 4 5\n'))), 'sequences');
    // the file name still wins
    assert.equal(await detected('u.data', '1 10 11\n2 11 12 13\n'), 'ml-udata');
    // only the first 1,000 lines are looked at: lengths that differ from line 1,001 on are not seen
    const equal = Array.from({ length: 1000 }, (_, k) => `${k + 1} 7 8\n`).join('');
    assert.equal(await detected('late.txt', `${equal}1001 7 8 9 10 11\n`), 'sasrec');
    assert.equal(await detected('early.txt', `${equal.slice(0, -'1000 7 8\n'.length)}1000 7 8 9 10 11\n`), 'sequences');
  });
});

test('sequences errors: no item, a user on two lines (in and after the detection head) → one line naming file:line', async () => {
  await withFiles(async (write) => {
    await rejectsUser(
      readInteractions(write('noitem.txt', '1 10 11 12 13\n\n2\n3 10\n')),
      /noitem\.txt:3: user "2" has no items \(expected "user item1 item2 …"\)$/,
    );
    await rejectsUser(
      readInteractions(write('dup.txt', '1 10 11\n2 12\n1 13\n'), { format: 'sequences' }),
      /dup\.txt:3: user "1" is on line 1 too \(the sequences format has one line per user\)$/,
    );
    await rejectsUser(readInteractions(fx('tiny.txt'), { format: 'sequences' }), /tiny\.txt:2: user "1" is on line 1 too/);
    const many = Array.from({ length: 1001 }, (_, k) => `${k + 1} 7 8${k % 2 ? ' 9' : ''}\n`).join('');
    await rejectsUser(readInteractions(write('late-dup.txt', `${many}5 7\n`)), /late-dup\.txt:1002: user "5" is on line 5 too/);
    // a repeated user keeps detection from sequences; the refused line says what would read it
    await rejectsUser(
      readInteractions(write('repeat.txt', '1 10 11 12 13\n1 14\n')),
      /repeat\.txt:1: expected "user item" \(one sequence per line\? --format sequences\), got "1 10 11 12 13"$/,
    );
  });
});

test('Beauty.txt (S3-Rec, shared copy): detected as sequences; 22,363 users, 12,101 items, 198,502 actions', { skip: NEEDS_SHARED }, async () => {
  const p = shared('beauty-s3rec/Beauty.txt');
  assert.equal(await detectFileFormat(p), 'sequences');
  const d = await readInteractions(p);
  const s = datasetStats(d);
  assert.deepEqual([s.users, s.items, s.actions], [22363, 12101, 198502]);
  assert.equal(d.times, undefined);
  // its ids are 1..N, so the maps are the identity; the first lines are "1 1 2 3 4 5" and "2 6 7 8 9 10 4 11"
  for (const u of [1, 2, 22363]) assert.equal(d.users.toRaw[u], String(u));
  for (const i of [1, 4, 12101]) assert.equal(d.items.toRaw[i], String(i));
  assert.deepEqual(Array.from(d.seqs[1]), [1, 2, 3, 4, 5]);
  assert.deepEqual(Array.from(d.seqs[2]), [6, 7, 8, 9, 10, 4, 11]);
});

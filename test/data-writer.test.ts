import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readInteractions, writeIdMaps, writeSasrecFile, writeSequencesFile, datasetStats, formatStats } from '../src/data/index.js';
import { writeFileAtomic } from '../src/io/atomic.js';
import { sharedPath, NEEDS_SHARED } from './helpers/shared.js';

const repoRoot = path.resolve(fileURLToPath(import.meta.url), '../..');

test('a failed write leaves the previous file untouched and no temporary file', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'seqrec-writer-'));
  try {
    const target = path.join(dir, 'out.txt');
    writeFileSync(target, 'old\n');
    await assert.rejects(
      writeFileAtomic(
        target,
        (async function* () {
          for (let k = 0; k < 20000; k++) yield '1 2\n';
          throw new Error('boom');
        })(),
      ),
      /boom/,
    );
    assert.equal(readFileSync(target, 'utf8'), 'old\n');
    assert.deepEqual(readdirSync(dir), ['out.txt']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writeSasrecFile + writeIdMaps round-trip MovieLens ids and times; large files stream in chunks', { skip: NEEDS_SHARED }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'seqrec-writer-'));
  try {
    const src = await readInteractions(sharedPath('data/ml-100k/u.data'));
    const out = path.join(dir, 'ml.txt');
    await writeSasrecFile(src, out);
    const maps = await writeIdMaps(src, out);
    const back = await readInteractions(out);
    assert.deepEqual(datasetStats(back), datasetStats(src));
    for (const u of [1, 500, 943]) {
      assert.deepEqual(Array.from(back.seqs[u]), Array.from(src.seqs[u]));
      assert.deepEqual(Array.from(back.times![u]), Array.from(src.times![u]));
    }
    const items = readFileSync(maps.items, 'utf8').trimEnd().split('\n');
    assert.equal(items.length, 1682);
    assert.equal(items[1681], `1682\t${src.items.toRaw[1682]}`);
    // u.data ids are 1..N, so the maps are the identity
    assert.equal(src.items.toRaw[1682], '1682');
    await writeSasrecFile(src, out, { withTimes: false });
    assert.equal(readFileSync(out, 'utf8').split('\n')[0].split(' ').length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('formatStats shows counts with separators, mean/median and density', async () => {
  const s = datasetStats(await readInteractions(path.join(repoRoot, 'test/fixtures/data/tiny.txt')));
  assert.deepEqual([s.users, s.items, s.actions, s.medianLength, s.maxLength, s.minLength], [3, 4, 9, 3, 4, 2]);
  assert.equal(s.meanLength, 3);
  assert.equal(s.density, 9 / 12);
  assert.match(formatStats(s), /density +75\.0000%/);
});

test('writeSequencesFile: one line per user; u.data and Beauty read back the same (Beauty byte for byte)', { skip: NEEDS_SHARED }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'seqrec-writer-'));
  try {
    const src = await readInteractions(sharedPath('data/ml-100k/u.data'));
    const out = path.join(dir, 'ml.txt');
    await writeSequencesFile(src, out, { separator: '\t' });
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, 943);
    assert.equal(lines[0], ['1', ...Array.from(src.seqs[1], String)].join('\t'));
    const back = await readInteractions(out);
    assert.equal(back.times, undefined);
    assert.deepEqual(datasetStats(back), { ...datasetStats(src), hasTimes: false });
    for (let u = 1; u <= src.userNum; u++) assert.deepEqual(back.seqs[u], src.seqs[u]);

    const beauty = sharedPath('data/beauty-s3rec/Beauty.txt');
    const again = path.join(dir, 'Beauty.txt');
    await writeSequencesFile(await readInteractions(beauty), again);
    assert.ok(readFileSync(again).equals(readFileSync(beauty)), 'Beauty.txt written back differs');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

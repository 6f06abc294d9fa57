/**
 * Outputs that belong together are published together or not at all (issue 23, finding 2):
 * writeFilesAtomic, and `convert`'s data file with its id maps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFilesAtomic } from '../src/io/atomic.js';
import { runCli } from './helpers/cli.js';
import { writeRingDataset } from './helpers/datasets.js';
import { testTempDir } from './helpers/tmp.js';

const dir = testTempDir('seqrec-atomic-set-');
const tick = () => new Promise((r) => setTimeout(r, 1));

test('a set whose last file fails to generate leaves every target as it was, and no temp file', async () => {
  const d = join(dir, 'fail');
  const paths = ['data.txt', 'data.txt.users.tsv', 'data.txt.items.tsv'].map((f) => join(dir, `fail-${f}`));
  for (const p of paths) writeFileSync(p, 'old\n');
  async function* broken() {
    yield 'new ';
    await tick();
    throw new Error('disk full');
  }
  await assert.rejects(
    writeFilesAtomic([
      [paths[0], 'new\n'],
      [paths[1], 'new\n'],
      [paths[2], broken()],
    ]),
    /disk full/,
  );
  for (const p of paths) assert.equal(readFileSync(p, 'utf8'), 'old\n', p);
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.includes('.tmp-') || f.endsWith('.lock')),
    [],
    d,
  );
});

test('two writers of one set, interleaved: the result is all of one writer, never a mix', async () => {
  const paths = ['a', 'b', 'c'].map((f) => join(dir, `mix-${f}`));
  async function* slow(tag: string, n: number) {
    for (let i = 0; i < n; i++) {
      await tick();
      yield `${tag}\n`;
    }
  }
  for (let round = 0; round < 5; round++) {
    // A's first file is slow and B's last one is: without a set, B's data and A's maps would end up together
    await Promise.all([
      writeFilesAtomic(paths.map((p, i) => [p, slow('A', i === 0 ? 8 : 1)] as const)),
      writeFilesAtomic(paths.map((p, i) => [p, slow('B', i === 2 ? 8 : 1)] as const)),
    ]);
    const tags = new Set(paths.map((p) => readFileSync(p, 'utf8').trim().split('\n')[0]));
    assert.equal(tags.size, 1, `round ${round}: ${[...tags].join(', ')}`);
  }
});

test('two `seqrec convert` to one --output: the data file and its id maps always come from the same input', async () => {
  const small = writeRingDataset(join(dir, 'small.txt'), { users: 30 });
  const big = writeRingDataset(join(dir, 'big.txt'), { users: 3000, items: 200 });
  const out = join(dir, 'out.txt');
  await Promise.all([runCli(['convert', '--input', big, '--output', out]), runCli(['convert', '--input', small, '--output', out])]);
  const users = readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((l) => Number(l.split(' ')[0]));
  const mapped = readFileSync(`${out}.users.tsv`, 'utf8').trim().split('\n').length;
  assert.equal(Math.max(...users), mapped, 'as many users in the id map as in the data');
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.includes('.tmp-') || f.endsWith('.lock')),
    [],
  );
});

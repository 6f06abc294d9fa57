import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync, statSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic, writeFileAtomicSync } from '../src/io/atomic.js';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'seqrec-atomic-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const bytes = (...xs: number[]) => new Uint8Array(xs);

test('writes bytes, text and chunk streams; leaves only the target behind', async (t) => {
  const dir = tempDir(t);
  const p = join(dir, 'a.bin');
  await writeFileAtomic(p, bytes(1, 2, 3));
  assert.deepEqual(new Uint8Array(readFileSync(p)), bytes(1, 2, 3));
  await writeFileAtomic(p, 'héllo');
  assert.equal(readFileSync(p, 'utf8'), 'héllo');
  await writeFileAtomic(p, [bytes(1), bytes(), bytes(2, 3)]);
  assert.deepEqual(new Uint8Array(readFileSync(p)), bytes(1, 2, 3));
  async function* gen() {
    yield bytes(9);
    yield bytes(8, 7);
  }
  await writeFileAtomic(p, gen());
  assert.deepEqual(new Uint8Array(readFileSync(p)), bytes(9, 8, 7));
  writeFileAtomicSync(join(dir, 'b.txt'), 'sync');
  writeFileAtomicSync(join(dir, 'c.bin'), [bytes(4), bytes(5)]);
  assert.equal(readFileSync(join(dir, 'b.txt'), 'utf8'), 'sync');
  assert.deepEqual(new Uint8Array(readFileSync(join(dir, 'c.bin'))), bytes(4, 5));
  assert.deepEqual(readdirSync(dir).sort(), ['a.bin', 'b.txt', 'c.bin']);
});

test('while writing, the data goes to <path>.tmp-<pid>-<random> beside the target; the old file is intact', async (t) => {
  const dir = tempDir(t);
  const p = join(dir, 'model.safetensors');
  writeFileSync(p, 'old');
  let seen: string[] = [];
  async function* gen() {
    yield bytes(1, 2);
    seen = readdirSync(dir);
    assert.equal(readFileSync(p, 'utf8'), 'old');
    yield bytes(3);
  }
  await writeFileAtomic(p, gen());
  assert.equal(seen.length, 2);
  const tmp = seen.find((f) => f !== 'model.safetensors')!;
  assert.match(tmp, new RegExp(`^model\\.safetensors\\.tmp-${process.pid}-[0-9a-f]{12}$`));
  assert.deepEqual(new Uint8Array(readFileSync(p)), bytes(1, 2, 3));
  assert.deepEqual(readdirSync(dir), ['model.safetensors']);
});

test('a generator that throws midway leaves the existing file and no temp file', async (t) => {
  const dir = tempDir(t);
  const p = join(dir, 'ckpt.bin');
  writeFileSync(p, 'previous');
  async function* failing() {
    yield bytes(1, 2, 3);
    throw new Error('boom midway');
  }
  await assert.rejects(writeFileAtomic(p, failing()), /boom midway/);
  assert.equal(readFileSync(p, 'utf8'), 'previous');
  assert.deepEqual(readdirSync(dir), ['ckpt.bin']);

  function* failingSync() {
    yield bytes(1);
    throw new Error('sync boom');
  }
  assert.throws(() => writeFileAtomicSync(p, failingSync()), /sync boom/);
  assert.equal(readFileSync(p, 'utf8'), 'previous');
  assert.deepEqual(readdirSync(dir), ['ckpt.bin']);

  // A new target that fails creates nothing at all.
  await assert.rejects(writeFileAtomic(join(dir, 'new.bin'), failing()), /boom midway/);
  assert.deepEqual(readdirSync(dir), ['ckpt.bin']);
});

test('a missing directory or a directory in the way fails cleanly', async (t) => {
  const dir = tempDir(t);
  await assert.rejects(writeFileAtomic(join(dir, 'nope', 'x.bin'), bytes(1)), { code: 'ENOENT' });
  assert.throws(() => writeFileAtomicSync(join(dir, 'nope', 'x.bin'), bytes(1)), { code: 'ENOENT' });
  assert.deepEqual(readdirSync(dir), []);
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'sub', 'keep'), 'k');
  await assert.rejects(writeFileAtomic(join(dir, 'sub'), bytes(1)));
  assert.throws(() => writeFileAtomicSync(join(dir, 'sub'), bytes(1)));
  assert.deepEqual(readdirSync(dir), ['sub']);
  assert.deepEqual(readdirSync(join(dir, 'sub')), ['keep']);
});

test('replacing a file keeps its permission bits', { skip: process.platform === 'win32' }, async (t) => {
  const dir = tempDir(t);
  const p = join(dir, 'secret.bin');
  writeFileSync(p, 'x');
  chmodSync(p, 0o600);
  await writeFileAtomic(p, 'y');
  assert.equal(statSync(p).mode & 0o777, 0o600);
  chmodSync(p, 0o640);
  writeFileAtomicSync(p, 'z');
  assert.equal(statSync(p).mode & 0o777, 0o640);
  assert.equal(readFileSync(p, 'utf8'), 'z');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseInteractionText, readInteractions } from '../src/data/index.js';
import { UserError } from '../src/core/errors.js';
import { testTempDir } from './helpers/tmp.js';

const dir = testTempDir('seqrec-text-');

const files: Array<[string, string]> = [
  ['pairs.txt', '2 b\n1 a\n1 c\n\n2 a\n'],
  ['timed.txt', '1 a 30\r\n1 b 10\r\n2 c 5\r\n2 a 7'],
  ['log.csv', 'user_id,item_id,timestamp\nu2,i9,3\nu1,i1,2\nu1,"i,2",1\n'],
  ['seqs.txt', 'u1 a b c d e\nu2 c d e f g\nu3 a c e g h\n'],
  ['events.jsonl', '{"user":"x","item":"p","time":2}\r{"user":"x","item":"q","time":1}\r'],
];

test('a file read from its text is the file read from disk, in every format', async () => {
  for (const [name, text] of files) {
    const path = join(dir, name);
    writeFileSync(path, text);
    assert.deepEqual(await parseInteractionText(text, name), await readInteractions(path), name);
  }
});

test('a bad line in the text is the same one-line error as on disk, naming the file and line', async () => {
  const text = '1 a\n1 b\n\n2 c d e f\n';
  const path = join(dir, 'bad.txt');
  writeFileSync(path, text);
  const onDisk = await readInteractions(path).then(
    () => assert.fail('read a bad file'),
    (e: unknown) => e as Error,
  );
  await assert.rejects(parseInteractionText(text, path), (e: unknown) => e instanceof UserError && e.message === onDisk.message);
  assert.match(onDisk.message, /bad\.txt:4: /);
});

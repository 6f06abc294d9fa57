/**
 * Ids are the file's text, never numbers that may merge (issue 23, finding 4): JSONL number ids a
 * double cannot hold exactly are refused, string ids are kept as written; the same for fromEvents.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromEvents } from '../src/data/events.js';
import { readInteractions } from '../src/data/index.js';
import { testTempDir } from './helpers/tmp.js';

const dir = testTempDir('seqrec-ids-');
const write = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

test('JSONL number ids above 2^53 are refused (they would merge), naming the line and field', async () => {
  // 2^53 + 1 and 2^53 parse to the same double
  const p = write('big.jsonl', '{"user": 9007199254740993, "item": "a"}\n{"user": 9007199254740992, "item": "b"}\n');
  await assert.rejects(readInteractions(p), {
    name: 'UserError',
    message: /big\.jsonl:1: field "user" is the number "9007199254740992", which JSON readers cannot hold exactly .*write the ids as strings/,
  });
  const frac = write('frac.jsonl', '{"user": "u1", "item": 1.5}\n');
  await assert.rejects(readInteractions(frac), { name: 'UserError', message: /frac\.jsonl:1: field "item" is the number "1\.5"/ });
});

test('JSONL string ids are kept exactly as written; small number ids still read', async () => {
  const p = write('str.jsonl', '{"user": "9007199254740993", "item": "a"}\n{"user": "9007199254740992", "item": "b"}\n{"user": 7, "item": "a"}\n');
  const data = await readInteractions(p);
  assert.equal(data.userNum, 3, 'three distinct users');
  assert.deepEqual([...data.users.toRaw.slice(1)].sort(), ['7', '9007199254740992', '9007199254740993']);
});

test('fromEvents refuses number ids beyond 2^53 too', () => {
  assert.throws(() => fromEvents([{ user: 2 ** 53 + 2, item: 'a' }]), { name: 'UserError', message: /events\[0\]: user must be .*below 2\^53/ });
  assert.equal(fromEvents([{ user: 12, item: 1.5 }]).itemNum, 1);
});

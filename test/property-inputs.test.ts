/**
 * Property-based tests (fast-check, fixed seeds, bounded runs) of everything that reads input: every
 * data reader, the safetensors parser and checkpoint decoder, and the option (flag) parser. Random and
 * mutated inputs give a result or one clean error (UserError, or the parser's own SafetensorsError),
 * never another kind of throw or a hang; and a reader leaves no file behind (issue 23).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { UserError } from '../src/core/errors.js';
import { readInteractions } from '../src/data/index.js';
import { parseSafetensors, SafetensorsError, serializeSafetensors } from '../src/engine/safetensors.js';
import { decodeCheckpoint } from '../src/train/checkpoint.js';
import { parseTrainRequest } from '../src/train/request.js';
import { trainingOptions } from '../src/learn/options.js';
import { testTempDir } from './helpers/tmp.js';

const dir = testTempDir('seqrec-property-');
const SEED = 20231;

/** Runs fn; anything thrown must be one of the allowed error classes. */
async function cleanly(fn: () => unknown, allowed: ReadonlyArray<new (...a: never[]) => Error>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (!allowed.some((C) => e instanceof C)) {
      throw new Error(`unexpected ${(e as Error)?.name}: ${String((e as Error)?.message ?? e).slice(0, 300)}`);
    }
    if (e instanceof UserError) assert.ok(!e.message.includes('\n'), `a one-line message: ${e.message.slice(0, 200)}`);
  }
}

/** Text that looks like interaction files: ids, numbers, separators, quotes, JSON punctuation, junk. */
const token = fc.oneof(
  fc.constantFrom(
    'u1',
    'u2',
    'i1',
    'i2',
    '1',
    '2',
    '10',
    '1.5',
    '-1',
    '1e400',
    'NaN',
    '',
    '"',
    '""',
    'user',
    'item',
    'timestamp',
    'userId',
    'movieId',
    'rating',
  ),
  fc.constantFrom('{', '}', ':', '"user":', '"item":', '[', ']', 'null', 'true', '9007199254740993'),
  fc.string({ maxLength: 6 }),
  fc.integer({ min: -5, max: 1e6 }).map(String),
);
const sep = fc.constantFrom(' ', '\t', ',', '::', '  ', ';');
const line = fc.array(token, { maxLength: 6 }).chain((ts) => sep.map((s) => ts.join(s)));
const fileText = fc.array(line, { maxLength: 12 }).chain((ls) => fc.constantFrom('\n', '\r\n').map((nl) => ls.join(nl) + (ls.length ? nl : '')));

const FORMATS = ['auto', 'sasrec', 'sequences', 'ml-ratings', 'ml-udata', 'csv', 'tsv', 'jsonl'] as const;

test('every reader: random interaction-like text gives data or one UserError, and writes nothing', { timeout: 120_000 }, async () => {
  let n = 0;
  await fc.assert(
    fc.asyncProperty(
      fileText,
      fc.constantFrom(...FORMATS),
      fc.constantFrom('.txt', '.csv', '.tsv', '.jsonl', '.dat', '.inter'),
      async (text, format, ext) => {
        const sub = join(dir, `r${n++}`);
        const file = `${sub}${ext}`;
        writeFileSync(file, text);
        const before = readdirSync(dir).length;
        await cleanly(() => readInteractions(file, { format }), [UserError]);
        assert.equal(readdirSync(dir).length, before, 'the reader left no file');
      },
    ),
    { seed: SEED, numRuns: 400, interruptAfterTimeLimit: 60_000 },
  );
});

test('every reader: a valid file with random bytes changed gives data or one UserError', { timeout: 120_000 }, async () => {
  const valid: Record<string, string> = {
    '.txt': 'u1 i1 5\nu1 i2 6\nu2 i1 7\n',
    '.csv': 'userId,movieId,rating,timestamp\n1,10,4,100\n1,11,3,101\n2,10,5,102\n',
    '.tsv': 'user_id\titem_id\ttimestamp\nu1\ti1\t1\nu2\ti2\t2\n',
    '.jsonl': '{"user": "u1", "item": "i1", "timestamp": 1}\n{"user": 2, "item": 3, "timestamp": 2}\n',
    '.dat': '1::10::4::100\n1::11::3::101\n',
  };
  let n = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...Object.keys(valid)),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
      async (ext, edits) => {
        const bytes = Buffer.from(valid[ext]);
        for (const [at, b] of edits) bytes[at % bytes.length] = b;
        const file = join(dir, `m${n++}${ext}`);
        writeFileSync(file, bytes);
        await cleanly(() => readInteractions(file), [UserError]);
      },
    ),
    { seed: SEED, numRuns: 300, interruptAfterTimeLimit: 60_000 },
  );
});

const validSafetensors = serializeSafetensors(
  [
    { name: 'a.weight', shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
    { name: 'b', shape: [1], data: new Float32Array([7]) },
  ],
  { format: 'pt' },
);

test('the safetensors parser: random and mutated bytes give tensors or one SafetensorsError', { timeout: 60_000 }, async () => {
  assert.equal(parseSafetensors(validSafetensors).tensors.size, 2);
  const mutated = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }).map((edits) => {
    const b = validSafetensors.slice();
    for (const [at, v] of edits) b[at % b.length] = v;
    return b;
  });
  const truncated = fc.nat({ max: validSafetensors.length }).map((k) => validSafetensors.slice(0, k));
  const header = fc.json().map((j) => {
    const h = Buffer.from(j);
    const b = Buffer.alloc(8 + h.length + 16);
    b.writeBigUInt64LE(BigInt(h.length), 0);
    h.copy(b, 8);
    return new Uint8Array(b);
  });
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 64 }), mutated, truncated, header), async (bytes) => {
      await cleanly(() => parseSafetensors(bytes), [SafetensorsError]);
      await cleanly(() => decodeCheckpoint(bytes, 'x.safetensors'), [UserError]);
    }),
    { seed: SEED, numRuns: 1500, interruptAfterTimeLimit: 30_000 },
  );
});

test('the option parser: random values and spellings give a config or one UserError (OptionError)', { timeout: 60_000 }, async () => {
  const names = [
    'batch_size',
    'batch-size',
    'batchSize',
    'lr',
    'num_epochs',
    'lr_decay_step',
    'lr_decay_rate',
    'warmup_steps',
    'user_sampling',
    'patience',
    'min_delta',
  ];
  const value = fc.oneof(
    fc.string({ maxLength: 8 }),
    fc.constantFrom('0', '-1', '1', '1e9', 'NaN', 'Infinity', '0x10', ' 3 ', 'true', 'shuffle', '1,2', ''),
    fc.double(),
    fc.integer(),
    fc.boolean(),
  );
  await fc.assert(
    fc.asyncProperty(fc.dictionary(fc.constantFrom(...names), value, { maxKeys: 5 }), async (raw) => {
      await cleanly(() => trainingOptions.parse(raw), [UserError]);
    }),
    { seed: SEED, numRuns: 2000, interruptAfterTimeLimit: 20_000 },
  );
  const trainNames = [
    'model',
    'maxlen',
    'hidden_units',
    'hidden-units',
    'num_blocks',
    'dropout_rate',
    'ks',
    'eval_protocol',
    'num_negatives',
    'seed',
    'kcore',
    'format',
    'loss',
    'bogus',
  ];
  await fc.assert(
    fc.asyncProperty(fc.dictionary(fc.constantFrom(...trainNames), value, { maxKeys: 6 }), async (raw) => {
      await cleanly(() => parseTrainRequest({ dataset: 'x.txt', ...raw }), [UserError]);
    }),
    { seed: SEED, numRuns: 1000, interruptAfterTimeLimit: 20_000 },
  );
});

/**
 * The restricted unpickler (engine/pickle.ts) and the zip reader (engine/zip.ts) on hand-built bytes:
 * data opcodes give their values; every way a pickle can reach code (a global not on the allow-list,
 * instance-building opcodes, calling a non-callable) is refused with one line; malformed input
 * (truncated, unknown memo keys, stack underflow) is an error, never a crash or a hang.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { zipSync } from 'fflate';
import { PickleError, PyDict, type PyTuple, unpickle, type PickleEnv, type PyValue } from '../src/engine/pickle.js';
import { ZipArchive, ZipError } from '../src/engine/zip.js';

/** Bytes from a mix of strings (latin-1) and byte values. */
function pk(...parts: Array<string | number[]>): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'string') for (const c of p) out.push(c.charCodeAt(0));
    else out.push(...p);
  }
  return Uint8Array.from(out);
}

const u32 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
const binunicode = (s: string) => {
  const b = new TextEncoder().encode(s);
  return [0x58, ...u32(b.length), ...b];
};

let called: string[] = [];
const env: PickleEnv = {
  global(module, name) {
    if (module === 'collections' && name === 'OrderedDict') {
      const call = (args: readonly PyValue[]): PyValue => {
        called.push(`OrderedDict/${args.length}`);
        return new PyDict();
      };
      return { kind: 'callable', qualifiedName: 'collections.OrderedDict', call };
    }
    if (module === 'torch' && name === 'FloatStorage') return { kind: 'global', qualifiedName: 'torch.FloatStorage' };
    return undefined;
  },
  refusal: 'test allow-list',
};

function refused(bytes: Uint8Array, pattern: RegExp, e: PickleEnv = env): void {
  assert.throws(
    () => unpickle(bytes, e),
    (err: unknown) => {
      assert.ok(err instanceof PickleError, `a PickleError, got ${String(err)}`);
      assert.match(err.message, pattern);
      assert.ok(!err.message.includes('\n'), 'one line');
      return true;
    },
  );
}

test('data opcodes build their values (protocol 2 and 4 forms)', () => {
  // {'a': [1, -2, 300, 70000, 2.5, True, False, None, 'é', b'xy', (1,), (1, 2), (1, 2, 3), ()]}
  const bytes = pk(
    [0x80, 0x04, 0x95, ...u32(0), 0, 0, 0, 0],
    '}',
    [0x8c, 1],
    'a',
    [0x94],
    ']',
    '(',
    [0x4b, 1],
    [0x4a, ...u32(-2 >>> 0)],
    [0x4d, 0x2c, 0x01],
    [0x4a, ...u32(70000)],
    [0x47, 0x40, 0x04, 0, 0, 0, 0, 0, 0],
    [0x88, 0x89, 0x4e],
    binunicode('é'),
    [0x43, 2],
    'xy',
    [0x4b, 1, 0x85],
    [0x4b, 1, 0x4b, 2, 0x86],
    [0x4b, 1, 0x4b, 2, 0x4b, 3, 0x87],
    ')',
    'e',
    's.',
  );
  const v = unpickle(bytes, env) as PyDict;
  assert.ok(v instanceof PyDict);
  const list = v.entries.get('a') as PyValue[];
  assert.deepEqual(list.slice(0, 9), [1, -2, 300, 70000, 2.5, true, false, null, 'é']);
  assert.deepEqual(Array.from(list[9] as Uint8Array), [0x78, 0x79]);
  assert.deepEqual((list[10] as PyTuple).items, [1]);
  assert.deepEqual((list[11] as PyTuple).items, [1, 2]);
  assert.deepEqual((list[12] as PyTuple).items, [1, 2, 3]);
  assert.deepEqual((list[13] as PyTuple).items, []);
});

test('LONG1 gives numbers, and BigInt beyond 2^53; memo PUT/GET shares one object', () => {
  const v = unpickle(pk([0x80, 2], ']', [0x71, 7], [0x8a, 2, 0xff, 0x7f], 'a', [0x8a, 8, 0, 0, 0, 0, 0, 0, 0, 0x40], 'a', [0x8a, 1, 0xff], 'a', [0x68, 7], 'a.'), env);
  const list = v as PyValue[];
  assert.equal(list[0], 0x7fff);
  assert.equal(list[1], 2n ** 62n);
  assert.equal(list[2], -1);
  assert.equal(list[3], list, 'BINGET returns the memoised list itself');
});

test('an allowed global is called only through its stand-in; BUILD sets a dict\'s attributes', () => {
  called = [];
  const v = unpickle(pk([0x80, 2], 'ccollections\nOrderedDict\n', ')R', '}', [0x8c, 9], '_metadata', [0x4b, 1], 'sb.'), env) as PyDict;
  assert.deepEqual(called, ['OrderedDict/0']);
  assert.ok(v instanceof PyDict);
  assert.equal(v.attributes?.entries.get('_metadata'), 1);
});

test('a global that is not on the allow-list is refused at once, by name (GLOBAL and STACK_GLOBAL)', () => {
  // pickle.dumps of a __reduce__ to os.system / builtins.eval
  refused(pk([0x80, 2], 'cposix\nsystem\n', binunicode('touch SEQREC_PWNED'), [0x85], 'R.'), /refused: the pickle asks for the Python global posix\.system; test allow-list/);
  refused(
    pk([0x80, 4], [0x8c, 8], 'builtins', [0x94, 0x8c, 4], 'eval', [0x94, 0x93, 0x94], [0x8c, 4], '1+1', [0x94, 0x85, 0x94], 'R.'),
    /the Python global builtins\.eval/,
  );
  // refusal comes before the arguments are even read: a truncated pickle after the global still says "refused"
  refused(pk('cos\nsystem\n'), /builtins|os\.system/);
  // torch.FloatStorage is allowed as a value but it cannot be called
  refused(pk([0x80, 2], 'ctorch\nFloatStorage\n', ')R.'), /cannot be called/);
});

test('instance-building and out-of-band opcodes are refused', () => {
  refused(pk('(iposix\nsystem\n.'), /instruction INST/);
  refused(pk('(o.'), /instruction OBJ/);
  refused(pk([0x80, 4, 0x92]), /instruction NEWOBJ_EX/);
  refused(pk([0x82, 1]), /instruction EXT1/);
  refused(pk('P1\n.'), /instruction PERSID/);
  refused(pk([0x97]), /instruction NEXT_BUFFER/);
  refused(pk([0xff]), /instruction 0xff/);
  // a persistent id without a persistentLoad
  refused(pk('NQ.'), /persistent id/);
  // BUILD on something that is not a dict
  refused(pk(']}b.'), /setting the state of a list/);
});

test('malformed pickles are one-line errors', () => {
  refused(pk([0x80, 2]), /no STOP/);
  refused(pk([0x58, ...u32(100)], 'ab'), /truncated pickle/);
  refused(pk([0x68, 3], '.'), /memo key 3 was never stored/);
  refused(pk('.'), /0 values on the stack/);
  refused(pk('NN.'), /2 values on the stack/);
  refused(pk('s.'), /stack underflow/);
  refused(pk('(N.'), /ends with 2 values|mark/);
  refused(pk('1.'), /no mark/);
  refused(pk([0x80, 6], 'N.'), /protocol above 5/);
  refused(pk([0x8c, 2, 0xc3, 0x28], '.'), /not valid UTF-8/);
  refused(pk('(Ns.'), /a mark where a value was expected/);
  refused(pk('N}', [0x4b, 1], 'u.'), /no mark/);
  refused(pk('}(Nu.'), /odd number of items/);
});

test('the zip reader reads stored and deflated entries and refuses a damaged archive', () => {
  const payload = new TextEncoder().encode('x'.repeat(1000));
  const zip = zipSync({ 'a/data.pkl': [payload, { level: 0 }], 'a/data/0': [payload, { level: 6 }] });
  const archive = new ZipArchive(zip);
  assert.deepEqual([...archive.entries.keys()].sort(), ['a/data.pkl', 'a/data/0']);
  assert.equal(archive.entries.get('a/data.pkl')!.method, 0);
  assert.equal(archive.entries.get('a/data/0')!.method, 8);
  assert.deepEqual(archive.read('a/data.pkl'), payload);
  assert.deepEqual(archive.read('a/data/0'), payload);
  assert.equal(archive.read('missing'), undefined);
  assert.throws(() => archive.read('a/data/0', 10), /1000 bytes, more than the 10 allowed/);
  // a deflated entry claiming more than deflate can expand to is refused before anything is allocated
  const bomb = zip.slice();
  const view = new DataView(bomb.buffer);
  const central = bomb.length - 22 - (view.getUint32(bomb.length - 22 + 12, true) - 0);
  for (let at = central; view.getUint32(at, true) === 0x02014b50; at += 46 + view.getUint16(at + 28, true) + view.getUint16(at + 30, true) + view.getUint16(at + 32, true)) {
    if (view.getUint16(at + 10, true) === 8) view.setUint32(at + 24, 2_000_000_000, true);
  }
  assert.throws(() => new ZipArchive(bomb).read('a/data/0'), /claims 2000000000 bytes from \d+ deflated ones/);
  // cut short: the end record is gone
  assert.throws(() => new ZipArchive(zip.subarray(0, zip.length - 10)), ZipError);
  // a central directory pointing past the end
  const bad = zip.slice();
  const eocd = bad.length - 22;
  new DataView(bad.buffer).setUint32(eocd + 16, bad.length + 100, true);
  assert.throws(() => new ZipArchive(bad), /runs past the end/);
});

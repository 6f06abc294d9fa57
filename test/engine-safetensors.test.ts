import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  parseSafetensors,
  serializeSafetensors,
  serializeSafetensorsChunks,
  SafetensorsError,
  halfToFloat,
} from '../src/engine/safetensors.js';
import { SHARED_FIXTURES_URL, NEEDS_SHARED } from './helpers/shared.js';

const FIXTURES = SHARED_FIXTURES_URL;
const fixture = (p: string): Uint8Array => new Uint8Array(readFileSync(new URL(p, FIXTURES)));

/** The header (JSON text, padding included) and the data section of a safetensors file. */
function split(bytes: Uint8Array): { header: string; data: Uint8Array } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { header: new TextDecoder().decode(bytes.subarray(8, 8 + n)), data: bytes.subarray(8 + n) };
}

/** Builds a file from a header (object or raw text) and data bytes, with no padding. */
function makeFile(header: unknown, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function throwsSt(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SafetensorsError, `expected SafetensorsError, got ${String(e)}`);
    assert.match(e.message, re);
    assert.doesNotMatch(e.message, /\n/, 'error messages are one line');
    return true;
  });
}

/** The state_dict keys and shapes of the reference SASRec for a config (fixture README). */
function sasrecShapes(cfg: { item_num: number; maxlen: number; hidden_units: number; num_blocks: number }): Map<string, number[]> {
  const d = cfg.hidden_units;
  const m = new Map<string, number[]>([
    ['item_emb.weight', [cfg.item_num + 1, d]],
    ['pos_emb.weight', [cfg.maxlen + 1, d]],
    ['last_layernorm.weight', [d]],
    ['last_layernorm.bias', [d]],
  ]);
  for (let i = 0; i < cfg.num_blocks; i++) {
    m.set(`attention_layernorms.${i}.weight`, [d]);
    m.set(`attention_layernorms.${i}.bias`, [d]);
    m.set(`attention_layers.${i}.in_proj_weight`, [3 * d, d]);
    m.set(`attention_layers.${i}.in_proj_bias`, [3 * d]);
    m.set(`attention_layers.${i}.out_proj.weight`, [d, d]);
    m.set(`attention_layers.${i}.out_proj.bias`, [d]);
    m.set(`forward_layernorms.${i}.weight`, [d]);
    m.set(`forward_layernorms.${i}.bias`, [d]);
    for (const c of ['conv1', 'conv2']) {
      m.set(`forward_layers.${i}.${c}.weight`, [d, d, 1]);
      m.set(`forward_layers.${i}.${c}.bias`, [d]);
    }
  }
  return m;
}

test('reads the SASRec fixture: PyTorch names, shapes, values and config metadata', { skip: NEEDS_SHARED }, () => {
  const config = JSON.parse(readFileSync(new URL('sasrec-postln/config.json', FIXTURES), 'utf8'));
  const { tensors, metadata } = parseSafetensors(fixture('sasrec-postln/weights.safetensors'));
  const want = sasrecShapes(config);
  assert.equal(config.hidden_units, 16);
  assert.deepEqual([...tensors.keys()].sort(), [...want.keys()].sort());
  for (const [name, shape] of want) {
    const t = tensors.get(name)!;
    assert.deepEqual(t.shape, shape, name);
    assert.equal(t.dtype, 'F32');
    assert.equal(t.data.length, shape.reduce((a, b) => a * b, 1), name);
  }
  assert.deepEqual(tensors.get('attention_layers.0.in_proj_weight')!.shape, [48, 16]);
  assert.deepEqual(tensors.get('forward_layers.0.conv1.weight')!.shape, [16, 16, 1]);
  assert.deepEqual(JSON.parse(metadata.config!), config);
  assert.deepEqual(Object.keys(metadata), ['config']);

  // Values against numbers computed independently with numpy.frombuffer on the same file.
  const sum = (a: Float32Array): number => a.reduce((s, x) => s + x, 0);
  const emb = tensors.get('item_emb.weight')!.data;
  assert.equal(emb[0], 0);
  assert.equal(emb[emb.length - 1], Math.fround(-0.0801449865102768));
  assert.ok(Math.abs(sum(emb) - 1.9649411358841462) < 1e-9);
  const inProj = tensors.get('attention_layers.1.in_proj_weight')!.data;
  assert.equal(inProj[0], Math.fround(-0.04648708924651146));
  assert.equal(inProj[inProj.length - 1], Math.fround(0.27368471026420593));
  assert.ok(Math.abs(sum(inProj) - -2.3800594829008332) < 1e-9);
  const gain = tensors.get('last_layernorm.weight')!.data;
  assert.equal(gain[0], Math.fround(1.038384199142456));
  assert.ok(Math.abs(sum(gain) - 16.263244926929474) < 1e-9);
});

test('reads every fixture file; configs in metadata equal config.json', { skip: NEEDS_SHARED }, () => {
  for (const dir of ['sasrec-postln', 'sasrec-preln', 'tisasrec']) {
    const config = JSON.parse(readFileSync(new URL(`${dir}/config.json`, FIXTURES), 'utf8'));
    const w = parseSafetensors(fixture(`${dir}/weights.safetensors`));
    assert.deepEqual(JSON.parse(w.metadata.config!), config, dir);
    assert.ok(w.tensors.has('item_emb.weight'), dir);
    const e = parseSafetensors(fixture(`${dir}/expected.safetensors`));
    assert.deepEqual(e.tensors.get('loss')!.shape, [1], dir);
    for (const name of w.tensors.keys()) {
      assert.deepEqual(e.tensors.get(`grad.${name}`)!.shape, w.tensors.get(name)!.shape, `${dir} grad.${name}`);
    }
  }
});

test('re-serializing the fixture: same tensors bit for bit, layout differs only in order; our output is a fixpoint', { skip: NEEDS_SHARED }, () => {
  const original = fixture('sasrec-postln/weights.safetensors');
  const parsed = parseSafetensors(original);
  const ours = serializeSafetensors(parsed.tensors, parsed.metadata);

  // Not byte-identical, and this is why: the fixture's header lists tensors in state_dict order with
  // __metadata__ last; the reference library (and we) put __metadata__ first and sort by name.
  assert.notDeepEqual(ours, original);
  const a = split(original);
  const b = split(ours);
  assert.equal(a.header.length % 8, 0);
  assert.equal(b.header.length % 8, 0);
  assert.ok(a.header.startsWith('{"item_emb.weight"'));
  assert.ok(b.header.startsWith('{"__metadata__":{"config":'));
  assert.equal(a.data.length, b.data.length);
  const ha = JSON.parse(a.header);
  const hb = JSON.parse(b.header);
  assert.deepEqual(hb.__metadata__, ha.__metadata__);
  assert.deepEqual(Object.keys(hb).slice(1), Object.keys(ha).filter((k) => k !== '__metadata__').sort());
  // Data sections are the same tensors' bytes, only permuted.
  for (const name of parsed.tensors.keys()) {
    const [s1, e1] = ha[name].data_offsets;
    const [s2, e2] = hb[name].data_offsets;
    assert.deepEqual(b.data.subarray(s2, e2), a.data.subarray(s1, e1), name);
    assert.deepEqual(hb[name].shape, ha[name].shape);
  }

  const again = parseSafetensors(ours);
  assert.deepEqual(again.metadata, parsed.metadata);
  assert.deepEqual([...again.tensors.keys()].sort(), [...parsed.tensors.keys()].sort());
  for (const [name, t] of parsed.tensors) {
    assert.deepEqual(bytesOf(again.tensors.get(name)!.data), bytesOf(t.data), name);
  }
  // serialize ∘ parse is the identity on our own output.
  assert.deepEqual(serializeSafetensors(again.tensors, again.metadata), ours);
});

test('matches the reference library byte for byte (vectors from its own unit tests)', () => {
  const data = new Float32Array([0, 1, 2, 3, 4, 5]);
  const out = serializeSafetensors([{ name: 'attn0', shape: [1, 1, 2, 3], data }]);
  const json = '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}';
  assert.equal(json.length, 65);
  const want = new Uint8Array(8 + 72 + 24);
  want[0] = 72;
  want.set(new TextEncoder().encode(json + ' '.repeat(7)), 8);
  want.set(bytesOf(data), 80);
  assert.deepEqual(out, want);

  const empty = serializeSafetensors([], { framework: 'pt' });
  assert.deepEqual(
    empty,
    new Uint8Array([40, 0, 0, 0, 0, 0, 0, 0, ...new TextEncoder().encode('{"__metadata__":{"framework":"pt"}}     ')]),
  );
  assert.deepEqual(serializeSafetensors([]), new Uint8Array([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]));
});

test('sorts names and metadata keys by UTF-8 bytes (Rust order), not UTF-16 units or JS key order', () => {
  const t = (v: number) => ({ shape: [1], data: new Float32Array([v]) });
  const names = ['b', '\u{1F600}', '\uFF00', 'a.10', 'a.2', 'B'];
  const out = serializeSafetensors(new Map(names.map((n, i) => [n, t(i)])), { '10': 'x', a: 'y', '2': 'z' });
  const h = split(out).header;
  const order = ['B', 'a.10', 'a.2', 'b', '\uFF00', '\u{1F600}'];
  let last = -1;
  for (const n of order) {
    const at = h.indexOf(`${JSON.stringify(n)}:`);
    assert.ok(at > last, `${n} out of order in ${h}`);
    last = at;
  }
  assert.ok(h.startsWith('{"__metadata__":{"10":"x","2":"z","a":"y"},'));
  const back = parseSafetensors(out);
  for (const [i, n] of names.entries()) assert.equal(back.tensors.get(n)!.data[0], i);
  // Array and Map inputs give the same bytes.
  assert.deepEqual(
    serializeSafetensors(names.map((n, i) => ({ name: n, ...t(i) })), { a: 'y', '2': 'z', '10': 'x' }),
    out,
  );
});

test('scalars, empty tensors, subarray views and a "__proto__" metadata key round-trip', () => {
  const big = new Float32Array([9, 1.5, -2.25, NaN, 7]);
  const meta: Record<string, string> = {};
  Object.defineProperty(meta, '__proto__', { value: 'p', enumerable: true });
  const out = serializeSafetensors(
    [
      { name: 'scalar', shape: [], data: new Float32Array([3.25]) },
      { name: 'empty', shape: [0, 4], data: new Float32Array(0) },
      { name: 'view', shape: [3], data: big.subarray(1, 4) },
    ],
    meta,
  );
  const back = parseSafetensors(out);
  assert.deepEqual(back.tensors.get('scalar'), { dtype: 'F32', shape: [], data: new Float32Array([3.25]) });
  assert.deepEqual(back.tensors.get('empty')!.shape, [0, 4]);
  assert.equal(back.tensors.get('empty')!.data.length, 0);
  assert.deepEqual([...back.tensors.get('view')!.data].slice(0, 2), [1.5, -2.25]);
  assert.ok(Number.isNaN(back.tensors.get('view')!.data[2]));
  const key = '__proto__';
  assert.ok(Object.hasOwn(back.metadata, key));
  assert.equal(back.metadata[key], 'p');
  assert.equal(Object.getPrototypeOf(back.metadata), Object.prototype);
});

test('serializeSafetensorsChunks concatenates to serializeSafetensors and views the data without copying', () => {
  const data = new Float32Array([1, 2, 3, 4]);
  const chunks = serializeSafetensorsChunks([{ name: 'w', shape: [2, 2], data }]);
  assert.equal(chunks.length, 2);
  assert.equal(chunks[1].buffer, data.buffer);
  const joined = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
  let at = 0;
  for (const c of chunks) { joined.set(c, at); at += c.length; }
  assert.deepEqual(joined, serializeSafetensors([{ name: 'w', shape: [2, 2], data }]));
});

test('reads unaligned input and copies the data out', () => {
  const file = serializeSafetensors([{ name: 'w', shape: [3], data: new Float32Array([1, -2, 0.5]) }]);
  const buf = new Uint8Array(file.length + 3);
  buf.set(file, 1);
  const view = buf.subarray(1, 1 + file.length);
  const t = parseSafetensors(view).tensors.get('w')!;
  assert.deepEqual([...t.data], [1, -2, 0.5]);
  buf.fill(0);
  assert.deepEqual([...t.data], [1, -2, 0.5], 'parsed data must not alias the input');
});

test('converts F64, F16, BF16, I64, I32 and small integer dtypes to float32, keeping the stored dtype', () => {
  const parts: Array<[string, string, number[], Uint8Array]> = [];
  const f64 = new Float64Array([1.5, -1e-3, 1e300]);
  parts.push(['f64', 'F64', [3], bytesOf(f64)]);
  const f16 = new Uint16Array([0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x7c00, 0xfc00, 0x7e00, 0x8000]);
  parts.push(['f16', 'F16', [9], bytesOf(f16)]);
  const bf16 = new Uint16Array([0x3f80, 0xc060, 0x4049]);
  parts.push(['bf16', 'BF16', [3], bytesOf(bf16)]);
  const i64 = new BigInt64Array([-5n, 2n ** 40n, 0n]);
  parts.push(['i64', 'I64', [3], bytesOf(i64)]);
  const i32 = new Int32Array([-7, 123456, 0, 1]);
  parts.push(['i32', 'I32', [2, 2], bytesOf(i32)]);
  parts.push(['u8', 'U8', [2], new Uint8Array([255, 3])]);
  parts.push(['b', 'BOOL', [3], new Uint8Array([1, 0, 1])]);
  parts.push(['i16', 'I16', [1], bytesOf(new Int16Array([-300]))]);
  const header: Record<string, unknown> = {};
  let off = 0;
  for (const [name, dtype, shape, bytes] of parts) {
    header[name] = { dtype, shape, data_offsets: [off, off + bytes.length] };
    off += bytes.length;
  }
  const data = new Uint8Array(off);
  off = 0;
  for (const [, , , bytes] of parts) { data.set(bytes, off); off += bytes.length; }
  const { tensors } = parseSafetensors(makeFile(header, data));
  const get = (n: string) => tensors.get(n)!;
  assert.equal(get('f64').dtype, 'F64');
  assert.deepEqual([...get('f64').data], [1.5, Math.fround(-1e-3), Infinity]);
  const h = [...get('f16').data];
  assert.deepEqual(h.slice(0, 7), [1, -2, 0.5, 65504, 2 ** -24, Infinity, -Infinity]);
  assert.ok(Number.isNaN(h[7]));
  assert.ok(Object.is(h[8], -0));
  assert.equal(get('f16').dtype, 'F16');
  assert.deepEqual([...get('bf16').data], [1, -3.5, 3.140625]);
  assert.deepEqual([...get('i64').data], [-5, 2 ** 40, 0]);
  assert.deepEqual(get('i32').shape, [2, 2]);
  assert.deepEqual([...get('i32').data], [-7, 123456, 0, 1]);
  assert.deepEqual([...get('u8').data], [255, 3]);
  assert.deepEqual([...get('b').data], [1, 0, 1]);
  assert.deepEqual([...get('i16').data], [-300]);
  assert.equal(halfToFloat(0x3555), Math.fround(0.333251953125));
});

test('every truncation of a valid file is refused with a one-line error', { skip: NEEDS_SHARED }, () => {
  const file = fixture('sasrec-postln/weights.safetensors');
  const n = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  for (const cut of [0, 3, 7]) throwsSt(() => parseSafetensors(file.subarray(0, cut)), /too short/);
  for (const cut of [8, 9, 100, 8 + n - 1]) throwsSt(() => parseSafetensors(file.subarray(0, cut)), /runs past the end of the file/);
  for (const cut of [8 + n, 8 + n + 1, 8 + n + 2624, file.length - 4, file.length - 1]) {
    throwsSt(() => parseSafetensors(file.subarray(0, cut)), /truncated file: the header needs 17152 bytes of tensor data but only \d+ are present/);
  }
  // Every cut point fails (none is silently accepted).
  for (let cut = 0; cut < file.length; cut += 97) assert.throws(() => parseSafetensors(file.subarray(0, cut)), SafetensorsError);
  const extra = new Uint8Array(file.length + 4);
  extra.set(file);
  throwsSt(() => parseSafetensors(extra), /4 unexpected bytes after the last tensor/);
});

test('a corrupted header length is refused', { skip: NEEDS_SHARED }, () => {
  const file = fixture('sasrec-postln/weights.safetensors');
  const withLength = (n: bigint): Uint8Array => {
    const c = file.slice();
    new DataView(c.buffer).setBigUint64(0, n, true);
    return c;
  };
  const n = BigInt(split(file).header.length);
  throwsSt(() => parseSafetensors(withLength(BigInt(file.length))), /header length \d+ runs past the end/);
  throwsSt(() => parseSafetensors(withLength(2n ** 40n)), /exceeds the limit/);
  throwsSt(() => parseSafetensors(withLength(2n ** 64n - 1n)), /exceeds the limit/);
  throwsSt(() => parseSafetensors(withLength(n - 8n)), /not valid JSON/);
  throwsSt(() => parseSafetensors(withLength(n + 8n)), /not valid (JSON|UTF-8)/);
  throwsSt(() => parseSafetensors(withLength(0n)), /too small/);
  // Bit flips in the length bytes never go unnoticed.
  for (let byte = 0; byte < 8; byte++) {
    for (let bit = 0; bit < 8; bit++) {
      const c = file.slice();
      c[byte] ^= 1 << bit;
      assert.throws(() => parseSafetensors(c), SafetensorsError, `byte ${byte} bit ${bit}`);
    }
  }
});

test('garbage and malformed headers are refused', () => {
  throwsSt(() => parseSafetensors(makeFile('{"a": ')), /header is not valid JSON/);
  throwsSt(() => parseSafetensors(makeFile('{"a":\n\n{')), /header is not valid JSON/);
  throwsSt(() => parseSafetensors(makeFile('garbage!')), /does not start with '\{'/);
  throwsSt(() => parseSafetensors(makeFile('[1, 2]')), /does not start with '\{'/);
  throwsSt(() => parseSafetensors(makeFile('\uFEFF{}')), /does not start with/);
  const bad = makeFile('{"x":1}');
  bad[10] = 0xff;
  throwsSt(() => parseSafetensors(bad), /not valid UTF-8/);
  assert.equal(parseSafetensors(makeFile('{}   ')).tensors.size, 0);
});

test('bad tensor entries, dtypes, offsets and metadata are refused', () => {
  const f32 = (k: number) => new Uint8Array(4 * k);
  const entry = (dtype: string, shape: unknown, offs: unknown) => ({ dtype, shape, data_offsets: offs });
  const cases: Array<[unknown, Uint8Array, RegExp]> = [
    [{ w: entry('F12', [2], [0, 8]) }, f32(2), /tensor "w": unknown dtype "F12"/],
    [{ w: entry('F8_E4M3', [2], [0, 2]) }, f32(1).subarray(0, 2), /dtype F8_E4M3 is not supported/],
    [{ w: { shape: [2], data_offsets: [0, 8] } }, f32(2), /missing or non-string dtype/],
    [{ w: entry('F32', [2, -1], [0, 8]) }, f32(2), /shape must be an array of non-negative integers/],
    [{ w: entry('F32', [1.5], [0, 8]) }, f32(2), /shape must be/],
    [{ w: entry('F32', '2', [0, 8]) }, f32(2), /shape must be/],
    [{ w: entry('F32', [2], [0]) }, f32(2), /data_offsets must be two non-negative integers/],
    [{ w: entry('F32', [2], [8, 0]) }, f32(2), /end before they begin/],
    [{ w: entry('F32', [3], [0, 8]) }, f32(2), /span 8 bytes but shape \[3\] of F32 needs 12/],
    [{ w: entry('F32', [2], [0, 8]), v: entry('F32', [1], [4, 8]) }, f32(2), /overlaps tensor/],
    [{ w: entry('F32', [2], [0, 8]), v: entry('F32', [1], [12, 16]) }, f32(4), /gap of 4 bytes/],
    [{ w: entry('F32', [2], [4, 12]) }, f32(3), /gap of 4 bytes before its data \(offset 0\)/],
    [{ w: entry('F32', [1000], [0, 4000]) }, f32(2), /truncated file: the header needs 4000 bytes of tensor data but only 8/],
    [{ w: entry('F32', [2], [0, 8]) }, f32(3), /4 unexpected bytes/],
    [{ w: 'nope' }, f32(0), /entry is not a JSON object/],
    [{ __metadata__: { a: 1 } }, f32(0), /__metadata__ value for "a" is number, not a string/],
    [{ __metadata__: { a: null } }, f32(0), /is null, not a string/],
    [{ __metadata__: ['a'] }, f32(0), /__metadata__ is not a JSON object/],
    [{ 'bad\nname': entry('F32', [3], [0, 8]) }, f32(2), /tensor "bad\\nname"/],
  ];
  for (const [header, data, re] of cases) throwsSt(() => parseSafetensors(makeFile(header, data)), re);
  // Overlap detection is independent of the header's key order.
  throwsSt(
    () => parseSafetensors(makeFile({ v: entry('F32', [1], [4, 8]), w: entry('F32', [2], [0, 8]) }, f32(2))),
    /overlaps/,
  );
  // And the valid variants of the same files parse.
  const ok = parseSafetensors(makeFile({ v: entry('F32', [1], [8, 12]), w: entry('F32', [2], [0, 8]) }, f32(3)));
  assert.deepEqual([...ok.tensors.keys()], ['w', 'v']);
});

test('serialize refuses inconsistent input', () => {
  const d = new Float32Array(4);
  throwsSt(() => serializeSafetensors([{ name: 'w', shape: [3], data: d }]), /shape \[3\] has 3 elements but data has 4/);
  throwsSt(() => serializeSafetensors([{ name: 'w', shape: [4], data: d }, { name: 'w', shape: [4], data: d }]), /duplicate tensor name "w"/);
  throwsSt(() => serializeSafetensors([{ name: '__metadata__', shape: [4], data: d }]), /cannot be named/);
  throwsSt(() => serializeSafetensors([{ name: 'w', shape: [-4], data: d }]), /non-negative integers/);
  throwsSt(() => serializeSafetensors([{ name: 'w', shape: [4], data: new Float64Array(4) as unknown as Float32Array }]), /Float32Array/);
  throwsSt(() => serializeSafetensors([], { a: 5 as unknown as string }), /metadata value for "a" must be a string, got number/);
  throwsSt(() => serializeSafetensors([{ name: 'x\uD800', shape: [4], data: d }]), /unpaired UTF-16 surrogate/);
});

/**
 * The safetensors file format (https://github.com/huggingface/safetensors), read and written in
 * pure TypeScript (no Node APIs: this runs in the browser too).
 *
 * Layout: an unsigned 64-bit little-endian header length N, then N bytes of UTF-8 JSON
 * `{"__metadata__": {string: string}?, "<name>": {"dtype", "shape", "data_offsets": [begin, end]}, …}`,
 * then the byte buffer; offsets are relative to the buffer's start, tensors are row-major and
 * little-endian, and together they cover the buffer exactly (no gaps, no overlap, no trailing bytes).
 *
 * Reading converts every supported dtype to float32 (F64, F16, BF16, integer and BOOL tensors appear
 * in PyTorch checkpoints); writing produces F32 exactly as the reference Rust library lays it out
 * (`__metadata__` first, tensors sorted by name, header padded with spaces to a multiple of 8), so
 * Python's `safetensors.torch.load_file` reads it.
 */

/** Malformed safetensors bytes or arguments; the message is one line. */
export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SafetensorsError';
  }
}

/** One tensor as read: `dtype` is the dtype stored in the file; `data` is always float32. */
export interface SafetensorsTensor {
  dtype: string;
  shape: number[];
  data: Float32Array;
}

export interface ParsedSafetensors {
  tensors: Map<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

/** A tensor to write (always as F32). */
export interface TensorToWrite {
  shape: readonly number[];
  data: Float32Array;
}

export type TensorsToWrite =
  | ReadonlyArray<TensorToWrite & { name: string }>
  | ReadonlyMap<string, TensorToWrite>;

/** The reference implementation refuses headers above this size (100 MB). */
export const MAX_HEADER_SIZE = 100_000_000;

/** Bytes per element of every dtype the format defines; those in `READABLE` can be read. */
const DTYPE_SIZE: Record<string, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1,
  I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4,
  I64: 8, U64: 8, F64: 8,
};
const READABLE = new Set(['BOOL', 'U8', 'I8', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'I64', 'U64', 'F64']);

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function fail(message: string): never {
  throw new SafetensorsError(message);
}

/** JSON.stringify for error messages: quotes a name and escapes newlines, keeping messages one line. */
function q(s: string): string {
  const j = JSON.stringify(s);
  return j.length > 120 ? `${j.slice(0, 117)}…"` : j;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  // defineProperty, not assignment: a key "__proto__" must stay an ordinary entry.
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

interface Entry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * Parses a whole safetensors file. The data is copied out, so `bytes` may be unaligned, a view
 * into a larger buffer, or reused afterwards. Throws `SafetensorsError` on any malformation.
 */
export function parseSafetensors(bytes: Uint8Array): ParsedSafetensors {
  const total = bytes.byteLength;
  if (total < 8) {
    fail(`file too short (${total} bytes): a safetensors file starts with an 8-byte header length`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, total);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  const n = hi * 2 ** 32 + lo; // exact below 2^53; anything larger fails the checks below anyway
  if (n > MAX_HEADER_SIZE) fail(`header length ${hi === 0 ? n : `≥ 2^32`} exceeds the limit of ${MAX_HEADER_SIZE} bytes`);
  if (8 + n > total) {
    fail(`header length ${n} runs past the end of the file (${total} bytes): truncated or not a safetensors file`);
  }
  if (n < 2) fail(`header length ${n} is too small to hold a JSON object`);

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    fail('header is not valid UTF-8');
  }
  if (text[0] !== '{') fail(`header does not start with '{' (got ${q(text.slice(0, 16))}): not a safetensors file`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    const why = (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').slice(0, 100);
    fail(`header is not valid JSON (${why})`);
  }
  if (!isPlainObject(header)) fail('header is not a JSON object');

  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const name of Object.keys(header)) {
    const info = header[name];
    if (name === '__metadata__') {
      if (!isPlainObject(info)) fail('__metadata__ is not a JSON object of strings');
      for (const key of Object.keys(info)) {
        const value = info[key];
        if (typeof value !== 'string') {
          fail(`__metadata__ value for ${q(key)} is ${value === null ? 'null' : typeof value}, not a string`);
        }
        setOwn(metadata, key, value);
      }
      continue;
    }
    if (!isPlainObject(info)) fail(`tensor ${q(name)}: entry is not a JSON object`);
    const { dtype, shape, data_offsets: offsets } = info;
    if (typeof dtype !== 'string') fail(`tensor ${q(name)}: missing or non-string dtype`);
    const size = Object.hasOwn(DTYPE_SIZE, dtype) ? DTYPE_SIZE[dtype] : undefined;
    if (size === undefined) fail(`tensor ${q(name)}: unknown dtype ${q(dtype)}`);
    if (!READABLE.has(dtype)) fail(`tensor ${q(name)}: dtype ${dtype} is not supported`);
    if (!Array.isArray(shape) || !shape.every(isNonNegInt)) {
      fail(`tensor ${q(name)}: shape must be an array of non-negative integers`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegInt)) {
      fail(`tensor ${q(name)}: data_offsets must be two non-negative integers`);
    }
    const [begin, end] = offsets as [number, number];
    if (end < begin) fail(`tensor ${q(name)}: data_offsets [${begin}, ${end}] end before they begin`);
    let count = 1;
    for (const d of shape as number[]) count *= d;
    const nbytes = count * size;
    if (nbytes !== end - begin) {
      fail(
        `tensor ${q(name)}: data_offsets [${begin}, ${end}] span ${end - begin} bytes but shape ` +
          `[${(shape as number[]).join(', ')}] of ${dtype} needs ${nbytes}`,
      );
    }
    entries.push({ name, dtype, shape: (shape as number[]).slice(), begin, end });
  }

  // The tensors must tile the buffer: sorted by offset, each begins where the previous ended.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let previous = '';
  for (const e of entries) {
    if (e.begin < cursor) fail(`tensor ${q(e.name)}: data overlaps tensor ${q(previous)}`);
    if (e.begin > cursor) fail(`tensor ${q(e.name)}: gap of ${e.begin - cursor} bytes before its data (offset ${cursor})`);
    cursor = e.end;
    previous = e.name;
  }
  const available = total - 8 - n;
  if (cursor > available) {
    fail(`truncated file: the header needs ${cursor} bytes of tensor data but only ${available} are present`);
  }
  if (cursor < available) fail(`${available - cursor} unexpected bytes after the last tensor's data`);

  const base = bytes.byteOffset + 8 + n;
  const tensors = new Map<string, SafetensorsTensor>();
  for (const e of entries) {
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: decode(bytes.buffer, base + e.begin, e.end - e.begin, e.dtype) });
  }
  return { tensors, metadata };
}

/** Converts `length` bytes at `offset` of `buffer` from `dtype` to a fresh Float32Array. */
function decode(buffer: ArrayBufferLike, offset: number, length: number, dtype: string): Float32Array {
  const count = length / DTYPE_SIZE[dtype];
  if (dtype === 'F32' && LITTLE_ENDIAN_HOST) {
    // slice() copies into a new, aligned ArrayBuffer; keeps NaN payloads bit-exact.
    return new Float32Array(new Uint8Array(buffer, offset, length).slice().buffer);
  }
  const out = new Float32Array(count);
  const v = new DataView(buffer, offset, length);
  switch (dtype) {
    case 'F32': for (let i = 0; i < count; i++) out[i] = v.getFloat32(4 * i, true); break;
    case 'F64': for (let i = 0; i < count; i++) out[i] = v.getFloat64(8 * i, true); break;
    case 'F16': for (let i = 0; i < count; i++) out[i] = halfToFloat(v.getUint16(2 * i, true)); break;
    case 'BF16': {
      const bits = new Uint32Array(1);
      const f = new Float32Array(bits.buffer);
      for (let i = 0; i < count; i++) {
        bits[0] = v.getUint16(2 * i, true) << 16;
        out[i] = f[0];
      }
      break;
    }
    case 'I64': for (let i = 0; i < count; i++) out[i] = Number(v.getBigInt64(8 * i, true)); break;
    case 'U64': for (let i = 0; i < count; i++) out[i] = Number(v.getBigUint64(8 * i, true)); break;
    case 'I32': for (let i = 0; i < count; i++) out[i] = v.getInt32(4 * i, true); break;
    case 'U32': for (let i = 0; i < count; i++) out[i] = v.getUint32(4 * i, true); break;
    case 'I16': for (let i = 0; i < count; i++) out[i] = v.getInt16(2 * i, true); break;
    case 'U16': for (let i = 0; i < count; i++) out[i] = v.getUint16(2 * i, true); break;
    case 'I8': for (let i = 0; i < count; i++) out[i] = v.getInt8(i); break;
    case 'U8': for (let i = 0; i < count; i++) out[i] = v.getUint8(i); break;
    case 'BOOL': for (let i = 0; i < count; i++) out[i] = v.getUint8(i) !== 0 ? 1 : 0; break;
    default: fail(`dtype ${dtype} is not supported`);
  }
  return out;
}

/** IEEE 754 binary16 → number (exact). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const man = h & 0x3ff;
  if (exp === 0) return sign * man * 2 ** -24;
  if (exp === 0x1f) return man ? NaN : sign * Infinity;
  return sign * (1 + man / 1024) * 2 ** (exp - 15);
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Orders strings by their UTF-8 bytes, as Rust's `str::cmp` does (JS's `<` compares UTF-16 units). */
function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

function checkString(s: string, what: string): void {
  if (typeof s !== 'string') fail(`${what} must be a string`);
  if (LONE_SURROGATE.test(s)) fail(`${what} ${q(s)} contains an unpaired UTF-16 surrogate`);
}

/**
 * The file as a list of byte chunks: first the length + header, then each tensor's bytes in file
 * order. On little-endian hosts the tensor chunks are views of the callers' arrays (no copy), so
 * they must not change until the chunks are written. Concatenated, the chunks are the file.
 */
export function serializeSafetensorsChunks(tensors: TensorsToWrite, metadata?: Record<string, string>): Uint8Array[] {
  const list: Array<{ name: string; shape: readonly number[]; data: Float32Array }> = [];
  const seen = new Set<string>();
  const items: Iterable<[string, TensorToWrite]> = Array.isArray(tensors)
    ? (tensors as ReadonlyArray<TensorToWrite & { name: string }>).map((t) => [t.name, t] as [string, TensorToWrite])
    : (tensors as ReadonlyMap<string, TensorToWrite>).entries();
  for (const [name, t] of items) {
    checkString(name, 'tensor name');
    if (name === '__metadata__') fail('a tensor cannot be named "__metadata__"');
    if (seen.has(name)) fail(`duplicate tensor name ${q(name)}`);
    seen.add(name);
    if (!(t.data instanceof Float32Array)) fail(`tensor ${q(name)}: data must be a Float32Array`);
    if (!Array.isArray(t.shape) || !t.shape.every(isNonNegInt)) {
      fail(`tensor ${q(name)}: shape must be an array of non-negative integers`);
    }
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) {
      fail(`tensor ${q(name)}: shape [${t.shape.join(', ')}] has ${count} elements but data has ${t.data.length}`);
    }
    list.push({ name, shape: t.shape, data: t.data });
  }
  // All F32, so the reference's (dtype descending, name) order is by name alone.
  list.sort((a, b) => compareUtf8(a.name, b.name));

  const parts: string[] = [];
  if (metadata !== undefined) {
    if (!isPlainObject(metadata)) fail('metadata must be an object of strings');
    const keys = Object.keys(metadata).sort(compareUtf8);
    const fields = keys.map((k) => {
      checkString(k, 'metadata key');
      const v = metadata[k];
      if (typeof v !== 'string') fail(`metadata value for ${q(k)} must be a string, got ${v === null ? 'null' : typeof v}`);
      checkString(v, `metadata value for ${q(k)}`);
      return `${JSON.stringify(k)}:${JSON.stringify(v)}`;
    });
    parts.push(`"__metadata__":{${fields.join(',')}}`);
  }
  let offset = 0;
  for (const t of list) {
    const end = offset + 4 * t.data.length;
    parts.push(`${JSON.stringify(t.name)}:{"dtype":"F32","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded > MAX_HEADER_SIZE) fail(`header would be ${padded} bytes, above the limit of ${MAX_HEADER_SIZE}`);
  const head = new Uint8Array(8 + padded);
  const hv = new DataView(head.buffer);
  hv.setUint32(0, padded, true);
  hv.setUint32(4, 0, true);
  head.set(json, 8);
  head.fill(0x20, 8 + json.length);

  const chunks: Uint8Array[] = [head];
  for (const t of list) {
    if (t.data.length === 0) continue;
    if (LITTLE_ENDIAN_HOST) {
      chunks.push(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    } else {
      const c = new Uint8Array(t.data.byteLength);
      const cv = new DataView(c.buffer);
      for (let i = 0; i < t.data.length; i++) cv.setFloat32(4 * i, t.data[i], true);
      chunks.push(c);
    }
  }
  return chunks;
}

/**
 * Serializes float32 tensors (and optional string metadata) to safetensors bytes, laid out as the
 * reference library writes them: `__metadata__` first (keys sorted), tensors sorted by name with
 * contiguous offsets, header padded with spaces to a multiple of 8 bytes.
 */
export function serializeSafetensors(tensors: TensorsToWrite, metadata?: Record<string, string>): Uint8Array {
  return joinChunks(serializeSafetensorsChunks(tensors, metadata));
}

/** The chunks of a serialized file as one byte array. */
export function joinChunks(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((a, c) => a + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

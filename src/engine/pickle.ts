/**
 * A restricted reader of Python pickles (protocols 0–5, the binary opcodes that data structures use),
 * enough for a PyTorch state dict and nothing more. No Node APIs: this runs in the browser too.
 *
 * A pickle is a program for a small stack machine; Python's `pickle.load` runs it, and two of its
 * instructions (GLOBAL / STACK_GLOBAL: "import module.name", and REDUCE: "call it") let a pickle run
 * any code, which is why loading an untrusted `.pth` with `torch.load` (weights_only=False) is unsafe.
 * This reader runs no code at all. Data opcodes build plain values (None, bools, ints, floats,
 * strings, bytes, lists, tuples, dicts); a global is looked up in the caller's allow-list
 * (`PickleEnv.global`), and anything not on it is refused at once, before any further instruction;
 * REDUCE / NEWOBJ / BUILD apply only the allowed globals' own TypeScript stand-ins. Opcodes that
 * build arbitrary instances (INST, OBJ, NEWOBJ_EX, the extension registry, out-of-band buffers) are
 * refused, as is anything malformed: a length past the end, an unknown memo key, a stack underflow.
 */
import { UserError } from '../core/errors.js';

/** A pickle this reader refuses or cannot read; the message is one line. */
export class PickleError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'PickleError';
  }
}

/** Python's tuple (kept apart from list, which is a JS array). */
export class PyTuple {
  constructor(readonly items: readonly PyValue[]) {}
}

/** Python's dict / OrderedDict, insertion-ordered; `attributes` holds what BUILD set on it (e.g. `_metadata`). */
export class PyDict {
  readonly entries = new Map<PyValue, PyValue>();
  attributes: PyDict | null = null;
}

/** An allowed global: a callable (REDUCE, NEWOBJ) whose stand-in builds a value from its arguments. */
export interface PyCallable {
  readonly kind: 'callable';
  /** `module.name`, for messages */
  readonly qualifiedName: string;
  call(args: readonly PyValue[]): PyValue;
}

/** Any other allowed global, passed around as a value (e.g. a storage type in a persistent id). */
export interface PyGlobal {
  readonly kind: 'global';
  readonly qualifiedName: string;
}

/** A value the caller's stand-ins return (e.g. a tensor). */
export interface PyOpaque {
  readonly kind: 'opaque';
  readonly value: unknown;
}

export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyValue[]
  | PyTuple
  | PyDict
  | PyCallable
  | PyGlobal
  | PyOpaque;

/** What the pickle may reach beyond plain data. */
export interface PickleEnv {
  /**
   * The allowed global `module.name`, or undefined to refuse it. Called when the GLOBAL or
   * STACK_GLOBAL instruction is read, so a refused name stops the pickle there.
   */
  global(module: string, name: string): PyCallable | PyGlobal | undefined;
  /** Resolves a persistent id (BINPERSID), e.g. PyTorch's storages; absent: refused. */
  persistentLoad?(pid: PyValue): PyValue;
  /** Why globals are refused, appended to the refusal message (one sentence). */
  readonly refusal?: string;
}

/** Opcodes a state dict never uses, by name (for the refusal message). */
const REFUSED_OPCODES = new Map<number, string>([
  [0x69, 'INST'],
  [0x6f, 'OBJ'],
  [0x92, 'NEWOBJ_EX'],
  [0x82, 'EXT1'],
  [0x83, 'EXT2'],
  [0x84, 'EXT4'],
  [0x50, 'PERSID'],
  [0x96, 'BYTEARRAY8'],
  [0x97, 'NEXT_BUFFER'],
  [0x98, 'READONLY_BUFFER'],
  [0x8f, 'EMPTY_SET'],
  [0x90, 'ADDITEMS'],
  [0x91, 'FROZENSET'],
  [0x53, 'STRING'],
  [0x56, 'UNICODE'],
]);

const MARK = Symbol('mark');
type StackItem = PyValue | typeof MARK;

/** Upper bound on stack depth and memo size: far above a state dict's needs, below memory trouble. */
const MAX_ITEMS = 10_000_000;

function describe(v: StackItem): string {
  if (v === MARK) return 'a mark';
  if (v === null) return 'None';
  if (Array.isArray(v)) return 'a list';
  if (v instanceof PyTuple) return 'a tuple';
  if (v instanceof PyDict) return 'a dict';
  if (v instanceof Uint8Array) return 'bytes';
  if (typeof v === 'object') return v.kind === 'opaque' ? 'an object' : v.qualifiedName;
  return typeof v === 'string' ? 'a string' : typeof v;
}

const latin1 = (b: Uint8Array): string => {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
};

/**
 * Reads one pickle from `bytes` and returns its value. Throws PickleError for anything it refuses or
 * cannot read. Trailing bytes after STOP are ignored (as Python does).
 */
export function unpickle(bytes: Uint8Array, env: PickleEnv): PyValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let pos = 0;
  const stack: StackItem[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PyValue>();

  const fail = (why: string): never => {
    throw new PickleError(`${why} (at byte ${pos})`);
  };
  const need = (n: number): number => {
    if (!Number.isSafeInteger(n) || n < 0 || pos + n > bytes.length) fail(`truncated pickle: ${n} more bytes needed`);
    const at = pos;
    pos += n;
    return at;
  };
  const take = (n: number): Uint8Array => {
    const at = need(n);
    return bytes.subarray(at, at + n);
  };
  const u8 = (): number => bytes[need(1)];
  const u16 = (): number => view.getUint16(need(2), true);
  const u32 = (): number => view.getUint32(need(4), true);
  const u64 = (): number => {
    const at = need(8);
    const hi = view.getUint32(at + 4, true);
    if (hi >= 0x200000) fail('a length of 2^53 bytes or more');
    return hi * 2 ** 32 + view.getUint32(at, true);
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail('truncated pickle: a text argument has no end of line');
    const s = latin1(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const text = (b: Uint8Array): string => {
    try {
      return utf8.decode(b);
    } catch {
      return fail('a string that is not valid UTF-8');
    }
  };

  const push = (v: PyValue): void => {
    if (stack.length >= MAX_ITEMS) fail('the stack grows past its limit');
    stack.push(v);
  };
  const pop = (): PyValue => {
    const v = stack.pop();
    if (v === undefined || (marks.length > 0 && stack.length < marks[marks.length - 1])) fail('stack underflow');
    if (v === MARK) fail('a mark where a value was expected');
    return v as PyValue;
  };
  const top = (): PyValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK || (marks.length > 0 && stack.length <= marks[marks.length - 1])) fail('stack underflow');
    return v as PyValue;
  };
  const popMark = (): PyValue[] => {
    const m = marks.pop();
    if (m === undefined) fail('no mark to pop to');
    const items = stack.splice(m! + 1) as PyValue[];
    stack.pop(); // the mark itself
    return items;
  };
  const memoPut = (key: number): void => {
    if (memo.size >= MAX_ITEMS && !memo.has(key)) fail('the memo grows past its limit');
    memo.set(key, top());
  };
  const memoGet = (key: number): void => {
    if (!memo.has(key)) fail(`memo key ${key} was never stored`);
    push(memo.get(key)!);
  };
  const resolveGlobal = (module: string, name: string): void => {
    const g = env.global(module, name);
    if (!g) {
      throw new PickleError(`refused: the pickle asks for the Python global ${module}.${name}${env.refusal ? `; ${env.refusal}` : ''}`);
    }
    push(g);
  };
  const apply = (fn: PyValue, args: PyValue, what: string): void => {
    if (!(args instanceof PyTuple)) fail(`${what} with ${describe(args)} as arguments (a tuple expected)`);
    if (fn === null || typeof fn !== 'object' || !('kind' in fn) || fn.kind !== 'callable') fail(`${what} of ${describe(fn)}, which cannot be called`);
    push((fn as PyCallable).call((args as PyTuple).items));
  };
  const setItems = (dict: PyValue, items: PyValue[]): void => {
    if (!(dict instanceof PyDict)) fail(`setting items of ${describe(dict)}`);
    if (items.length % 2 !== 0) fail('an odd number of items for a dict');
    for (let i = 0; i < items.length; i += 2) (dict as PyDict).entries.set(items[i], items[i + 1]);
  };
  const appendAll = (list: PyValue, items: PyValue[]): void => {
    if (!Array.isArray(list)) fail(`appending to ${describe(list)}`);
    for (const x of items) (list as PyValue[]).push(x);
  };
  const intFromLE = (b: Uint8Array): number | bigint => {
    if (b.length === 0) return 0;
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const intFromText = (s: string): number | bigint | boolean => {
    const t = s.replace(/L$/, '');
    if (s === '00') return false; // protocol 0 writes False / True as INT 00 / 01
    if (s === '01') return true;
    if (!/^[-+]?\d+$/.test(t)) fail(`an integer argument ${JSON.stringify(s.slice(0, 40))}`);
    const v = BigInt(t);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };

  for (;;) {
    if (pos >= bytes.length) fail('truncated pickle: no STOP instruction');
    const at = pos;
    const op = bytes[pos++];
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('pickle protocol above 5');
        break;
      case 0x95: // FRAME: a length hint only
        u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length > 0) fail(`the pickle ends with ${stack.length} values on the stack (1 expected)`);
        return pop();
      case 0x28: // MARK
        if (stack.length >= MAX_ITEMS) fail('the stack grows past its limit');
        marks.push(stack.length);
        stack.push(MARK);
        break;
      case 0x30: // POP
        if (stack[stack.length - 1] === MARK) popMark();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        push(top());
        break;
      case 0x4e: // NONE
        push(null);
        break;
      case 0x88: // NEWTRUE
        push(true);
        break;
      case 0x89: // NEWFALSE
        push(false);
        break;
      case 0x4a: // BININT
        push(view.getInt32(need(4), true));
        break;
      case 0x4b: // BININT1
        push(u8());
        break;
      case 0x4d: // BININT2
        push(u16());
        break;
      case 0x8a: // LONG1
        push(intFromLE(take(u8())));
        break;
      case 0x8b: {
        // LONG4
        const n = view.getInt32(need(4), true);
        if (n < 0) fail('a negative length');
        push(intFromLE(take(n)));
        break;
      }
      case 0x49: // INT (text)
        push(intFromText(line()));
        break;
      case 0x4c: // LONG (text)
        push(intFromText(line()) as number | bigint);
        break;
      case 0x47: // BINFLOAT (big-endian double)
        push(view.getFloat64(need(8), false));
        break;
      case 0x46: {
        // FLOAT (text)
        const s = line();
        const v = Number(s);
        if (s.trim() === '' || Number.isNaN(v)) fail(`a float argument ${JSON.stringify(s.slice(0, 40))}`);
        push(v);
        break;
      }
      case 0x58: // BINUNICODE
        push(text(take(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        push(text(take(u8())));
        break;
      case 0x8d: // BINUNICODE8
        push(text(take(u64())));
        break;
      case 0x54: // BINSTRING (Python 2 str)
        push(latin1(take(u32())));
        break;
      case 0x55: // SHORT_BINSTRING
        push(latin1(take(u8())));
        break;
      case 0x42: // BINBYTES
        push(take(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        push(take(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
        push(take(u64()).slice());
        break;
      case 0x29: // EMPTY_TUPLE
        push(new PyTuple([]));
        break;
      case 0x74: // TUPLE
        push(new PyTuple(popMark()));
        break;
      case 0x85: // TUPLE1
        push(new PyTuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        push(new PyTuple([pop(), b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        push(new PyTuple([pop(), b, c]));
        break;
      }
      case 0x5d: // EMPTY_LIST
        push([]);
        break;
      case 0x6c: // LIST
        push(popMark());
        break;
      case 0x61: {
        // APPEND
        const v = pop();
        appendAll(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        appendAll(top(), items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        push(new PyDict());
        break;
      case 0x64: {
        // DICT
        const d = new PyDict();
        setItems(d, popMark());
        push(d);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        resolveGlobal(module, line());
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL with a module or name that is not a string');
        resolveGlobal(module as string, name as string);
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        apply(pop(), args, 'a call');
        break;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args), for the allowed classes the same as calling them
        const args = pop();
        apply(pop(), args, 'an instance');
        break;
      }
      case 0x62: {
        // BUILD: obj.__setstate__(state); a dict takes attributes (OrderedDict's _metadata)
        const state = pop();
        const obj = top();
        if (!(obj instanceof PyDict) || !(state instanceof PyDict)) fail(`setting the state of ${describe(obj)} to ${describe(state)}`);
        (obj as PyDict).attributes = state as PyDict;
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop();
        if (!env.persistentLoad) fail('a persistent id, which this pickle may not hold');
        push(env.persistentLoad!(pid));
        break;
      }
      case 0x71: // BINPUT
        memoPut(u8());
        break;
      case 0x72: // LONG_BINPUT
        memoPut(u32());
        break;
      case 0x94: // MEMOIZE
        memoPut(memo.size);
        break;
      case 0x70: {
        // PUT (text)
        const k = intFromText(line());
        if (typeof k !== 'number') fail('a memo key out of range');
        memoPut(k as number);
        break;
      }
      case 0x68: // BINGET
        memoGet(u8());
        break;
      case 0x6a: // LONG_BINGET
        memoGet(u32());
        break;
      case 0x67: {
        // GET (text)
        const k = intFromText(line());
        if (typeof k !== 'number') fail('a memo key out of range');
        memoGet(k as number);
        break;
      }
      default: {
        pos = at;
        fail(`refused: pickle instruction ${REFUSED_OPCODES.get(op) ?? `0x${op.toString(16).padStart(2, '0')}`}, which a state dict does not use`);
      }
    }
  }
}

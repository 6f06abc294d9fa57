/**
 * PyTorch `.pth` state dicts (`torch.save(model.state_dict(), path)`, the zip format of torch ≥ 1.6)
 * read without Python and without running the file's pickle: the archive's `data.pkl` goes through
 * the restricted unpickler (pickle.ts), whose only globals are those a state dict is made of —
 * `collections.OrderedDict`, `torch._utils._rebuild_tensor_v2` (and `_rebuild_parameter`) and the
 * typed storages `torch.FloatStorage`, `torch.LongStorage`, … — and whose persistent ids name the
 * storages in the archive's `data/` folder. Anything else (a pickled module, a hostile `os.system`)
 * is refused with one line. No Node APIs: this runs in the browser too.
 *
 * The result is the tensors by state_dict key, converted to float32 as the safetensors reader does,
 * and as a foreign safetensors file (no seqrec metadata) that every model loader reads.
 */
import { UserError } from '../core/errors.js';
import { PickleError, PyDict, PyTuple, unpickle, type PyCallable, type PyGlobal, type PyValue } from './pickle.js';
import { halfToFloat, serializeSafetensors, type SafetensorsTensor } from './safetensors.js';
import { isZip, ZipArchive, ZipError } from './zip.js';

/** A `.pth` file seqrec cannot or will not read; the message is one line. */
export class TorchFileError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'TorchFileError';
  }
}

/** The storage types of `torch.<Name>Storage`: safetensors dtype name and bytes per element. */
const STORAGES: Readonly<Record<string, { dtype: string; size: number }>> = {
  FloatStorage: { dtype: 'F32', size: 4 },
  DoubleStorage: { dtype: 'F64', size: 8 },
  HalfStorage: { dtype: 'F16', size: 2 },
  BFloat16Storage: { dtype: 'BF16', size: 2 },
  LongStorage: { dtype: 'I64', size: 8 },
  IntStorage: { dtype: 'I32', size: 4 },
  ShortStorage: { dtype: 'I16', size: 2 },
  CharStorage: { dtype: 'I8', size: 1 },
  ByteStorage: { dtype: 'U8', size: 1 },
  BoolStorage: { dtype: 'BOOL', size: 1 },
};

const ALLOWED =
  'seqrec reads state dicts only (torch.save(model.state_dict(), path)): OrderedDict, tensors and their storages; it runs no code from the file';

interface StorageType extends PyGlobal {
  readonly dtype: string;
  readonly size: number;
}

interface Storage {
  readonly dtype: string;
  readonly size: number;
  readonly numel: number;
  readonly view: DataView;
}

/** What `_rebuild_tensor_v2` gives: a tensor as float32. */
interface RebuiltTensor {
  readonly torchTensor: true;
  readonly dtype: string;
  readonly shape: number[];
  readonly data: Float32Array;
}

const opaque = (value: unknown): PyValue => ({ kind: 'opaque', value });

function opaqueValue(v: PyValue): unknown {
  return v !== null && typeof v === 'object' && 'kind' in v && v.kind === 'opaque' ? v.value : undefined;
}

function isTensor(v: PyValue): RebuiltTensor | undefined {
  const x = opaqueValue(v) as RebuiltTensor | undefined;
  return x?.torchTensor ? x : undefined;
}

function intsOf(v: PyValue, what: string): number[] {
  if (!(v instanceof PyTuple) || !v.items.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0)) {
    throw new TorchFileError(`a tensor's ${what} is not a tuple of non-negative integers`);
  }
  return v.items as number[];
}

function readElement(s: Storage, i: number, littleEndian: boolean): number {
  const v = s.view;
  const at = i * s.size;
  switch (s.dtype) {
    case 'F32': return v.getFloat32(at, littleEndian);
    case 'F64': return v.getFloat64(at, littleEndian);
    case 'F16': return halfToFloat(v.getUint16(at, littleEndian));
    case 'BF16': return new Float32Array(new Uint32Array([v.getUint16(at, littleEndian) << 16]).buffer)[0];
    case 'I64': return Number(v.getBigInt64(at, littleEndian));
    case 'I32': return v.getInt32(at, littleEndian);
    case 'I16': return v.getInt16(at, littleEndian);
    case 'I8': return v.getInt8(at);
    case 'U8': return v.getUint8(at);
    default: return v.getUint8(at) !== 0 ? 1 : 0; // BOOL
  }
}

/** `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])`. */
function rebuildTensor(args: readonly PyValue[], littleEndian: boolean, budget: { elements: number }): PyValue {
  if (args.length < 4) throw new TorchFileError('_rebuild_tensor_v2 with fewer than 4 arguments');
  const storage = opaqueValue(args[0]) as Storage | undefined;
  if (!storage?.view) throw new TorchFileError("a tensor whose storage is not one of the archive's");
  const offset = args[1];
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) throw new TorchFileError("a tensor's storage offset is not an integer");
  const shape = intsOf(args[2], 'size');
  const stride = intsOf(args[3], 'stride');
  if (stride.length !== shape.length) throw new TorchFileError(`a tensor with ${shape.length} sizes and ${stride.length} strides`);
  let count = 1;
  let last = offset; // the largest element index the tensor reads
  for (let d = 0; d < shape.length; d++) {
    count *= shape[d];
    if (shape[d] > 0) last += (shape[d] - 1) * stride[d];
  }
  if (!Number.isSafeInteger(count)) throw new TorchFileError('a tensor too large to read');
  if (count > 0 && last >= storage.numel) {
    throw new TorchFileError(`a tensor of shape [${shape.join(', ')}] reads element ${last} of a storage of ${storage.numel}`);
  }
  // a saved parameter has at most its storage's elements (more is a broadcast view), and the tensors
  // of a file at most a few times the elements it stores: a crafted pickle cannot make memory explode
  if (count > storage.numel) throw new TorchFileError(`a tensor of ${count} elements on a storage of ${storage.numel}: not a saved parameter`);
  budget.elements -= count;
  if (budget.elements < 0) throw new TorchFileError('its tensors hold far more elements than its storages: not a saved state dict');
  const data = new Float32Array(count);
  // row-major walk over the shape, each element at offset + Σ index·stride
  const index = new Array<number>(shape.length).fill(0);
  let at = offset;
  for (let i = 0; i < count; i++) {
    data[i] = readElement(storage, at, littleEndian);
    for (let d = shape.length - 1; d >= 0; d--) {
      index[d]++;
      at += stride[d];
      if (index[d] < shape[d]) break;
      at -= index[d] * stride[d];
      index[d] = 0;
    }
  }
  return opaque({ torchTensor: true, dtype: storage.dtype, shape: [...shape], data } satisfies RebuiltTensor);
}

function callable(qualifiedName: string, call: (args: readonly PyValue[]) => PyValue): PyCallable {
  return { kind: 'callable', qualifiedName, call };
}

/** An OrderedDict: empty, or from a list of (key, value) pairs. */
function orderedDict(args: readonly PyValue[]): PyValue {
  const d = new PyDict();
  if (args.length === 0) return d;
  const pairs = args[0];
  if (args.length > 1 || !Array.isArray(pairs)) throw new TorchFileError('OrderedDict(...) with arguments other than a list of pairs');
  for (const p of pairs) {
    if (!(p instanceof PyTuple) || p.items.length !== 2) throw new TorchFileError('OrderedDict(...) with an item that is not a pair');
    d.entries.set(p.items[0], p.items[1]);
  }
  return d;
}

/** The archive's folder (`archive/`, or the file's name in older torch) holding data.pkl. */
function archivePrefix(zip: ZipArchive): string {
  const pkl = [...zip.entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pkl.length === 0) {
    throw new TorchFileError('a zip archive without <name>/data.pkl: not a PyTorch checkpoint (torch.save of torch ≥ 1.6)');
  }
  if (pkl.length > 1) throw new TorchFileError(`a zip archive with ${pkl.length} data.pkl files: not one PyTorch checkpoint`);
  return pkl[0].slice(0, -'data.pkl'.length);
}

/** Whether the bytes look like a PyTorch file: a zip checkpoint, or the legacy (torch < 1.6) pickle stream. */
export function isTorchFile(bytes: Uint8Array): boolean {
  return isZip(bytes) || isLegacyTorchFile(bytes);
}

/** torch < 1.6 wrote a pickled magic number (LONG1 0x1950a86a20f9469cfc6c) first. */
function isLegacyTorchFile(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x80 && bytes[1] === 0x02 && bytes[2] === 0x8a && bytes[3] === 0x0a;
}

/**
 * The tensors of a `.pth` state dict by key, as float32 (stored dtype in `dtype`). A state dict saved
 * from a `DataParallel` / `DistributedDataParallel` model has every key prefixed with `module.`: the
 * prefix is dropped. Throws TorchFileError (one line) for anything else.
 */
export function readTorchStateDict(bytes: Uint8Array): Map<string, SafetensorsTensor> {
  if (isLegacyTorchFile(bytes)) {
    throw new TorchFileError(
      'a PyTorch file in the legacy format of torch < 1.6; re-save it with a newer torch: torch.save(torch.load(path), path)',
    );
  }
  if (!isZip(bytes)) throw new TorchFileError('not a PyTorch checkpoint (a .pth file is a zip archive)');
  try {
    const zip = new ZipArchive(bytes);
    const prefix = archivePrefix(zip);
    const byteorder = zip.read(`${prefix}byteorder`, 16);
    const order = byteorder ? new TextDecoder().decode(byteorder).trim() : 'little';
    if (order !== 'little' && order !== 'big') throw new TorchFileError(`byteorder "${order.slice(0, 20)}" (little or big expected)`);
    const littleEndian = order === 'little';
    const storages = new Map<string, Storage>();
    let stored = 0;
    for (const [name, e] of zip.entries) if (name.startsWith(`${prefix}data/`)) stored += e.size;
    const budget = { elements: 4 * stored + 1_000_000 };

    const storageTypes = new Map<string, StorageType>();
    for (const [name, s] of Object.entries(STORAGES)) {
      storageTypes.set(name, { kind: 'global', qualifiedName: `torch.${name}`, dtype: s.dtype, size: s.size });
    }
    const globals: Record<string, PyCallable | PyGlobal> = {
      'collections.OrderedDict': callable('collections.OrderedDict', orderedDict),
      'torch._utils._rebuild_tensor_v2': callable('torch._utils._rebuild_tensor_v2', (args) => rebuildTensor(args, littleEndian, budget)),
      'torch._utils._rebuild_parameter': callable('torch._utils._rebuild_parameter', (args) => {
        if (!isTensor(args[0])) throw new TorchFileError('_rebuild_parameter of something that is not a tensor');
        return args[0];
      }),
    };

    const value = unpickle(zip.read(`${prefix}data.pkl`)!, {
      global: (module, name) => (module === 'torch' && storageTypes.has(name) ? storageTypes.get(name) : globals[`${module}.${name}`]),
      refusal: ALLOWED,
      persistentLoad(pid) {
        // ('storage', torch.FloatStorage, key, location, numel)
        const t = pid instanceof PyTuple ? pid.items : [];
        const [tag, typeValue, key, , numel] = t;
        const type = [...storageTypes.values()].find((s) => s === typeValue);
        if (t.length !== 5 || tag !== 'storage' || !type || typeof key !== 'string' || typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) {
          throw new TorchFileError("a persistent id that is not ('storage', torch.<Type>Storage, key, location, numel)");
        }
        let s = storages.get(key);
        if (!s) {
          const data = zip.read(`${prefix}data/${key}`);
          if (!data) throw new TorchFileError(`storage ${JSON.stringify(key.slice(0, 40))} is missing from the archive`);
          if (data.length < numel * type.size) {
            throw new TorchFileError(`storage ${key} holds ${data.length} bytes, ${numel} elements of ${type.qualifiedName} need ${numel * type.size}`);
          }
          s = { dtype: type.dtype, size: type.size, numel, view: new DataView(data.buffer, data.byteOffset, data.byteLength) };
          storages.set(key, s);
        }
        return opaque(s);
      },
    });
    return stateDictTensors(value);
  } catch (err) {
    if (err instanceof TorchFileError || err instanceof PickleError) throw err;
    if (err instanceof ZipError) throw new TorchFileError(`a damaged zip archive: ${err.message}`);
    throw err;
  }
}

function stateDictTensors(value: PyValue): Map<string, SafetensorsTensor> {
  if (!(value instanceof PyDict)) {
    const what = isTensor(value) ? 'a single tensor' : Array.isArray(value) ? 'a list' : value instanceof PyTuple ? 'a tuple' : 'no dict';
    throw new TorchFileError(`it holds ${what}, not a state dict (torch.save(model.state_dict(), path))`);
  }
  const out = new Map<string, SafetensorsTensor>();
  for (const [k, v] of value.entries) {
    const t = isTensor(v);
    if (typeof k !== 'string' || !t) {
      const key = typeof k === 'string' ? JSON.stringify(k.slice(0, 60)) : 'a key that is not a string';
      throw new TorchFileError(
        `its entry ${key} is not a tensor: seqrec reads a bare state dict (torch.save(model.state_dict(), path)), not a checkpoint dict`,
      );
    }
    out.set(k, { dtype: t.dtype, shape: t.shape, data: t.data });
  }
  if (out.size === 0) throw new TorchFileError('an empty state dict');
  const keys = [...out.keys()];
  if (keys.every((k) => k.startsWith('module.'))) {
    return new Map([...out].map(([k, t]) => [k.slice('module.'.length), t]));
  }
  return out;
}

/** The state dict of a `.pth` file as a safetensors file with no metadata (a "foreign" checkpoint). */
export function torchStateDictToSafetensors(bytes: Uint8Array): Uint8Array {
  return serializeSafetensors(readTorchStateDict(bytes));
}

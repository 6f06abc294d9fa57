/**
 * A minimal ONNX writer: the protobuf encoding of ModelProto / GraphProto / NodeProto / TensorProto /
 * ValueInfoProto (onnx.proto field numbers) and a graph builder over it. Pure TypeScript without Node
 * built-ins, so it also runs in a browser. Only what seqrec's exported graphs need: float32, float64 and
 * int64 tensors, int / float / ints / string attributes, one opset of the default domain.
 */

/** onnx.proto TensorProto.DataType values used here. */
export const FLOAT = 1;
export const INT64 = 7;
export const DOUBLE = 11;
export type ElemType = typeof FLOAT | typeof INT64 | typeof DOUBLE;

/** An attribute value: an integer (INT), a float (FLOAT, give `{ f }`), a list of integers (INTS) or a string (STRING). */
export type AttrValue = number | { f: number } | readonly number[] | string;

class Writer {
  private chunks: Uint8Array[] = [];
  private scratch: number[] = [];
  private flush(): void {
    if (this.scratch.length) {
      this.chunks.push(Uint8Array.from(this.scratch));
      this.scratch = [];
    }
  }
  varint(v: number | bigint): void {
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 0x80n) {
      this.scratch.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.scratch.push(Number(x));
  }
  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }
  int(field: number, v: number): void {
    this.tag(field, 0);
    this.varint(v);
  }
  float(field: number, v: number): void {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.scratch.push(...b);
  }
  bytes(field: number, b: Uint8Array): void {
    this.tag(field, 2);
    this.varint(b.length);
    this.flush();
    this.chunks.push(b);
  }
  string(field: number, s: string): void {
    this.bytes(field, new TextEncoder().encode(s));
  }
  message(field: number, build: (w: Writer) => void): void {
    const inner = new Writer();
    build(inner);
    this.bytes(field, inner.finish());
  }
  finish(): Uint8Array {
    this.flush();
    const n = this.chunks.reduce((s, c) => s + c.length, 0);
    const out = new Uint8Array(n);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

/** A graph input or output: a dimension is a size or a symbolic name (e.g. 'batch'). */
export interface ValueInfo {
  name: string;
  elemType: ElemType;
  shape: ReadonlyArray<number | string>;
}

interface Initializer {
  name: string;
  elemType: ElemType;
  dims: readonly number[];
  raw: Uint8Array;
}

interface Node {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attrs: Readonly<Record<string, AttrValue>>;
}

/** Builds one graph: initializers, nodes (in topological order, as added) and the graph's interface. */
export class OnnxGraph {
  private readonly initializers: Initializer[] = [];
  private readonly nodes: Node[] = [];
  private counter = 0;

  constructor(
    readonly name: string,
    readonly inputs: ValueInfo[] = [],
    readonly outputs: ValueInfo[] = [],
  ) {}

  /** A float32 constant of the given dims (data copied). */
  floats(name: string, dims: readonly number[], data: ArrayLike<number>): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (data.length !== size) throw new Error(`onnx: ${name}: ${data.length} values for dims [${dims.join(', ')}]`);
    const f = Float32Array.from(data);
    this.initializers.push({ name, elemType: FLOAT, dims, raw: new Uint8Array(f.buffer) });
    return name;
  }

  /** A float64 constant of the given dims. */
  doubles(name: string, dims: readonly number[], data: readonly number[]): string {
    const v = Float64Array.from(data);
    this.initializers.push({ name, elemType: DOUBLE, dims, raw: new Uint8Array(v.buffer) });
    return name;
  }

  /** An int64 constant of the given dims. */
  int64s(name: string, dims: readonly number[], data: readonly number[]): string {
    const v = BigInt64Array.from(data, (x) => BigInt(x));
    this.initializers.push({ name, elemType: INT64, dims, raw: new Uint8Array(v.buffer) });
    return name;
  }

  /** Adds a node; returns its output name (a fresh one unless `output` is given). */
  op(op: string, inputs: readonly string[], attrs: Readonly<Record<string, AttrValue>> = {}, output?: string): string {
    const out = output ?? `${op.toLowerCase()}_${this.counter++}`;
    this.nodes.push({ op, inputs, outputs: [out], attrs });
    return out;
  }

  /** The serialized ModelProto (IR version 8, the given opset of the default domain). */
  toModel(opts: {
    opset: number;
    producer: string;
    producerVersion?: string;
    docString?: string;
    /** ModelProto.metadata_props (key → value) */
    metadata?: Readonly<Record<string, string>>;
  }): Uint8Array {
    const w = new Writer();
    w.int(1, 8); // ir_version
    w.string(2, opts.producer);
    if (opts.producerVersion) w.string(3, opts.producerVersion);
    if (opts.docString) w.string(6, opts.docString);
    w.message(7, (g) => this.writeGraph(g));
    w.message(8, (o) => {
      o.string(1, '');
      o.int(2, opts.opset);
    });
    for (const [key, value] of Object.entries(opts.metadata ?? {}))
      w.message(14, (m) => {
        m.string(1, key);
        m.string(2, value);
      });
    return w.finish();
  }

  private writeGraph(g: Writer): void {
    for (const n of this.nodes) {
      g.message(1, (m) => {
        for (const i of n.inputs) m.string(1, i);
        for (const o of n.outputs) m.string(2, o);
        m.string(3, n.outputs[0]);
        m.string(4, n.op);
        for (const [name, v] of Object.entries(n.attrs)) m.message(5, (a) => writeAttribute(a, name, v));
      });
    }
    g.string(2, this.name);
    for (const t of this.initializers) {
      g.message(5, (m) => {
        for (const d of t.dims) m.int(1, d);
        m.int(2, t.elemType);
        m.string(8, t.name);
        m.bytes(9, t.raw);
      });
    }
    for (const v of this.inputs) g.message(11, (m) => writeValueInfo(m, v));
    for (const v of this.outputs) g.message(12, (m) => writeValueInfo(m, v));
  }
}

function writeAttribute(a: Writer, name: string, v: AttrValue): void {
  a.string(1, name);
  if (typeof v === 'number') {
    a.int(3, v);
    a.int(20, 2); // INT
  } else if (typeof v === 'string') {
    a.string(4, v);
    a.int(20, 3); // STRING
  } else if ('f' in v) {
    a.float(2, v.f);
    a.int(20, 1); // FLOAT
  } else {
    for (const x of v) a.int(8, x);
    a.int(20, 7); // INTS
  }
}

function writeValueInfo(m: Writer, v: ValueInfo): void {
  m.string(1, v.name);
  m.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, v.elemType);
      tensor.message(2, (shape) => {
        for (const d of v.shape) shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
      });
    }),
  );
}

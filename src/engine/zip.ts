/**
 * Reading the entries of a zip archive held in memory: stored entries (what PyTorch writes) as views
 * of the bytes, deflated ones inflated (fflate). ZIP64 sizes and offsets are read. Every length and
 * offset is checked against the bytes, so a truncated or crafted archive is one ZipError, never an
 * out-of-range read or a huge allocation. No Node APIs: this runs in the browser too.
 */
import { inflateSync } from 'fflate';

/** A malformed or unsupported archive; the message is one line. */
export class ZipError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipError';
  }
}

/** One entry of the central directory. */
export interface ZipEntry {
  readonly name: string;
  /** 0 = stored, 8 = deflated */
  readonly method: number;
  readonly compressedSize: number;
  readonly size: number;
  /** offset of the entry's local header */
  readonly headerOffset: number;
}

const EOCD = 0x06054b50;
const EOCD64 = 0x06064b50;
const EOCD64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/** Whether the bytes start like a zip archive (a local file header). */
export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

/** A zip archive's directory, and its entries' bytes on demand. */
export class ZipArchive {
  readonly entries: ReadonlyMap<string, ZipEntry>;
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.entries = this.readDirectory();
  }

  private u16(at: number): number {
    this.check(at, 2);
    return this.view.getUint16(at, true);
  }

  private u32(at: number): number {
    this.check(at, 4);
    return this.view.getUint32(at, true);
  }

  private u64(at: number): number {
    this.check(at, 8);
    const hi = this.view.getUint32(at + 4, true);
    if (hi >= 0x200000) throw new ZipError('a 64-bit size or offset beyond 2^53');
    return hi * 2 ** 32 + this.view.getUint32(at, true);
  }

  private check(at: number, n: number): void {
    if (!(at >= 0 && at + n <= this.bytes.length)) throw new ZipError('truncated archive: a record runs past the end of the file');
  }

  private readDirectory(): Map<string, ZipEntry> {
    const b = this.bytes;
    // the end-of-central-directory record: 22 bytes plus a comment of at most 65,535
    let eocd = -1;
    for (let i = b.length - 22; i >= 0 && i >= b.length - 22 - 0xffff; i--) {
      if (b[i] === 0x50 && b[i + 1] === 0x4b && this.view.getUint32(i, true) === EOCD) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new ZipError('no end-of-central-directory record: not a zip archive, or a truncated one');
    let count = this.u16(eocd + 10);
    let dirOffset = this.u32(eocd + 16);
    if (eocd >= 20 && this.view.getUint32(eocd - 20, true) === EOCD64_LOCATOR) {
      const at = this.u64(eocd - 12);
      if (this.u32(at) !== EOCD64) throw new ZipError('a ZIP64 locator that points to no ZIP64 record');
      count = this.u64(at + 32);
      dirOffset = this.u64(at + 48);
    }
    const entries = new Map<string, ZipEntry>();
    const names = new TextDecoder('utf-8');
    let at = dirOffset;
    for (let i = 0; i < count; i++) {
      if (this.u32(at) !== CENTRAL) throw new ZipError(`central directory entry ${i} is damaged`);
      const method = this.u16(at + 10);
      let compressedSize = this.u32(at + 20);
      let size = this.u32(at + 24);
      const nameLength = this.u16(at + 28);
      const extraLength = this.u16(at + 30);
      const commentLength = this.u16(at + 32);
      let headerOffset = this.u32(at + 42);
      this.check(at + 46, nameLength + extraLength + commentLength);
      const name = names.decode(b.subarray(at + 46, at + 46 + nameLength));
      // ZIP64 extra field: the 64-bit values of the fields saturated at 0xffffffff, in this order
      let x = at + 46 + nameLength;
      const extraEnd = x + extraLength;
      while (x + 4 <= extraEnd) {
        const id = this.u16(x);
        const len = this.u16(x + 2);
        if (id === 0x0001) {
          let f = x + 4;
          if (size === 0xffffffff) {
            size = this.u64(f);
            f += 8;
          }
          if (compressedSize === 0xffffffff) {
            compressedSize = this.u64(f);
            f += 8;
          }
          if (headerOffset === 0xffffffff) headerOffset = this.u64(f);
        }
        x += 4 + len;
      }
      entries.set(name, { name, method, compressedSize, size, headerOffset });
      at += 46 + nameLength + extraLength + commentLength;
    }
    return entries;
  }

  /** The bytes of entry `name` (a view for a stored entry); undefined when there is none. */
  read(name: string, maxSize = 2 ** 32): Uint8Array | undefined {
    const e = this.entries.get(name);
    if (!e) return undefined;
    if (this.u32(e.headerOffset) !== LOCAL) throw new ZipError(`${name}: its local header is damaged`);
    const start = e.headerOffset + 30 + this.u16(e.headerOffset + 26) + this.u16(e.headerOffset + 28);
    this.check(start, e.compressedSize);
    const raw = this.bytes.subarray(start, start + e.compressedSize);
    if (e.size > maxSize) throw new ZipError(`${name}: ${e.size} bytes, more than the ${maxSize} allowed`);
    if (e.method === 0) {
      if (e.size !== e.compressedSize) throw new ZipError(`${name}: a stored entry whose sizes differ`);
      return raw;
    }
    if (e.method !== 8) throw new ZipError(`${name}: compression method ${e.method} is not supported (stored or deflated only)`);
    // deflate expands at most ~1032-fold: a larger claim is a damaged or crafted header (and no allocation is made for it)
    if (e.size > 1032 * e.compressedSize + 64) throw new ZipError(`${name}: claims ${e.size} bytes from ${e.compressedSize} deflated ones`);
    let out: Uint8Array;
    try {
      out = inflateSync(raw, { out: new Uint8Array(e.size) });
    } catch (err) {
      throw new ZipError(`${name}: cannot inflate it (${err instanceof Error ? err.message : String(err)})`);
    }
    if (out.length !== e.size) throw new ZipError(`${name}: inflates to ${out.length} bytes, its header says ${e.size}`);
    return out;
  }
}

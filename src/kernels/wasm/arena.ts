/**
 * Allocator for the wasm backend's linear memory, run on the JS side (the wasm kernels never
 * allocate; they get byte addresses).
 *
 * Layout: [0, base) belongs to AssemblyScript's statics; above it, blocks are handed out by a
 * bump pointer (`top`). Every block starts on a 64-byte boundary (cache line; v128-aligned) and
 * its size is rounded up to a multiple of 64 bytes.
 *
 * Three ways to give memory back:
 * - `free(addr, bytes)`: the block goes on an exact-size free list and the next allocation of
 *   the same rounded size reuses it (tensors of one shape come and go every training step).
 * - `mark()` / `release(mark)`: stack-like scratch. `release` moves the bump pointer back to the
 *   mark, discarding every block bump-allocated after it (and free-list entries above it).
 *   Blocks reused from the free list after the mark are below it and are NOT released.
 * - nothing: persistent (parameters, optimizer state).
 *
 * The memory is a shared `WebAssembly.Memory`; growing it never detaches existing views (each
 * growth yields a new, longer SharedArrayBuffer object; old views keep pointing at the same
 * bytes). `buffers` remembers every buffer object seen, so "is this array in wasm memory?" is
 * `buffers.has(array.buffer)`.
 */
export const ALIGN = 64;
const PAGE = 65536;

export class WasmArena {
  readonly memory: WebAssembly.Memory;
  /** First address the arena hands out. */
  readonly base: number;
  private top: number;
  /** Highest `top` ever reached: memory at and above it is untouched (zero). */
  private highWater: number;
  private readonly freeLists = new Map<number, number[]>();
  /** every block on a free list, by its end address → its size (to lower `top` through free blocks) */
  private readonly freeByEnd = new Map<number, number>();
  private readonly buffers = new Set<ArrayBufferLike>();
  private lastBuffer: ArrayBufferLike | null = null;
  private maxPages: number;

  constructor(memory: WebAssembly.Memory, base: number, maxPages: number) {
    this.memory = memory;
    this.base = roundUp(base, ALIGN);
    this.top = this.base;
    this.highWater = this.base;
    this.maxPages = maxPages;
    this.currentBuffer();
  }

  /** Bytes from `base` to the bump pointer (including freed blocks waiting for reuse). */
  get used(): number {
    return this.top - this.base;
  }

  /** Current size of the linear memory in bytes. */
  get capacity(): number {
    return this.memory.buffer.byteLength;
  }

  /** Allocates `bytes` (rounded up to 64) and returns the 64-byte-aligned address. Not zeroed. */
  allocBytes(bytes: number): number {
    if (!Number.isInteger(bytes) || bytes < 0) throw new RangeError(`wasm alloc: bad size ${bytes}`);
    const size = roundUp(bytes, ALIGN);
    if (size === 0) return this.top;
    const list = this.freeLists.get(size);
    if (list !== undefined && list.length > 0) {
      const reused = list.pop()!;
      this.freeByEnd.delete(reused + size);
      return reused;
    }
    const addr = this.top;
    this.ensure(addr + size);
    this.top = addr + size;
    if (this.top > this.highWater) this.highWater = this.top;
    return addr;
  }

  /**
   * Like allocBytes, but the block reads as zeros. Memory above the high-water mark of the bump
   * pointer has never been handed out and is still zero (wasm memory starts zeroed), so only the
   * part below it is cleared.
   */
  allocZeroed(bytes: number): number {
    const clean = this.highWater;
    const addr = this.allocBytes(bytes);
    const dirtyEnd = Math.min(addr + bytes, clean);
    if (dirtyEnd > addr) new Uint8Array(this.currentBuffer(), addr, dirtyEnd - addr).fill(0);
    return addr;
  }

  /** Returns a block to the free list of its size class (exact rounded size). */
  freeBytes(addr: number, bytes: number): void {
    const size = roundUp(bytes, ALIGN);
    if (size === 0) return;
    if (addr % ALIGN !== 0 || addr < this.base || addr + size > this.top) {
      throw new RangeError(`wasm free: ${addr}+${bytes} was not allocated by this arena`);
    }
    if (addr + size === this.top) {
      // the last block: move the bump pointer back, and on through free blocks that now end at it,
      // so that memory freed in any order (a finished run's tensors) becomes one free region again
      this.top = addr;
      for (let below = this.freeByEnd.get(this.top); below !== undefined; below = this.freeByEnd.get(this.top)) {
        const start = this.top - below;
        const list = this.freeLists.get(below)!;
        list.splice(list.lastIndexOf(start), 1);
        this.freeByEnd.delete(this.top);
        this.top = start;
      }
      return;
    }
    let list = this.freeLists.get(size);
    if (list === undefined) {
      list = [];
      this.freeLists.set(size, list);
    }
    list.push(addr);
    this.freeByEnd.set(addr + size, size);
  }

  /** Current bump position, for `release`. */
  mark(): number {
    return this.top;
  }

  /** Discards every block bump-allocated since `mark` (see the class comment). */
  release(mark: number): void {
    if (mark < this.base || mark % ALIGN !== 0) {
      throw new RangeError(`wasm release: ${mark} is not a mark of this arena`);
    }
    // (a mark above top can happen when the last block was freed after mark(): nothing to drop)
    if (mark < this.top) this.top = mark;
    for (const [size, list] of this.freeLists) {
      const kept = list.filter((a) => a + size <= mark);
      if (kept.length !== list.length) this.freeLists.set(size, kept);
    }
    for (const end of this.freeByEnd.keys()) if (end > mark) this.freeByEnd.delete(end);
  }

  /** A Float32Array view of `length` floats at `addr`. */
  view(addr: number, length: number): Float32Array {
    return new Float32Array(this.currentBuffer(), addr, length);
  }

  /** Whether `array` lives in this arena's memory (any generation of its buffer). */
  owns(array: ArrayBufferView): boolean {
    const buf = array.buffer;
    if (buf === this.lastBuffer || this.buffers.has(buf)) return true;
    // memory may have been grown by someone else since we last looked
    return this.currentBuffer() === buf;
  }

  /** memory.buffer, remembered so that views over it are recognised later. */
  currentBuffer(): ArrayBufferLike {
    const buf = this.memory.buffer;
    if (buf !== this.lastBuffer) {
      this.buffers.add(buf);
      this.lastBuffer = buf;
    }
    return buf;
  }

  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const havePages = have / PAGE;
    const needPages = Math.ceil(end / PAGE);
    if (needPages > this.maxPages) {
      throw new RangeError(
        `wasm memory exhausted: need ${(end / 2 ** 20).toFixed(1)} MiB, maximum is ${(this.maxPages * PAGE / 2 ** 20).toFixed(0)} MiB`,
      );
    }
    // grow geometrically (at least 1/8 of the current size) to keep growth events rare
    const grow = Math.min(this.maxPages - havePages, Math.max(needPages - havePages, Math.ceil(havePages / 8)));
    this.memory.grow(grow);
    this.currentBuffer();
  }
}

export function roundUp(x: number, to: number): number {
  return Math.ceil(x / to) * to;
}

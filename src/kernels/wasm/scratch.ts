/**
 * A persistent, growable scratch block in the wasm arena for the non-GEMM kernels' staging (index
 * arrays, dropout state, per-call work space). Calls never nest, so one block serves every kernel.
 * (Scratch taken with mark()/allocBytes()/release() could instead pop an exact-size block off the
 * arena's free list, which release() does not give back.)
 */
import type { WasmArena } from './arena.js';

export class Scratch {
  private addr = 0;
  private bytes = 0;
  constructor(private readonly arena: WasmArena) {}

  /** Byte address of a 64-byte-aligned block of at least `bytes` (contents undefined). */
  get(bytes: number): number {
    if (bytes > this.bytes) {
      if (this.bytes > 0) this.arena.freeBytes(this.addr, this.bytes);
      const size = Math.max(bytes, Math.ceil(this.bytes * 1.5), 4096);
      this.addr = this.arena.allocBytes(size);
      this.bytes = size;
    }
    return this.addr;
  }

  i32(addr: number, length: number): Int32Array {
    return new Int32Array(this.arena.currentBuffer(), addr, length);
  }

  u32(addr: number, length: number): Uint32Array {
    return new Uint32Array(this.arena.currentBuffer(), addr, length);
  }
}

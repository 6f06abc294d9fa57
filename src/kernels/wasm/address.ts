/** The bounds check the wasm kernel wrappers make before handing an array to wasm as a byte address. */

/** Byte address of x[off] after checking that x[off, off + extent) exists; 0 for null (an absent array). */
export function byteAddress(name: string, x: Float32Array | null, off: number, extent: number): number {
  if (x === null) return 0;
  if (!((off | 0) === off && off >= 0 && off + extent <= x.length)) {
    throw new RangeError(`wasm ${name}: [${off}, ${off + extent}) is out of bounds (length ${x.length})`);
  }
  return x.byteOffset + 4 * off;
}

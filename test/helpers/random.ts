/** Cheap deterministic random numbers for kernel tests (independent of src/engine/rng.ts). */

/** A xorshift32 generator: uniform floats in [0, 1). Seed 0 is replaced by 1. */
export function rng32(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

/** Fills x with uniform values in [−scale, scale) drawn from r; returns x. */
export function fillRand(x: Float32Array, r: () => number, scale = 1): Float32Array {
  for (let i = 0; i < x.length; i++) x[i] = (r() * 2 - 1) * scale;
  return x;
}

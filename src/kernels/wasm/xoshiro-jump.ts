/**
 * Jump-ahead for xoshiro128** (the dropout generator of the wasm kernels and `Rng`): the state
 * after n draws, in O(log n) 128×128 GF(2) matrix-vector products instead of n steps. A thread
 * that computes the second half of a dropout stream starts from `xoshiroJump(state, drawsBefore)`
 * and draws exactly what one thread would have drawn there.
 *
 * One step (rngRaw in asm/common.ts): t = s1 << 9; s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t;
 * s3 = rotl(s3, 11) — linear over GF(2), so n steps are the matrix Tⁿ; T^(2^k) are built by
 * squaring on first use and kept.
 */

/** One step of the state (in place). */
export function xoshiroStep(s: Uint32Array): void {
  const t = (s[1] << 9) >>> 0;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = ((s[3] << 11) | (s[3] >>> 21)) >>> 0;
}

/** A 128×128 GF(2) matrix as 128 columns of 4 words: column j = M·e_j. */
type Matrix = Uint32Array;

function apply(m: Matrix, v: Uint32Array, out: Uint32Array): void {
  let o0 = 0, o1 = 0, o2 = 0, o3 = 0;
  for (let w = 0; w < 4; w++) {
    const word = v[w];
    if (word === 0) continue;
    for (let bit = 0; bit < 32; bit++) {
      if (((word >>> bit) & 1) === 0) continue;
      const c = (w * 32 + bit) * 4;
      o0 ^= m[c]; o1 ^= m[c + 1]; o2 ^= m[c + 2]; o3 ^= m[c + 3];
    }
  }
  out[0] = o0; out[1] = o1; out[2] = o2; out[3] = o3;
}

const powers: Matrix[] = []; // powers[k] = T^(2^k)

function power(k: number): Matrix {
  while (powers.length <= k) {
    const m = new Uint32Array(512);
    const e = new Uint32Array(4);
    if (powers.length === 0) {
      for (let j = 0; j < 128; j++) {
        e.fill(0);
        e[j >>> 5] = 1 << (j & 31);
        xoshiroStep(e);
        m.set(e, j * 4);
      }
    } else {
      const p = powers[powers.length - 1];
      for (let j = 0; j < 128; j++) apply(p, p.subarray(j * 4, j * 4 + 4), m.subarray(j * 4, j * 4 + 4));
    }
    powers.push(m);
  }
  return powers[k];
}

/** The state after n steps from `state` (4 words; n a non-negative integer below 2^53). */
export function xoshiroJump(state: Uint32Array, n: number): Uint32Array {
  if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`xoshiroJump: bad step count ${n}`);
  let v = Uint32Array.from(state.subarray(0, 4));
  let tmp = new Uint32Array(4);
  for (let k = 0; n > 0; k++, n = Math.floor(n / 2)) {
    if (n % 2 === 1) {
      apply(power(k), v, tmp);
      [v, tmp] = [tmp, v];
    }
  }
  return v;
}

/** The dropout generator of the reference kernels (elementwise.ts, attention.ts, time.ts). */

/** xoshiro128** over a Uint32Array state, bit-identical to Rng.nextU32(). */
export class StateRng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  constructor(private readonly state: Uint32Array) {
    this.s0 = state[0] | 0;
    this.s1 = state[1] | 0;
    this.s2 = state[2] | 0;
    this.s3 = state[3] | 0;
  }
  nextFloat(): number {
    const x = Math.imul(this.s1, 5);
    const r = (x << 7) | (x >>> 25);
    const result = Math.imul(r, 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result / 4294967296;
  }
  save(): void {
    this.state[0] = this.s0;
    this.state[1] = this.s1;
    this.state[2] = this.s2;
    this.state[3] = this.s3;
  }
}

/**
 * Chooses, per size class of a kernel, between one thread and the split by their measured time
 * per unit of work (exponential moving averages; each mode's first call is not counted: tier-up,
 * page faults). Now and then a call takes the other mode, so a change of load on the machine is
 * noticed: when the time spent in the better mode since the last such try reaches EXPLORE_RATIO
 * times what one try is expected to lose (and at least EXPLORE_MIN calls passed), so trying costs
 * at most ~1/EXPLORE_RATIO of the time, and a mode that is far worse (a busy second core: a split
 * call can take many times longer) is tried rarely. Either choice gives the same bits, so timing
 * noise only costs time.
 */
export class SplitTuner {
  static readonly WARM = 2;
  static readonly EXPLORE_MIN = 8;
  static readonly EXPLORE_RATIO = 20;
  private readonly classes = new Map<number, { calls: number; n: [number, number]; t: [number, number]; since: number; sinceCalls: number }>();

  /** Whether the next call of class `key`, of `work` units, should be split. */
  wantSplit(key: number, work: number): boolean {
    let c = this.classes.get(key);
    if (c === undefined) {
      c = { calls: 0, n: [0, 0], t: [0, 0], since: 0, sinceCalls: 0 };
      this.classes.set(key, c);
    }
    c.calls++;
    if (c.n[1] < SplitTuner.WARM) return true;
    if (c.n[0] < SplitTuner.WARM) return false;
    const splitFaster = c.t[1] < c.t[0];
    const best = Math.min(c.t[0], c.t[1]), other = Math.max(c.t[0], c.t[1]);
    if (c.sinceCalls >= SplitTuner.EXPLORE_MIN && c.since >= SplitTuner.EXPLORE_RATIO * (other - best) * work) {
      c.since = 0;
      c.sinceCalls = 0;
      return !splitFaster;
    }
    c.since += best * work;
    c.sinceCalls++;
    return splitFaster;
  }

  /** Records a call's time per unit of work. */
  record(key: number, split: boolean, perUnit: number): void {
    const c = this.classes.get(key);
    if (c === undefined) return;
    const i = split ? 1 : 0;
    c.n[i]++;
    if (c.n[i] === 2) c.t[i] = perUnit;
    else if (c.n[i] > 2) c.t[i] += 0.25 * (perUnit - c.t[i]);
  }

  /** [class key, calls, time per unit single, split] for each class seen (for benchmarks). */
  summary(): [number, number, number, number][] {
    return [...this.classes].map(([k, c]) => [k, c.calls, c.t[0], c.t[1]]);
  }
}

/** Size class of a call: kernel × power of two of its work. */
export function sizeClass(kernel: number, work: number): number {
  return kernel * 64 + Math.floor(Math.log2(Math.max(1, work)));
}

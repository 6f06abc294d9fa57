import { UserError } from '../core/errors.js';
import { Rng } from '../engine/rng.js';
import type { Interactions, Split } from './types.js';

/**
 * Leave-one-out (DESIGN.md): per user, last item → test, second-last → valid, the rest → train.
 * Users with fewer than `minInteractions` events (default 3, as DESIGN.md says) keep everything in
 * train and get valid = test = 0. The SASRec.pytorch reference uses 4 (`nfeedback < 4`); pass 4 for
 * exact parity with it.
 */
export function leaveOneOut(data: Interactions, minInteractions = 3): Split {
  if (!Number.isInteger(minInteractions) || minInteractions < 3) {
    throw new RangeError(`leaveOneOut: minInteractions must be an integer ≥ 3, got ${minInteractions}`);
  }
  const n = data.userNum;
  const train: Int32Array[] = [new Int32Array(0)];
  const valid = new Int32Array(n + 1);
  const test = new Int32Array(n + 1);
  const times = data.times;
  const trainTimes: Float64Array[] | undefined = times ? [new Float64Array(0)] : undefined;
  const validTimes = times ? new Float64Array(n + 1) : undefined;
  const testTimes = times ? new Float64Array(n + 1) : undefined;
  for (let u = 1; u <= n; u++) {
    const s = data.seqs[u];
    const len = s.length;
    if (len < minInteractions) {
      train.push(s);
      trainTimes?.push(times![u]);
      continue;
    }
    train.push(s.subarray(0, len - 2));
    valid[u] = s[len - 2];
    test[u] = s[len - 1];
    if (times) {
      const t = times[u];
      trainTimes!.push(t.subarray(0, len - 2));
      validTimes![u] = t[len - 2];
      testTimes![u] = t[len - 1];
    }
  }
  const base = { data, train, valid, test, minInteractions };
  return times ? { ...base, trainTimes, validTimes, testTimes } : base;
}

/** Number of users with a held-out item (valid and test set). */
export function evaluableUserCount(split: Split): number {
  let c = 0;
  for (let u = 1; u < split.test.length; u++) if (split.test[u] !== 0) c++;
  return c;
}

/** Training needs someone to validate on: throws a one-line UserError when no user is evaluable. */
export function requireEvaluableUsers(split: Split, source?: string): void {
  if (evaluableUserCount(split) === 0) {
    const where = source ? `${source}: ` : '';
    if (split.random) throw new UserError(`${where}the random split leaves no user a test item (each user needs at least 2 interactions)`);
    if (split.cold)
      throw new UserError(`${where}--cold ${split.cold.kind}:${split.cold.fraction} leaves no user a test target (hold out a larger fraction)`);
    throw new UserError(
      `${where}no user has ${split.minInteractions ?? 3} or more interactions, so leave-one-out leaves nothing to validate or test on`,
    );
  }
}

/**
 * RecBole's per-user counts for a ratio split (`_calcu_split_ids`): each part gets floor(ratio·n),
 * train takes the rest; then, from the last part backwards while train keeps more than one item, a
 * part whose ratio·n lies in (0, 1) gets one item from train. E.g. 8:1:1 → n=10: 8/1/1, n=5: 3/1/1,
 * n=2: 1/0/1, n=1: 1/0/0.
 */
export function ratioCounts(n: number, ratios: readonly number[]): number[] {
  const cnt = ratios.map((r) => Math.floor(r * n));
  cnt[0] = n - cnt.slice(1).reduce((a, b) => a + b, 0);
  for (let i = 1; i < ratios.length; i++) {
    if (cnt[0] <= 1) break;
    const x = ratios[ratios.length - i] * n;
    if (x > 0 && x < 1) {
      cnt[ratios.length - i]++;
      cnt[0]--;
    }
  }
  return cnt;
}

/**
 * Random ordering split (RecBole's "RO" with group_by user): each user's interactions are shuffled
 * with a generator seeded by `seed` (the same split for the same seed and data, whatever the model)
 * and cut by `ratios` (train:valid:test, normalised) with RecBole's rounding (ratioCounts). Each part is
 * then put back in time order. `validSets[u]`, `testSets[u]` hold the held-out items; `valid[u]` and
 * `test[u]` hold the last of them (0 when the part is empty, so that user is not evaluated on it),
 * and `validHistory[u]` is train ∪ valid in time order (the input history when ranking test).
 */
export function randomSplit(data: Interactions, ratios: readonly number[], seed: number): Split {
  if (ratios.length !== 3 || ratios.some((r) => !(r >= 0) || !Number.isFinite(r)) || ratios[0] <= 0) {
    throw new RangeError(`randomSplit: ratios must be three finite numbers ≥ 0 with train > 0, got ${ratios.join(',')}`);
  }
  const total = ratios[0] + ratios[1] + ratios[2];
  const norm = ratios.map((r) => r / total);
  const rng = new Rng(seed);
  const n = data.userNum;
  const train: Int32Array[] = [new Int32Array(0)];
  const validSets: Int32Array[] = [new Int32Array(0)];
  const testSets: Int32Array[] = [new Int32Array(0)];
  const validHistory: Int32Array[] = [new Int32Array(0)];
  const valid = new Int32Array(n + 1);
  const test = new Int32Array(n + 1);
  for (let u = 1; u <= n; u++) {
    const s = data.seqs[u];
    const len = s.length;
    const order = new Int32Array(len);
    for (let i = 0; i < len; i++) order[i] = i;
    for (let i = len - 1; i > 0; i--) {
      const j = rng.nextInt(i + 1);
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    const [nTrain, nValid] = ratioCounts(len, norm);
    // positions back in time order within each part (the log's sequence is chronological)
    const part = (from: number, to: number): Int32Array => Int32Array.from(order.subarray(from, to)).sort();
    const trainPos = part(0, nTrain);
    const validPos = part(nTrain, nTrain + nValid);
    const testPos = part(nTrain + nValid, len);
    const items = (pos: Int32Array): Int32Array => pos.map((p) => s[p]);
    train.push(items(trainPos));
    validSets.push(items(validPos));
    testSets.push(items(testPos));
    validHistory.push(items(Int32Array.from([...trainPos, ...validPos]).sort()));
    valid[u] = validPos.length > 0 ? s[validPos[validPos.length - 1]] : 0;
    test[u] = testPos.length > 0 ? s[testPos[testPos.length - 1]] : 0;
  }
  return { data, train, valid, test, minInteractions: 1, random: { ratios: norm, validSets, testSets, validHistory } };
}

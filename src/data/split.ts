import { UserError } from '../core/errors.js';
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
    throw new UserError(
      `${where}no user has ${split.minInteractions ?? 3} or more interactions, so leave-one-out leaves nothing to validate or test on`,
    );
  }
}

/**
 * The cold-start protocols (`--cold users:F`, `--cold items:F`): a seeded fraction of the users or of
 * the items is held out of training entirely, and evaluation asks for them.
 *
 * Cold users. ⌊F·users⌉ users, drawn uniformly with a generator seeded by `seed`, have no event in
 * train. In the order drawn they alternate between the valid half and the test half (the 1st, 3rd, …
 * drawn are valid users; the 2nd, 4th, … test users), so no user is in both. A held-out user with
 * events e₁ … e_n is evaluated after the history e₁ … e_N (N = `--cold_history`, 0 to 3; 0: from their
 * features alone) on the next event e_{N+1}, leave-one-out style; a held-out user with n ≤ N events is
 * not evaluated. Every event of the other users is in train.
 *
 * Cold items. ⌊F·items⌉ items, drawn alike, lose all their events: train[u] is the user's events on
 * the other items, in time order, and no training negative is a held-out item (data/sampler.ts). The
 * held-out items alternate between the valid half and the test half in the order drawn. A user is
 * evaluated on valid after their whole train history on the last of their events on a valid-half item
 * (likewise on test with the test half); the candidates are every item (the held-out items among all,
 * as the cold-start literature usually ranks them), the history excluded as elsewhere.
 *
 * In both the evaluation history of a user is `cold.inputs[u]` (not train[u] + valid as leave-one-out
 * builds it), and a user is evaluated even on an empty history (eval/protocols.ts).
 */
import { UserError } from '../core/errors.js';
import { Rng } from '../engine/rng.js';
import type { ColdStart, Interactions, Split } from './types.js';

/** What `--cold` asks for. */
export interface ColdRequest {
  readonly kind: 'users' | 'items';
  /** the fraction held out, in (0, 1) */
  readonly fraction: number;
}

/** `users:F` or `items:F` with 0 < F < 1, or undefined when malformed. */
export function parseCold(text: string): ColdRequest | undefined {
  const m = /^\s*(users|items)\s*:\s*([0-9.eE+-]+)\s*$/.exec(text);
  if (!m) return undefined;
  const fraction = Number(m[2]);
  if (!(fraction > 0 && fraction < 1)) return undefined;
  return { kind: m[1] as 'users' | 'items', fraction };
}

/** The cold half of a held-out id (ColdStart.held). */
export const COLD_VALID = 1;
export const COLD_TEST = 2;

/** `count` distinct ids of 1..n drawn uniformly (partial Fisher–Yates), in the order drawn. */
function drawIds(n: number, count: number, rng: Rng): Int32Array {
  const pool = new Int32Array(n);
  for (let i = 0; i < n; i++) pool[i] = i + 1;
  for (let i = 0; i < count; i++) {
    const j = i + rng.nextInt(n - i);
    const t = pool[i];
    pool[i] = pool[j];
    pool[j] = t;
  }
  return pool.slice(0, count);
}

/** held[id] = COLD_VALID / COLD_TEST, alternating in the order drawn; ⌊fraction·n⌉ of 1..n. */
function drawHeld(n: number, fraction: number, seed: number, what: string): Uint8Array {
  const count = Math.round(fraction * n);
  if (count < 1) throw new UserError(`--cold ${what}:${fraction} holds out no ${what.slice(0, -1)} of the ${n} (the fraction is too small)`);
  if (count >= n) throw new UserError(`--cold ${what}:${fraction} holds out all ${n} ${what}, leaving nothing to train on`);
  const held = new Uint8Array(n + 1);
  drawIds(n, count, new Rng(seed)).forEach((id, k) => {
    held[id] = k % 2 === 0 ? COLD_VALID : COLD_TEST;
  });
  return held;
}

/** The cold-users split (file comment): held-out users have no train events; they are evaluated after their first `history` events. */
export function coldUsersSplit(data: Interactions, fraction: number, history: number, seed: number): Split {
  if (!Number.isInteger(history) || history < 0 || history > 3) throw new RangeError(`coldUsersSplit: history must be 0..3, got ${history}`);
  const n = data.userNum;
  const held = drawHeld(n, fraction, seed, 'users');
  const times = data.times;
  const empty = new Int32Array(0);
  const train: Int32Array[] = [empty];
  const inputs: Int32Array[] = [empty];
  const trainTimes: Float64Array[] | undefined = times ? [new Float64Array(0)] : undefined;
  const inputTimes: Float64Array[] | undefined = times ? [new Float64Array(0)] : undefined;
  const valid = new Int32Array(n + 1);
  const test = new Int32Array(n + 1);
  const validTimes = times ? new Float64Array(n + 1) : undefined;
  const testTimes = times ? new Float64Array(n + 1) : undefined;
  for (let u = 1; u <= n; u++) {
    const s = data.seqs[u];
    const t = times?.[u];
    if (held[u] === 0) {
      train.push(s);
      trainTimes?.push(t!);
      inputs.push(empty);
      inputTimes?.push(new Float64Array(0));
      continue;
    }
    train.push(empty);
    trainTimes?.push(new Float64Array(0));
    inputs.push(s.subarray(0, Math.min(history, s.length)));
    inputTimes?.push(t!.subarray(0, Math.min(history, s.length)));
    if (s.length <= history) continue;
    const [target, targetTimes] = held[u] === COLD_VALID ? [valid, validTimes] : [test, testTimes];
    target[u] = s[history];
    if (targetTimes) targetTimes[u] = t![history];
  }
  const cold: ColdStart = { kind: 'users', fraction, history, held, inputs, ...(inputTimes ? { inputTimes } : {}) };
  const base = { data, train, valid, test, minInteractions: 1, cold };
  return times ? { ...base, trainTimes, validTimes, testTimes } : base;
}

/** The cold-items split (file comment): held-out items have no train events; users are evaluated on their last event on one. */
export function coldItemsSplit(data: Interactions, fraction: number, seed: number): Split {
  const n = data.userNum;
  const held = drawHeld(data.itemNum, fraction, seed, 'items');
  const times = data.times;
  const train: Int32Array[] = [new Int32Array(0)];
  const trainTimes: Float64Array[] | undefined = times ? [new Float64Array(0)] : undefined;
  const valid = new Int32Array(n + 1);
  const test = new Int32Array(n + 1);
  const validTimes = times ? new Float64Array(n + 1) : undefined;
  const testTimes = times ? new Float64Array(n + 1) : undefined;
  for (let u = 1; u <= n; u++) {
    const s = data.seqs[u];
    const t = times?.[u];
    const kept: number[] = [];
    for (let k = 0; k < s.length; k++) {
      const h = held[s[k]];
      if (h === 0) {
        kept.push(k);
        continue;
      }
      // the last event on each half's items is the target (later events overwrite earlier ones)
      const [target, targetTimes] = h === COLD_VALID ? [valid, validTimes] : [test, testTimes];
      target[u] = s[k];
      if (targetTimes) targetTimes[u] = t![k];
    }
    train.push(Int32Array.from(kept, (k) => s[k]));
    trainTimes?.push(Float64Array.from(kept, (k) => t![k]));
  }
  const cold: ColdStart = { kind: 'items', fraction, history: 0, held, inputs: train, ...(trainTimes ? { inputTimes: trainTimes } : {}) };
  const base = { data, train, valid, test, minInteractions: 1, cold };
  return times ? { ...base, trainTimes, validTimes, testTimes } : base;
}

/** The held-out ids of each half and the users evaluated on each, as results.json records them. */
export function describeCold(split: Split): Record<string, unknown> | undefined {
  const cold = split.cold;
  if (!cold) return undefined;
  let heldValid = 0;
  let heldTest = 0;
  for (const h of cold.held) {
    if (h === COLD_VALID) heldValid++;
    else if (h === COLD_TEST) heldTest++;
  }
  let validUsers = 0;
  let testUsers = 0;
  for (let u = 1; u < split.valid.length; u++) {
    if (split.valid[u] !== 0) validUsers++;
    if (split.test[u] !== 0) testUsers++;
  }
  return {
    kind: cold.kind,
    fraction: cold.fraction,
    ...(cold.kind === 'users' ? { history: cold.history } : {}),
    heldOut: heldValid + heldTest,
    heldOutValid: heldValid,
    heldOutTest: heldTest,
    validUsers,
    testUsers,
  };
}

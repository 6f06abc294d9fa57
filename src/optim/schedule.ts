/**
 * Learning-rate schedules, counted in optimizer steps (one step = one batch), pure functions so the
 * same step index always gives the same rate (a resumed run continues the schedule exactly).
 *
 * - Warm-up (`warmupSteps` W > 0): the rate rises linearly over the first W steps,
 *   factor (step + 1) / W for step < W (so the first step uses base/W, never 0), then 1.
 * - Step decay (`decayStep` N > 0, `decayRate` r): factor r^floor(step / N), as PyTorch's
 *   StepLR(step_size=N, gamma=r) stepped once per batch.
 * - Composed: lr(step) = base · warmup(step) · decay(step); the decay clock starts at step 0, not after
 *   the warm-up.
 *
 * `step` is the 0-based index of the optimizer step about to be taken (Adam's step count before it).
 */
export interface LrSchedule {
  readonly baseLr: number;
  /** linear warm-up steps (0 or absent = none) */
  readonly warmupSteps?: number;
  /** multiply the rate by decayRate every decayStep steps (0 or absent = none) */
  readonly decayStep?: number;
  readonly decayRate?: number;
}

/** Throws RangeError naming the flag when a setting is invalid. */
export function checkSchedule(s: LrSchedule): void {
  const w = s.warmupSteps ?? 0;
  const n = s.decayStep ?? 0;
  const r = s.decayRate ?? 1;
  if (!(Number.isInteger(w) && w >= 0)) throw new RangeError(`--warmup_steps: expected an integer ≥ 0, got ${w}`);
  if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`--lr_decay_step: expected an integer ≥ 0, got ${n}`);
  if (!(Number.isFinite(r) && r > 0)) throw new RangeError(`--lr_decay_rate: expected a number > 0, got ${r}`);
}

/** The learning rate for 0-based optimizer step `step`. */
export function lrAt(s: LrSchedule, step: number): number {
  let lr = s.baseLr;
  const w = s.warmupSteps ?? 0;
  if (w > 0 && step < w) lr *= (step + 1) / w;
  const n = s.decayStep ?? 0;
  if (n > 0 && s.decayRate !== undefined && s.decayRate !== 1) lr *= s.decayRate ** Math.floor(step / n);
  return lr;
}

/** True when the schedule changes the rate at all. */
export function isConstant(s: LrSchedule): boolean {
  return !((s.warmupSteps ?? 0) > 0 || ((s.decayStep ?? 0) > 0 && (s.decayRate ?? 1) !== 1));
}

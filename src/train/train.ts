/**
 * Training one model, whatever it is: a fitted model computes itself; a gradient model is built and
 * trained by the shared loop, with model selection on valid (selection.ts) and its resume state kept
 * in the run's store. Used by `seqrec train`, `seqrec experiments` and the library's train().
 */
import { TaskPool } from './tasks.js';
import type { Split } from '../data/types.js';
import type { EvalConfig } from '../eval/options.js';
import { runRngs } from '../eval/run.js';
import type { LoadedCheckpoint } from '../models/common/checkpoint-format.js';
import type { AnyModelSpec, Model } from '../models/contract.js';
import { buildNetwork } from '../learn/build.js';
import { trainNetwork } from './loop.js';
import type { TrainingConfig } from '../learn/options.js';
import { ModelSelection, type SelectionState } from '../learn/selection.js';
import type { RunStore } from '../learn/store.js';

export { buildNetwork };

/** What to train, all options parsed. */
export interface TrainPlan {
  readonly spec: AnyModelSpec;
  /** the model's own options (spec.options parsed) */
  readonly options: Readonly<Record<string, unknown>>;
  /** the gradient loop's options (read by gradient models only) */
  readonly training: TrainingConfig;
  /** how valid is evaluated for model selection */
  readonly evaluation: EvalConfig;
  readonly seed: number;
}

export interface TrainContext {
  readonly store: RunStore;
  log?(line: string): void;
  progress?(done: number, total: number, label: string, info?: Readonly<Record<string, number>>): void;
  /**
   * Once, before anything is written to the store: before the first epoch of a gradient model
   * (built, and its resume state restored), after fitting for a fitted one
   */
  onStart?(): void | Promise<void>;
  /** continue from this resume checkpoint, with this selection state */
  readonly resume?: { readonly checkpoint: LoadedCheckpoint; readonly state: SelectionState };
  /** the flags that change the results, kept in the resume state (checked by the caller on resume) */
  readonly flags?: Record<string, unknown>;
  /** threads a fitted model may run its work on (a task pool; 1 or absent: none) */
  readonly threads?: number;
}

/** Refuses data the model cannot learn from, before anything is built or written. */
export function checkTrainable(plan: TrainPlan, split: Split): void {
  plan.spec.learning.check?.(split, plan.options);
}

/**
 * Trains (or, for a finished resumed run, only reloads) the model; returns the one the run reports
 * (the best on valid) and the selection state. The caller owns the returned model (dispose it).
 */
export async function trainModel(plan: TrainPlan, split: Split, ctx: TrainContext): Promise<{ model: Model; state: SelectionState }> {
  const { spec, training } = plan;
  const log = (line: string) => ctx.log?.(line);
  checkTrainable(plan, split);
  const selection = new ModelSelection(spec, ctx.store, split, plan.evaluation, plan.seed, training);
  if (ctx.resume) selection.state = ctx.resume.state;
  else selection.state.dataset = datasetSize(split);
  if (ctx.flags) selection.state.flags = ctx.flags;
  const rng = runRngs(plan.seed).train;
  let started = false;
  const start = async () => {
    if (started) return;
    started = true;
    await ctx.onStart?.();
  };
  let trained: Model | undefined;
  if (spec.learning.kind === 'fit') {
    const tasks = (ctx.threads ?? 1) > 1 ? new TaskPool(ctx.threads ?? 1) : undefined;
    try {
      trained = await spec.learning.fit(split, plan.options, { rng, log, ...(tasks ? { tasks } : {}) });
    } finally {
      await tasks?.close();
    }
  } else if (!isFinished(selection.state, training, ctx)) {
    const setup = buildNetwork(spec, split, plan.options, training, rng);
    trained = await trainNetwork(setup, training, {
      log,
      progress: ctx.progress,
      onStart: start,
      onEpoch: (info) => selection.onEpoch(info, log),
      ...(ctx.resume ? { resumeFrom: ctx.resume.checkpoint } : {}),
    });
  }
  try {
    await start(); // a fitted model, or a finished run resumed: nothing was started by the loop
    const model = await selection.finish(trained, log);
    if (model !== trained) trained?.dispose();
    return { model, state: selection.state };
  } catch (err) {
    trained?.dispose();
    throw err;
  }
}

/** The data a run trains on, recorded in its resume state and checked on resume. */
export function datasetSize(split: Split): { users: number; items: number; interactions: number } {
  const { data } = split;
  let interactions = 0;
  for (let u = 1; u <= data.userNum; u++) interactions += data.seqs[u].length;
  return { users: data.userNum, items: data.itemNum, interactions };
}

/** A resumed run that had already finished (stopped early, or at its last epoch): nothing to train. */
export function isFinished(state: SelectionState, training: Pick<TrainingConfig, 'numEpochs'>, ctx: Pick<TrainContext, 'resume'>): boolean {
  return ctx.resume !== undefined && (state.stopped || state.epochs >= training.numEpochs);
}

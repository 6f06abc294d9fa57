import { UserError } from '../core/errors.js';
import { asKey, unreadKeys } from '../core/options.js';
import { requireEvaluableUsers } from '../data/split.js';
import { splitData, splitOptions } from '../data/options.js';
import type { Interactions, SideFeatures } from '../data/types.js';
import { evalOptions, seedOptions } from '../eval/options.js';
import { releaseScratchPools } from '../engine/tape.js';
import { getKernels } from '../kernels/index.js';
import { startKernelThreads } from '../kernels/wasm/pool-start.js';
import type { Model } from '../models/contract.js';
import { runOptions } from '../learn/options.js';
import { checkColdStart, modelOption, resolveTrainModel, trainCommandGroups, trainingOptionsFor } from '../train/request.js';
import { MemoryStore } from '../learn/store.js';
import { trainModel } from '../train/train.js';
import { ensureKernels, refuseUnknown } from './options.js';

/**
 * What to train: `model` and any option of `seqrec train` for it, camelCase (hiddenUnits for
 * --hidden_units): the model's hyper-parameters, the training loop's (numEpochs, lr, batchSize,
 * evalEvery, patience, …), the evaluation used to pick the best epoch (ks, numNegatives, …), seed,
 * minInteractions and threads. `seqrec train --help` lists them all with their defaults.
 */
export interface TrainOptions {
  /** the model: 'pop', 'sasrec', 'tisasrec' (see modelNames()) */
  readonly model: string;
  /** the run's random seed (default 42): initialisation, sampling, dropout and evaluation negatives */
  readonly seed?: number;
  /** one line of training log (default: none) */
  readonly onLog?: (line: string) => void;
  /** side features over `data`'s ids, for the models that read them (fm, content): see loadFeatures() */
  readonly features?: SideFeatures;
  readonly [option: string]: unknown;
}

/** The options train() reads besides the models' own and the loop's. */
const libraryGroups = [modelOption, splitOptions, evalOptions, seedOptions, runOptions.pick('threads')];

/**
 * Trains a model on `data`, split leave-one-out (each user's last item for test, the one before for
 * valid), or as `split` / `cold` say (`cold: 'users:0.1'`: the cold-start split of data/cold.ts). Gradient models are evaluated on valid every `evalEvery` epochs and the best epoch's model
 * is returned, as `seqrec train` does; nothing is written to disk. Call `model.dispose()` when done
 * with it (its weights live in WebAssembly memory).
 */
export async function train(data: Interactions, options: TrainOptions): Promise<Model> {
  const { onLog, features, ...raw } = options;
  refuseUnknown(raw, trainCommandGroups());
  const spec = resolveTrainModel(raw, asKey);
  const training = trainingOptionsFor(spec);
  const unread = unreadKeys(raw, [...libraryGroups, spec.options, training]);
  if (unread.length > 0) throw new UserError(`model ${spec.name} does not read ${unread.map(asKey).join(', ')}`);
  const splitConfig = splitOptions.parse(raw, asKey);
  checkColdStart(spec, splitConfig.cold, { users: features?.users !== undefined, items: features?.items !== undefined }, asKey);
  const evaluation = evalOptions.parse(raw, asKey);
  const { seed } = seedOptions.parse(raw, asKey);
  const { threads } = runOptions.pick('threads').parse(raw, asKey);
  const plan = { spec, options: spec.options.parse(raw, asKey), training: training.parse(raw, asKey), evaluation, seed };
  const split = features ? { ...splitData(data, splitConfig, seed), features } : splitData(data, splitConfig, seed);
  requireEvaluableUsers(split);
  ensureKernels();
  const pool = await startKernelThreads(getKernels(), threads ?? 1);
  try {
    const { model } = await trainModel(plan, split, { store: new MemoryStore(), ...(onLog ? { log: onLog } : {}) });
    return model;
  } finally {
    releaseScratchPools();
    await pool?.close();
  }
}

/**
 * The gradient loop of learn/loop.ts, with Node's worker thread for --num_workers (data/prefetch.ts).
 */
import { PrefetchSampler } from '../data/prefetch.js';
import type { BatchSource } from '../data/sampler.js';
import { runEpochs as runEpochsHere, trainNetwork as trainNetworkHere, type TrainHooks } from '../learn/loop.js';
import type { TrainingConfig } from '../learn/options.js';
import type { GradientSetup, Model, Network } from '../models/contract.js';
import type { Optimizer } from '../optim/optimizer.js';

export * from '../learn/loop.js';

const withPrefetch = (hooks: TrainHooks): TrainHooks => ({ prefetch: (sampler) => PrefetchSampler.start(sampler), ...hooks });

/** learn/loop.ts's trainNetwork, --num_workers served by a worker thread. */
export function trainNetwork(setup: GradientSetup, training: TrainingConfig, hooks: TrainHooks): Promise<Model> {
  return trainNetworkHere(setup, training, withPrefetch(hooks));
}

/** learn/loop.ts's runEpochs, --num_workers served by a worker thread. */
export function runEpochs(
  network: Network,
  optimizer: Optimizer,
  sampler: BatchSource,
  model: Model,
  training: TrainingConfig,
  hooks: TrainHooks,
  stepsPerEpoch = sampler.batchesPerEpoch,
): Promise<void> {
  return runEpochsHere(network, optimizer, sampler, model, training, withPrefetch(hooks), stepsPerEpoch);
}

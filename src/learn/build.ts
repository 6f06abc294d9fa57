import type { Rng } from '../engine/rng.js';
import type { Split } from '../data/types.js';
import type { AnyModelSpec, GradientSetup } from '../models/contract.js';
import type { TrainingConfig } from './options.js';

/** A gradient model's network and batches, built with the training loop's options. */
export function buildNetwork(
  spec: AnyModelSpec,
  split: Split,
  options: Readonly<Record<string, unknown>>,
  training: TrainingConfig,
  rng: Rng,
): GradientSetup {
  if (spec.learning.kind !== 'gradient') throw new Error(`${spec.name} is not trained by gradient`);
  return spec.learning.build(
    split,
    options,
    rng,
    { batchSize: training.batchSize, userSampling: training.userSampling },
    {
      batchSize: training.batchSize,
      lr: training.lr,
      numEpochs: training.numEpochs,
      optimizer: training.optimizer,
      momentum: training.momentum,
    },
  );
}

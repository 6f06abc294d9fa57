/**
 * The training settings a model file records (batch_size, lr, num_epochs; optimizer and momentum when not Adam). Read back from a file they
 * are provenance only, so the training limits do not apply: a run may have asked for 10^8 epochs and
 * stopped early.
 */
import { choice, defineOptions, int, num } from '../../core/options.js';
import { DEFAULT_TRAINING_RECORD as D, OPTIMIZERS } from '../contract.js';

export const trainingRecordOptions = defineOptions({
  batch_size: int({ help: 'training batch size', default: D.batchSize, min: 1 }),
  lr: num({ help: 'learning rate', default: D.lr, above: 0 }),
  num_epochs: int({ help: 'training epochs', default: D.numEpochs, min: 1 }),
  optimizer: choice(OPTIMIZERS, { help: 'optimiser', default: D.optimizer }),
  momentum: num({ help: "Adagrad's momentum", default: D.momentum, min: 0 }),
});

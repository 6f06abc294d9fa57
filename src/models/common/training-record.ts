/**
 * The training settings a model file records (batch_size, lr, num_epochs). Read back from a file they
 * are provenance only, so the training limits do not apply: a run may have asked for 10^8 epochs and
 * stopped early.
 */
import { defineOptions, int, num } from '../../core/options.js';
import { DEFAULT_TRAINING_RECORD as D } from '../contract.js';

export const trainingRecordOptions = defineOptions({
  batch_size: int({ help: 'training batch size', default: D.batchSize, min: 1 }),
  lr: num({ help: 'learning rate', default: D.lr, above: 0 }),
  num_epochs: int({ help: 'training epochs', default: D.numEpochs, min: 1 }),
});

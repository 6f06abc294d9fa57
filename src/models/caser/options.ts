/**
 * Caser's options, with the defaults of the paper and of its authors' code (caser_pytorch
 * train_caser.py: L 5, T 3, d 50, n_v 4, n_h 16, dropout 0.5, l2 1e-6, 3 negatives per target; batches
 * of 512 windows, 50 epochs, lr 1e-3), d = 50 also the SASRec paper's setting for every baseline ("for
 * fair comparison"); and the network configuration they give.
 */
import { defineOptions, int, num, type ConfigOf } from '../../core/options.js';
import type { TrainingRecord } from '../contract.js';
import { attentionOptions } from '../common/attention-options.js';
import type { CaserConfig } from './caser.js';

/** The longest window: the paper tries L = 1 … 9; the horizontal filters' patches grow as L³. */
const MAX_L = 16;

export const caserOptions = attentionOptions
  .pick('maxlen', 'hidden_units', 'dropout_rate')
  .withDefaults({ maxlen: 5, hiddenUnits: 50, dropoutRate: 0.5 })
  .with(
    defineOptions({
      targets: int({
        help:
          'Caser: T, the next items each training window of L (= --maxlen) items predicts (the paper: 3); a batch is --batch_size ' +
          "windows (Caser's default 512, for 50 epochs: the authors')",
        default: 3,
        min: 1,
        max: 1024,
      }),
      n_v: int({ help: 'Caser: vertical filters (L × 1: weighted sums of the L item vectors; the paper: 4)', default: 4, min: 1, max: 4096 }),
      n_h: int({ help: 'Caser: horizontal filters of each height 1..L (ReLU, max-pooled over time; the paper: 16)', default: 16, min: 1, max: 4096 }),
      l2: num({
        help: "Caser: L2 penalty λ on every parameter, (λ/2)·Σθ² in the loss (= the authors' torch Adam weight_decay; their 1e-6)",
        default: 1e-6,
        min: 0,
      }),
      neg_samples: int({
        help: "Caser: negatives sampled per target, outside the user's train items (the paper: 3)",
        default: 3,
        min: 1,
        max: 10_000,
      }),
    }),
  )
  // the h-row patches of every height h = 1..L hold L(L + 1)(L + 2)/6 item vectors per window
  .rule((c) => (c.maxlen > MAX_L ? ['maxlen', `Caser's L is at most ${MAX_L} (the paper tries 1 to 9), got ${c.maxlen}`] : undefined));

/** The authors' training settings where they differ from the loop's defaults: 512 windows a batch, 50 epochs. */
export const CASER_TRAINING_DEFAULTS: Partial<TrainingRecord> = { batchSize: 512, numEpochs: 50 };

export type CaserOptions = ConfigOf<typeof caserOptions.options>;

/** The network's configuration for `itemNum` items and `userNum` users. */
export function networkConfig(o: CaserOptions, itemNum: number, userNum: number): CaserConfig {
  return {
    itemNum,
    userNum,
    L: o.maxlen,
    T: o.targets,
    hiddenUnits: o.hiddenUnits,
    nV: o.nV,
    nH: o.nH,
    dropoutRate: o.dropoutRate,
    l2: o.l2,
    negSamples: o.negSamples,
  };
}

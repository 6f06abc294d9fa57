/** The next-item training losses, chosen by --loss, and their options. */
import { bool, choice, defineOptions, int, num, type ConfigOf } from '../core/options.js';
import { bceK, bceLoss } from './bce.js';
import { bpr } from './bpr.js';
import { ceLoss } from './ce.js';
import { gbce } from './gbce.js';
import { sampledSoftmax } from './sampled-softmax.js';
import type { NextItemLoss } from './types.js';

export type { NegativeSampling, NextItemLoss, NextItemTargets } from './types.js';
export { bceLoss } from './bce.js';

export const LOSS_NAMES = ['bce', 'bce_k', 'gbce', 'sampled_softmax', 'ce', 'bpr'] as const;
export type LossName = (typeof LOSS_NAMES)[number];

/** Negatives per position when --train_negatives is not given (gSASRec's and the issue's 256). */
export const DEFAULT_TRAIN_NEGATIVES = 256;

const SAMPLED: readonly LossName[] = ['bce_k', 'gbce', 'sampled_softmax', 'bpr'];

export const lossOptions = defineOptions({
  loss: choice(LOSS_NAMES, {
    help:
      'training loss: bce (binary cross-entropy, one sampled negative per position: the paper) | bce_k (BCE with --train_negatives) | ' +
      'gbce (gSASRec: BCE with K negatives, positive calibrated by --gbce_t) | sampled_softmax (softmax over the positive and K sampled items) | ' +
      'ce (softmax over the whole catalogue: SASRec+, BERT4Rec) | bpr (pairwise, K negatives)',
    default: 'bce',
  }),
  train_negatives: int({
    help: `negatives per position for bce_k, gbce, sampled_softmax and bpr (default ${DEFAULT_TRAIN_NEGATIVES})`,
    min: 1,
    max: 100_000,
  }),
  gbce_t: num({ help: 'gbce: calibration t in [0, 1] (0: plain BCE with K negatives; 1: fully calibrated)', default: 0.75, min: 0, max: 1 }),
  shared_negatives: bool({
    help: 'sampled_softmax: one set of negatives for every position of a batch (a shared item equal to the positive is left out)',
  }),
})
  .rule((c, name) =>
    c.trainNegatives !== undefined && !SAMPLED.includes(c.loss)
      ? ['train_negatives', `--loss ${c.loss} does not sample K negatives (use ${name('loss')} bce_k, gbce, sampled_softmax or bpr)`]
      : undefined,
  )
  .rule((c, name) =>
    c.sharedNegatives && c.loss !== 'sampled_softmax' ? ['shared_negatives', `only with ${name('loss')} sampled_softmax`] : undefined,
  )
  .rule((c, name) => (c.gbceT !== 0.75 && c.loss !== 'gbce' ? ['gbce_t', `only with ${name('loss')} gbce`] : undefined));

export type LossConfig = ConfigOf<typeof lossOptions.options>;

/** The loss the options ask for, over a catalogue of `itemNum` items. */
export function lossFor(c: LossConfig, itemNum: number): NextItemLoss {
  const K = c.trainNegatives ?? DEFAULT_TRAIN_NEGATIVES;
  switch (c.loss) {
    case 'bce':
      return bceLoss;
    case 'bce_k':
      return bceK(K);
    case 'gbce':
      return gbce(K, c.gbceT, itemNum);
    case 'sampled_softmax':
      return sampledSoftmax(K, c.sharedNegatives ?? false);
    case 'ce':
      return ceLoss;
    case 'bpr':
      return bpr(K);
  }
}

/** The loss for the training log: '' for the default bce, else ', loss gbce (256 negatives, t 0.75)'. */
export function describeLoss(c: LossConfig): string {
  if (c.loss === 'bce') return '';
  const K = c.trainNegatives ?? DEFAULT_TRAIN_NEGATIVES;
  const details = [
    ...(SAMPLED.includes(c.loss) ? [`${K} negatives${c.sharedNegatives ? ' shared by the batch' : ''}`] : []),
    ...(c.loss === 'gbce' ? [`t ${c.gbceT}`] : []),
  ];
  return `, loss ${c.loss}${details.length ? ` (${details.join(', ')})` : ''}`;
}

/** The loss's entries in a checkpoint's `config` (none for the default bce, so its files stay as they were). */
export function lossMetadata(c: LossConfig): Record<string, unknown> {
  if (c.loss === 'bce') return {};
  const meta: Record<string, unknown> = { loss: c.loss };
  if (SAMPLED.includes(c.loss)) meta.train_negatives = c.trainNegatives ?? DEFAULT_TRAIN_NEGATIVES;
  if (c.loss === 'gbce') meta.gbce_t = c.gbceT;
  if (c.loss === 'sampled_softmax') meta.shared_negatives = c.sharedNegatives ?? false;
  return meta;
}

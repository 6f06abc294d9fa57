/** `--model pop`: PopRec, fitted by counting. */
import { choice, defineOptions } from '../../core/options.js';
import { UserError } from '../../core/errors.js';
import type { ModelSpec } from '../contract.js';
import { looksLikePopRec, PopRecModel } from './pop.js';

export const popOptions = defineOptions({
  pop_count_on: choice(['train', 'all'] as const, {
    help: 'count popularity on train (no leakage) or all (train+valid+test: leaks the held-out items; for comparison only)',
    default: 'train',
  }),
});

export const pop: ModelSpec<typeof popOptions.options> = {
  name: 'pop',
  description: 'PopRec: ranks items by their number of training interactions',
  fileName: 'poprec.json',
  options: popOptions,
  coldStart: ['users', 'items'],
  learning: {
    kind: 'fit',
    check(split, options) {
      if (split.cold && options.popCountOn === 'all') {
        throw new UserError(`--pop_count_on all counts the events of the held-out ${split.cold.kind}: not with --cold (use train)`);
      }
    },
    fit(split, options, { log }) {
      log?.(`PopRec: counting item popularity on ${options.popCountOn === 'train' ? 'the train split' : 'all interactions (leaks valid/test)'}`);
      return PopRecModel.fit(split, options.popCountOn);
    },
  },
  sniff: looksLikePopRec,
  load: (bytes) => PopRecModel.parse(bytes),
};

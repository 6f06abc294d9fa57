/** The evaluation options every command that evaluates reads (train, eval, experiments). */
import { choice, defineOptions, int, intList, type ConfigOf } from '../core/options.js';

export const evalOptions = defineOptions({
  eval_protocol: choice(['sampled', 'full', 'both'] as const, {
    help: 'sampled (the paper: the held-out item among random negatives) | full (rank all items, history excluded) | both',
    default: 'sampled',
  }),
  eval_users: int({ help: 'evaluate a random sample of N user ids, as the reference does with 10000 (default: all users)', min: 1 }),
  ks: intList({
    help: 'cut-offs K, comma-separated: HR@K and NDCG@K (leave-one-out), Recall@K, NDCG@K, Hit@K, MRR@K, Precision@K (--split random)',
    default: [10],
  }),
  // candidate and score buffers are eval_batch_size × (num_negatives + 1) floats
  num_negatives: int({ help: 'negatives per user in the sampled protocol', default: 100, min: 1, max: 100_000 }),
  eval_batch_size: int({ help: 'users per scoring call (default 256 sampled, 128 full)', min: 1, max: 65_536 }),
}).rule((c) => {
  const twice = c.ks.find((k, i) => c.ks.indexOf(k) !== i);
  return twice !== undefined ? ['ks', `cut-off K=${twice} given twice ("${c.ks.join(',')}")`] : undefined;
});

export type EvalConfig = ConfigOf<typeof evalOptions.options>;

/** The protocols the options select, in the order they run. */
export function protocolsOf(c: Pick<EvalConfig, 'evalProtocol'>): Array<'sampled' | 'full'> {
  return c.evalProtocol === 'both' ? ['sampled', 'full'] : [c.evalProtocol];
}

/** The run's seed: initialisation, sampling, dropout and evaluation negatives all derive from it. */
export const seedOptions = defineOptions({
  seed: int({ help: 'random seed of the run', default: 42, min: 0, max: 2 ** 32 - 1 }),
});

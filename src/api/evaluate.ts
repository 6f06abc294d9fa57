import { asKey } from '../core/options.js';
import { splitData, splitOptions } from '../data/options.js';
import { requireEvaluableUsers } from '../data/split.js';
import type { Interactions } from '../data/types.js';
import { evalOptions, seedOptions } from '../eval/options.js';
import { rankRows, type RankList, type RankRow } from '../eval/ranks.js';
import type { EvalRow } from '../eval/results.js';
import { runEvaluations } from '../eval/run.js';
import type { Model } from '../models/contract.js';
import { checkSameItems, scorerForDataset } from '../train/model-file.js';
import { ensureKernels, refuseUnknown } from './options.js';

/** How to evaluate (the CLI's evaluation options, camelCase). */
export interface EvaluateOptions {
  /** 'sampled' (default: the held-out item among numNegatives random items), 'full' (every item) or 'both' */
  readonly evalProtocol?: 'sampled' | 'full' | 'both';
  /** cut-offs of HR@K and NDCG@K (default [10]) */
  readonly ks?: readonly number[];
  /** negatives per user in the sampled protocol (default 100) */
  readonly numNegatives?: number;
  /** evaluate a random sample of this many users (default: all) */
  readonly evalUsers?: number;
  /** users per scoring call */
  readonly evalBatchSize?: number;
  /** the evaluation's random seed (default 42, as train's: the same negatives) */
  readonly seed?: number;
  /** users with fewer interactions are not evaluated (default 3) */
  readonly minInteractions?: number;
  /** 'loo' (default: leave-one-out) or 'random' (RecBole's random split seeded by `seed`; full ranking only; docs/metrics.md) */
  readonly split?: 'loo' | 'random';
  /** the random split's train,valid,test ratios (default '0.8,0.1,0.1') */
  readonly splitRatio?: string;
  /** cold start (data/cold.ts): 'users:F' or 'items:F', the held-out fraction drawn by `seed` */
  readonly cold?: string;
  /** cold users: the first N events (0–3) of a held-out user given as its history (default 0) */
  readonly coldHistory?: number;
}

/**
 * Evaluates `model` on `data` (the data it was trained on), split leave-one-out: each protocol on
 * valid (history = train) and test (history = train + valid). One row per protocol and split, with
 * HR@K, NDCG@K and MRR.
 */
export async function evaluate(model: Model, data: Interactions, options: EvaluateOptions = {}): Promise<EvalRow[]> {
  return evaluateOn(model, data, options);
}

/** What `evaluateWithRanks` returns. */
export interface EvaluationWithRanks {
  /** `evaluate`'s rows */
  readonly rows: EvalRow[];
  /** every evaluated user's rank, per protocol and split */
  readonly ranks: RankRow[];
}

/**
 * `evaluate`, and each evaluated user's 0-based rank of the held-out item with the data's own user and
 * item ids (one-item protocols: leave-one-out, `cold`): two models' ranks on the same users compare
 * user by user (`pairedComparison`), as `seqrec compare` does with the CLI's ranks files.
 */
export async function evaluateWithRanks(model: Model, data: Interactions, options: EvaluateOptions = {}): Promise<EvaluationWithRanks> {
  const lists: RankList[] = [];
  const rows = await evaluateOn(model, data, options, lists);
  return { rows, ranks: rankRows(lists, data) };
}

async function evaluateOn(model: Model, data: Interactions, options: EvaluateOptions, ranksOut?: RankList[]): Promise<EvalRow[]> {
  refuseUnknown(options, [evalOptions, seedOptions, splitOptions]);
  const evaluation = evalOptions.parse(options, asKey);
  const { seed } = seedOptions.parse(options, asKey);
  const splitConfig = splitOptions.parse(options, asKey);
  const split = splitData(data, splitConfig, seed);
  requireEvaluableUsers(split);
  const loaded = { path: 'data', data, split, minInteractions: splitConfig.minInteractions };
  checkSameItems(model, loaded);
  ensureKernels();
  return runEvaluations(scorerForDataset(model, loaded), split, evaluation, seed, undefined, ranksOut);
}

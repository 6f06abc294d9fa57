/** Evaluating a trained model on a dataset it was trained on: results.json's content. */
import { VERSION } from '../core/version.js';
import type { LoadedSplit } from '../data/types.js';
import { protocolsOf, type EvalConfig } from '../eval/options.js';
import { checkSampledNegatives } from '../eval/protocols.js';
import type { RankList } from '../eval/ranks.js';
import { datasetHeader, evaluationHeader, type RunResults } from '../eval/results.js';
import { runEvaluations, type EvalProgress } from '../eval/run.js';
import type { Model } from '../models/contract.js';
import { checkSameItems, scorerForDataset } from './model-file.js';

export interface EvaluationRun {
  readonly command: string;
  /** where the model was saved or loaded from */
  readonly modelPath?: string;
  readonly progress?: EvalProgress;
  /** collects each evaluation's per-user ranks (one-item protocols) */
  readonly ranksOut?: RankList[];
}

/**
 * Every selected protocol on valid and test; refuses a dataset whose items are not the model's (a model
 * that scores users gets each user by the model's id of it: scorerForDataset).
 */
export async function evaluateModel(
  model: Model,
  loaded: LoadedSplit,
  evaluation: EvalConfig,
  seed: number,
  run: EvaluationRun,
): Promise<RunResults> {
  checkSameItems(model, loaded);
  if (protocolsOf(evaluation).includes('sampled')) {
    checkSampledNegatives(
      loaded.split,
      evaluation.numNegatives,
      'rank every item instead (--eval_protocol full), or leave such users out of the data',
    );
  }
  const rows = await runEvaluations(scorerForDataset(model, loaded), loaded.split, evaluation, seed, run.progress, run.ranksOut);
  return {
    seqrec: VERSION,
    command: run.command,
    model: model.name,
    modelSettings: model.describe(),
    dataset: datasetHeader(loaded),
    evaluation: evaluationHeader(evaluation, seed),
    results: rows,
    ...(run.modelPath !== undefined ? { modelPath: run.modelPath } : {}),
    createdAt: new Date().toISOString(),
  };
}

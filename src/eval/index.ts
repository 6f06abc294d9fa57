/** Evaluation: metrics (HR@K, NDCG@K, MRR), the sampled and full-ranking protocols, history batches. */
export type { HistoryBatch, Scorer } from './types.js';
export { DEFAULT_KS, RankMetrics, checkKs, hitAt, metricNames, metricsFromRanks, ndcgAt, rankFirst, reciprocalRank } from './metrics.js';
export {
  evaluateFullRanking,
  evaluateSampled,
  isEvaluable,
  selectEvalUsers,
  topK,
  type EvalResult,
  type FullRankingOptions,
  type SampledOptions,
} from './protocols.js';
export { buildEvalBatch, buildSingleBatch, fillHistoryRow, type HeldOut } from './history.js';

/**
 * seqrec as a library: read interaction data, train a model, evaluate it with the field's protocols,
 * recommend, save and load model files.
 *
 * ```js
 * import { fromEvents, train, evaluate, recommend, saveModel, loadModel } from 'seqrec';
 * ```
 */
export { fromEvents, loadDataset, loadFeatures, type DatasetOptions, type Event, type FeatureFiles } from './api/dataset.js';
export { train, type TrainOptions } from './api/train.js';
export { evaluate, evaluateWithRanks, type EvaluateOptions, type EvaluationWithRanks } from './api/evaluate.js';
export { pairedComparison, perUserMetric, type PairedOptions, type PairedSummary } from './eval/paired.js';
export type { RankRow } from './eval/ranks.js';
export { recommend, type RecommendQuery, type Recommendation } from './api/recommend.js';
export { loadModel, saveModel, type LoadModelOptions } from './api/model-file.js';
export { modelNames } from './models/registry.js';
export { UserError } from './core/errors.js';
export { VERSION } from './core/version.js';
export type { Catalog, Model } from './models/contract.js';
export type { Interactions, IdMap, SideFeatures, FeatureMatrix, FeatureField, FeatureKind } from './data/types.js';
export { DATA_FORMATS, type DataFormat } from './data/formats.js';
export type { EvalRow } from './eval/results.js';
export type { Scorer, HistoryBatch } from './eval/types.js';

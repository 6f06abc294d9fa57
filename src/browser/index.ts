/**
 * The browser entry: what a page needs to recommend with a model file, and to train one (in a Web
 * Worker), using no Node built-ins.
 * Bundled by scripts/build-browser.mjs into dist/browser/seqrec.js (the wasm kernels are embedded).
 */
import { UserError } from '../core/errors.js';
import { type AttentionMap, type Model, attentionSourceOf, isAttentionSource } from '../models/contract.js';
import { detectModel } from '../models/registry.js';
import { recommendTopK } from '../eval/recommend.js';
import { initKernels } from './kernels.js';

export { initKernels, type KernelOptions, type KernelsInfo, type ThreadPoolOptions } from './kernels.js';
export { trainFromText, type BrowserTrainOptions, type TrainedModel, type TrainProgress } from './train.js';
export { trainInWorker } from './worker.js';

export type { AttentionMap, Model } from '../models/contract.js';

/** One recommendation: the item's original id and its score. */
export interface Recommendation {
  readonly item: string;
  readonly score: number;
}

/** A model from its file's bytes (as Node's `seqrec train` writes them); the kind is sniffed. */
export async function loadModel(bytes: Uint8Array): Promise<Model> {
  await initKernels();
  const spec = detectModel(bytes);
  if (!spec) throw new UserError('not a seqrec model file (no registered model recognises it)');
  return spec.load(bytes);
}

function denseIds(model: Model, history: readonly string[]): number[] {
  return history.map((raw) => {
    const dense = model.items.toIndex.get(raw);
    if (dense === undefined) throw new UserError(`unknown item id "${raw}"`);
    return dense;
  });
}

/** The `k` best items after `history` (original item ids, oldest first); unknown ids are refused. */
export function recommend(model: Model, history: readonly string[], k = 10): Recommendation[] {
  const items = denseIds(model, history);
  return recommendTopK(model.scorer, { items }, k).map((r) => ({ item: model.items.toRaw[r.item], score: r.score }));
}

/** Whether the model can show its self-attention weights (SASRec). */
export function hasAttention(model: Model): boolean {
  return isAttentionSource(model.scorer);
}

/** The self-attention weights of every layer and head over `history` (its last maxlen items); see AttentionMap. */
export function attention(model: Model, history: readonly string[]): AttentionMap {
  return attentionSourceOf(model).attentionWeights([Int32Array.from(denseIds(model, history))])[0];
}

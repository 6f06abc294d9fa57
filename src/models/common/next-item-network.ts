/**
 * What every next-item network shares (SASRec, TiSASRec, BERT4Rec): how it is built (seed, random
 * streams, packed path, loss), the training loss (the objective over the features at the trained
 * positions, scored against the item embedding and an optional per-item output bias, + the L2 term),
 * and scoring candidates or the whole catalogue from one feature row per history. Each network adds
 * its layers, its training targets and the features it scores from.
 */
import * as ops from '../../engine/ops.js';
import { Rng } from '../../engine/rng.js';
import { getTape, withInferenceTape } from '../../engine/tape.js';
import type { Parameter, Tensor } from '../../engine/tensor.js';
import type { HistoryBatch, Scorer } from '../../eval/types.js';
import { getKernels } from '../../kernels/index.js';
import { bceLoss, type NextItemLoss, type NextItemTargets } from '../../losses/index.js';
import type { Embedding } from '../../nn/layers.js';
import { Module } from '../../nn/module.js';

/** How a network is built. */
export interface NetworkOptions {
  /** seeds initialisation and (forked) dropout when no rng is given; default 42 */
  seed?: number;
  /** initialisation randomness */
  rng?: Rng;
  /** dropout randomness (default: forked from rng) */
  dropoutRng?: Rng;
  /** skip padding (the packed path, default true); false computes every position densely */
  packed?: boolean;
  /** the training loss (default: BCE with one negative, the SASRec paper's) */
  loss?: NextItemLoss;
}

/** The initialisation stream, and the dropout stream forked from it (in this order, for a seed to give the same network). */
export function networkRngs(opts: NetworkOptions): { rng: Rng; dropoutRng: Rng } {
  const rng = opts.rng ?? new Rng(opts.seed ?? 42);
  return { rng, dropoutRng: opts.dropoutRng ?? rng.fork() };
}

/** The negatives of a batch: K per position (0: none, or the batch's shared list). */
export function negativesPerPosition(batch: { readonly negatives?: number; readonly sharedNegatives?: boolean }): number {
  return batch.sharedNegatives ? 0 : (batch.negatives ?? 1);
}

const NO_IDS = new Int32Array(0);

/** The ids LossTargets gathers K per target: the batch's per-position negatives, or none when they are shared. */
export function perPositionNegatives(batch: { readonly neg: Int32Array; readonly sharedNegatives?: boolean }): Int32Array {
  return batch.sharedNegatives ? NO_IDS : batch.neg;
}

/** A next-item network over items 1..itemNum, trained on batches B. */
export abstract class NextItemNetwork<B> extends Module implements Scorer {
  readonly itemNum: number;
  readonly maxlen: number;
  /** the stream dropout masks are drawn from (save/restore its state to resume a run exactly) */
  readonly dropoutRng: Rng;
  /** the training objective over the output features (losses/) */
  readonly objective: NextItemLoss;
  /**
   * Whether the loss and the scores skip padding (the packed path). Both paths give the same results
   * without dropout.
   */
  packed: boolean;

  /** the item embedding the logits score against (rows 0..itemNum, and any beyond them that are not items) */
  abstract readonly itemEmb: Embedding;

  /** The table the logits score against: itemEmb, unless the network keeps a separate output table. */
  get outputEmb(): Embedding {
    return this.itemEmb;
  }

  protected constructor(itemNum: number, maxlen: number, opts: NetworkOptions, dropoutRng: Rng) {
    super();
    this.itemNum = itemNum;
    this.maxlen = maxlen;
    this.dropoutRng = dropoutRng;
    this.packed = opts.packed ?? true;
    this.objective = opts.loss ?? bceLoss;
  }

  /** The per-item bias [itemNum + 1] added to every logit, or null (none). */
  protected logitBias(): Tensor | null {
    return null;
  }

  /** The embeddings the l2_emb term covers, and its weight. */
  protected abstract get regularisation(): { readonly weight: number; readonly embeddings: readonly Parameter[] };

  /** The features the loss scores, with their targets (see NextItemTargets). */
  protected abstract trainingTargets(batch: B): NextItemTargets;

  /**
   * The training loss: the objective over the training targets (candidates: items 1..itemNum), +
   * l2_emb · Σ W² over the regularised embeddings.
   */
  loss(batch: B): Tensor {
    let loss = this.objective.compute(this.trainingTargets(batch), this.outputEmb, this.logitBias() ?? undefined, this.itemNum);
    const { weight, embeddings } = this.regularisation;
    if (weight !== 0) for (const w of embeddings) loss = ops.add(loss, ops.scale(ops.sumSquares(w), weight));
    return loss;
  }

  /**
   * Scores [B·C] of candidates [B·C] from the features [B, d] of each history (+ their bias), on the
   * inference tape; a fresh array.
   */
  protected candidateScores(lastFeatures: () => Tensor, batchSize: number, candidates: Int32Array, numCandidates: number): Float32Array {
    return withInferenceTape(() => {
      const d = this.itemEmb.weight.shape[1];
      const C = numCandidates;
      if (candidates.length !== batchSize * C) throw new Error(`predict: ${candidates.length} candidates for ${batchSize}×${C}`);
      const feats = lastFeatures();
      const cand = this.outputEmb.forward(candidates);
      const bias = this.logitBias();
      const k = getKernels();
      const out = getTape().alloc(batchSize * C);
      if (bias) k.gatherRows(batchSize * C, 1, bias.data, 0, candidates, 0, 1, out, 0);
      const beta = bias ? 1 : 0;
      for (let b = 0; b < batchSize; b++) k.gemm(false, true, 1, C, d, 1, feats.data, b * d, d, cand.data, b * C * d, d, beta, out, b * C, C);
      return out.slice();
    });
  }

  /**
   * Scores of every item 0..itemNum [B·(itemNum+1)] from the features [B, d] of each history (+ the
   * bias); into `out` when it is large enough (no fresh B·n array per call), else a fresh array.
   */
  protected allScores(lastFeatures: () => Tensor, batchSize: number, out?: Float32Array): Float32Array {
    return withInferenceTape(() => {
      const d = this.itemEmb.weight.shape[1];
      const n = this.itemNum + 1;
      const feats = lastFeatures();
      const dst = out !== undefined && out.length >= batchSize * n ? out.subarray(0, batchSize * n) : undefined;
      const scores = dst ?? getTape().alloc(batchSize * n);
      const k = getKernels();
      k.gemm(false, true, batchSize, n, d, 1, feats.data, 0, d, this.outputEmb.weight.data, 0, d, 0, scores, 0, n);
      const bias = this.logitBias();
      if (bias) k.addBias(batchSize, n, bias.data, 0, scores, 0);
      return dst ?? scores.slice();
    });
  }

  abstract scoreCandidates(batch: HistoryBatch, candidates: Int32Array, numCandidates: number): Float32Array;
  abstract scoreAll(batch: HistoryBatch, out?: Float32Array): Float32Array;
}

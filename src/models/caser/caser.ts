/**
 * Caser (Tang & Wang, WSDM 2018, "Personalized Top-N Sequential Recommendation via Convolutional
 * Sequence Embedding"), as the authors' PyTorch code (caser_pytorch, caser.py) computes it:
 *
 *   input: user u and the window of his last L items S_{t−L+1} … S_t (left-padded with item 0)
 *   E = [Q_{S_{t−L+1}}; …; Q_{S_t}] ∈ R^{L×d}           the "image": item embeddings Q [N+1, d]
 *   horizontal filters F^k ∈ R^{h×d}, n_h of each height h = 1..L:
 *     c^k_i = φ_c(E_{i:i+h−1} ⊙ F^k + b^k), i = 1..L−h+1;   o^k = max_i c^k_i      (φ_c = ReLU)
 *     o = [o^1 … o^{n_h·L}] ∈ R^{n_h·L}                     (max-pooling over time)
 *   vertical filters F̃^k ∈ R^{L×1}, k = 1..n_v: õ^k = Σ_l F̃^k_l · E_l + b̃^k ∈ R^d (a weighted sum of
 *     the L rows, no activation);   õ = [õ^1 … õ^{n_v}] ∈ R^{n_v·d}
 *   z = φ_a(W · dropout([õ; o]) + b) ∈ R^d                 (φ_a = ReLU; W [d, n_v·d + n_h·L])
 *   y_i = [z; P_u] · W'_i + b'_i                           P_u: user embedding; W' [N+1, 2d], b' [N+1]
 *
 * Training (paper §3.4): every position of a user's train sequence makes a window of its last L items
 * with the next T items as targets (windows.ts), each target gets K negatives sampled from the items
 * the user has no train interaction with, and over a batch of windows
 *   loss = mean over targets of −log σ(y_i) + mean over negatives of −log(1 − σ(y_j)) + (λ/2)·Σ θ²
 * over every parameter θ (the authors' torch Adam weight_decay λ adds λθ to each gradient: the same).
 * Prediction scores every item (or the candidates) after the last L items of each history, for its user.
 *
 * Parameters (caser_pytorch's state_dict names): user_embeddings.weight [U+1, d], item_embeddings.weight
 * [N+1, d], conv_v.{weight [n_v, 1, L, 1], bias}, conv_h.<h−1>.{weight [n_h, 1, h, d], bias},
 * fc1.{weight, bias}, W2.weight [N+1, 2d], b2.weight [N+1, 1]. Initialisation as theirs: Q, P ~ N(0, (1/d)²),
 * W' ~ N(0, (1/2d)²), b' = 0, the convolutions and fc1 PyTorch's defaults (U(±1/√fan_in)).
 *
 * Where it differs from the authors' code:
 * - users are 1..U, and row 0 of P stands for a user the model has not seen (an ad-hoc history, or an
 *   unknown id): it is never trained, and such a history is scored with the mean of the known users'
 *   rows instead, the average user (the scores are linear in P_u, so they are the mean of the known
 *   users' scores for the same items);
 * - every position makes a window (with L − 1 left-padded ones at a sequence's start, and fewer than T
 *   targets in the last T − 1), where their code cuts windows of L + T items from sequences at least that
 *   long and pads shorter sequences into one window;
 * - K negatives for each target, as the paper says; their code draws K per window for its T targets;
 * - the optimiser is the training loop's Adam (betas 0.9, 0.98), theirs torch's default (0.9, 0.999).
 * Item 0 (padding) is, as theirs, an ordinary trained row of Q.
 */
import * as init from '../../engine/init.js';
import * as ops from '../../engine/ops.js';
import { concatColumns, maxOverTime, verticalConv } from '../../engine/conv-ops.js';
import type { Rng } from '../../engine/rng.js';
import type { Parameter, Tensor } from '../../engine/tensor.js';
import { getKernels } from '../../kernels/index.js';
import type { TrainBatch } from '../../data/types.js';
import type { HistoryBatch } from '../../eval/types.js';
import { bceK } from '../../losses/bce.js';
import type { NextItemTargets } from '../../losses/index.js';
import { Dropout, Embedding, Linear } from '../../nn/layers.js';
import { ModuleList } from '../../nn/module.js';
import { networkRngs, NextItemNetwork, type NetworkOptions } from '../common/next-item-network.js';
import { CaserWindows } from './windows.js';

/** Caser's sizes (the paper's symbols). */
export interface CaserConfig {
  itemNum: number;
  userNum: number;
  /** L: the items a window holds (the option maxlen) */
  L: number;
  /** T: the next items a training window predicts */
  T: number;
  /** d */
  hiddenUnits: number;
  /** vertical filters */
  nV: number;
  /** horizontal filters of each height */
  nH: number;
  /** dropout on the convolutions' output */
  dropoutRate: number;
  /** λ of (λ/2)·Σθ² */
  l2: number;
  /** K: negatives per target */
  negSamples: number;
}

export type CaserNetworkOptions = Omit<NetworkOptions, 'loss' | 'packed'>;

/** The rows the training loss reads: a WindowSampler batch (windows.ts). */
export type CaserBatch = Pick<TrainBatch, 'batchSize' | 'maxlen' | 'seqs' | 'pos' | 'neg' | 'users' | 'negatives'>;

export class Caser extends NextItemNetwork<CaserBatch> {
  readonly config: Readonly<CaserConfig>;

  /** P [U+1, d]: row 0 the unknown user, zero and never trained (scoring uses the mean user for it) */
  readonly userEmbeddings: Embedding;
  /** Q [N+1, d]: the input item vectors, row 0 the padding item */
  readonly itemEmbeddings: Embedding;
  readonly convV: Linear;
  readonly convH: ModuleList<Linear>;
  readonly fc1: Linear;
  /** W' [N+1, 2d]: the output item vectors the scores are dot products with (state_dict W2) */
  readonly itemEmb: Embedding;
  /** b' [N+1, 1]: the output item biases (state_dict b2) */
  readonly b2: Embedding;
  readonly dropout: Dropout;
  /** Scores read HistoryBatch.users (P_u): evaluation on a dataset gives each user the model's id of it. */
  readonly usesUsers = true;

  private readonly trainWindows: CaserWindows;
  private readonly scoreWindows: CaserWindows;

  constructor(config: CaserConfig, opts: CaserNetworkOptions = {}) {
    const c = { ...config };
    for (const k of ['itemNum', 'userNum', 'L', 'T', 'hiddenUnits', 'nV', 'nH', 'negSamples'] as const) {
      if (!(Number.isInteger(c[k]) && c[k] >= 1)) throw new Error(`Caser: ${k} must be an integer ≥ 1, got ${c[k]}`);
    }
    if (!(c.dropoutRate >= 0 && c.dropoutRate < 1)) throw new Error(`Caser: dropoutRate must be in [0, 1), got ${c.dropoutRate}`);
    if (!(c.l2 >= 0)) throw new Error(`Caser: l2 must be ≥ 0, got ${c.l2}`);
    const { rng, dropoutRng: drop } = networkRngs(opts);
    super(c.itemNum, c.L, { ...opts, loss: bceK(c.negSamples) }, drop);
    this.config = c;
    const { L, hiddenUnits: d, nV, nH, itemNum } = c;
    this.userEmbeddings = this.addModule('user_embeddings', new Embedding(c.userNum + 1, d, rng, 0));
    this.itemEmbeddings = this.addModule('item_embeddings', new Embedding(itemNum + 1, d, rng));
    this.convV = this.addModule('conv_v', new Linear(L, nV, rng, true, [nV, 1, L, 1]));
    this.convH = this.addModule(
      'conv_h',
      new ModuleList(Array.from({ length: L }, (_, i) => new Linear((i + 1) * d, nH, rng, true, [nH, 1, i + 1, d]))),
    );
    this.fc1 = this.addModule('fc1', new Linear(nV * d + nH * L, d, rng));
    this.itemEmb = this.addModule('W2', new Embedding(itemNum + 1, 2 * d, rng));
    this.b2 = this.addModule('b2', new Embedding(itemNum + 1, 1, rng));
    this.dropout = this.addModule('dropout', new Dropout(c.dropoutRate, drop));
    this.trainWindows = new CaserWindows(L);
    this.scoreWindows = new CaserWindows(L);
    this.resetParameters(rng);
  }

  /** The authors' initialisation of the embeddings (P, Q ~ N(0, (1/d)²), W' ~ N(0, (1/2d)²), b' = 0); P's row 0 zero. */
  resetParameters(rng: Rng): void {
    const d = this.config.hiddenUnits;
    init.normal(this.userEmbeddings.weight, rng, 0, 1 / d);
    init.normal(this.itemEmbeddings.weight, rng, 0, 1 / d);
    init.normal(this.itemEmb.weight, rng, 0, 1 / (2 * d));
    init.constant(this.b2.weight, 0);
    this.userEmbeddings.weight.data.fill(0, 0, d);
  }

  /**
   * z [W, d] of W windows of L items each (items [W·L], left-padded, oldest first). The array must stay
   * unchanged until the backward pass.
   */
  sequenceFeatures(items: Int32Array, W: number): Tensor {
    const { L, hiddenUnits: d } = this.config;
    if (items.length !== W * L) throw new Error(`Caser: ${items.length} items for ${W} windows of ${L}`);
    // the image E of every window, [W·L, d]
    const E = this.itemEmbeddings.forward(items);
    const parts: Tensor[] = [verticalConv(E, this.convV.weight, this.convV.bias, L)];
    for (let h = 1; h <= L; h++) {
      // the L − h + 1 patches of h rows of every window, each one row of h·d values
      const patches = h === 1 ? E : ops.reshape(this.itemEmbeddings.forward(patchItems(items, W, L, h)), [W * (L - h + 1), h * d]);
      const c = ops.relu(this.convH.at(h - 1).forward(patches));
      parts.push(maxOverTime(c, W));
    }
    return ops.relu(this.fc1.forward(this.dropout.forward(concatColumns(parts))));
  }

  /** x = [z; P_u] [W, 2d] of W windows of known users (users [W], 1..U). */
  features(items: Int32Array, users: Int32Array, W: number): Tensor {
    if (users.length !== W) throw new Error(`Caser: ${users.length} users for ${W} windows`);
    return concatColumns([this.sequenceFeatures(items, W), this.userEmbeddings.forward(users)]);
  }

  /** The mean of the known users' rows of P, 1..U [d]: the vector scoring uses for the unknown user. */
  meanUser(): Float32Array {
    const { userNum: U, hiddenUnits: d } = this.config;
    const mean = new Float32Array(d);
    getKernels().colSumAcc(U, d, this.userEmbeddings.weight.data, d, mean, 0);
    for (let c = 0; c < d; c++) mean[c] /= U;
    return mean;
  }

  protected override logitBias(): Tensor {
    return this.b2.weight;
  }

  /** (λ/2)·Σθ² over every parameter. */
  protected get regularisation(): { weight: number; embeddings: Parameter[] } {
    return { weight: this.config.l2 / 2, embeddings: this.config.l2 > 0 ? this.parameters() : [] };
  }

  /** One feature row per (window, target) pair of the batch, with its target and K negatives. */
  protected trainingTargets(batch: CaserBatch): NextItemTargets {
    const { T, negSamples: K } = this.config;
    const win = this.trainWindows.fromTrainBatch(batch, T, K);
    const x = this.features(win.items, win.users, win.count);
    return { features: ops.embedding(x, win.pairWindow), pos: win.pairPos, neg: win.pairNeg };
  }

  /**
   * x [B, 2d] of each history's last L items and its user; a user outside 1..U (the unknown user 0, or
   * an id this model has not seen) gets the mean user. Only on the inference tape (no backward).
   */
  private historyFeatures(batch: HistoryBatch): Tensor {
    const win = this.scoreWindows.fromHistories(batch, this.config.userNum);
    const x = this.features(win.items, win.users, win.count);
    if (win.users.includes(0)) {
      const d = this.config.hiddenUnits;
      const mean = this.meanUser();
      for (let b = 0; b < win.count; b++) if (win.users[b] === 0) x.data.set(mean, b * 2 * d + d);
    }
    return x;
  }

  scoreCandidates(batch: HistoryBatch, candidates: Int32Array, numCandidates: number): Float32Array {
    return this.inEvalMode(() => this.candidateScores(() => this.historyFeatures(batch), batch.batchSize, candidates, numCandidates));
  }

  scoreAll(batch: HistoryBatch, out?: Float32Array): Float32Array {
    return this.inEvalMode(() => this.allScores(() => this.historyFeatures(batch), batch.batchSize, out));
  }
}

/** The item ids of the h-row patches of W windows of L items: patch (w, i) is items[w·L + i … w·L + i + h − 1]. */
function patchItems(items: Int32Array, W: number, L: number, h: number): Int32Array {
  const P = L - h + 1;
  const out = new Int32Array(W * P * h);
  for (let w = 0; w < W; w++) {
    for (let i = 0; i < P; i++) out.set(items.subarray(w * L + i, w * L + i + h), (w * P + i) * h);
  }
  return out;
}

/**
 * SASRec (Kang & McAuley, 2018), exactly as the PyTorch reference (SASRec.pytorch model.py):
 *
 *   E = item_emb(seq)·√d + pos_emb(pos),  pos = 1..L at items, 0 at padding;  E = dropout(E)
 *   per block (post-LN, default):  X = LN_a(X + MHA(X));  X = LN_f(X + FFN(X))
 *   per block (pre-LN, norm_first): X = X + MHA(LN_a(X));  X = X + FFN(LN_f(X))
 *   F = LN_last(X);  logit(i at t) = F_t · item_emb(i)
 *
 * MHA is causal multi-head self-attention with attention-probability dropout; FFN is two kernel-1
 * convolutions with ReLU and dropout. Padding positions are not masked out of the keys (the reference
 * does not), so they take part in attention exactly as in PyTorch.
 */
import * as init from '../engine/init.js';
import * as ops from '../engine/ops.js';
import { Rng } from '../engine/rng.js';
import { Tape, getTape, noGrad, setTape } from '../engine/tape.js';
import type { Parameter, Tensor } from '../engine/tensor.js';
import { shapeStr } from '../engine/tensor.js';
import type { HistoryBatch, Scorer } from '../eval/types.js';
import type { TrainBatch } from '../data/types.js';
import { getKernels } from '../kernels/index.js';
import { MultiheadAttention } from '../nn/attention.js';
import { PointWiseFeedForward } from '../nn/feedforward.js';
import { Dropout, Embedding, LayerNorm } from '../nn/layers.js';
import { Module, ModuleList } from '../nn/module.js';
import type { Adam } from '../optim/adam.js';

export interface SASRecConfig {
  itemNum: number;
  maxlen: number;
  hiddenUnits: number;
  numBlocks: number;
  numHeads: number;
  dropoutRate: number;
  /** pre-LN blocks (the reference's --norm_first) */
  normFirst?: boolean;
  /** weight of Σ item_emb² in the loss */
  l2Emb?: number;
}

export interface SASRecOptions {
  /** seeds initialisation and (forked) dropout when no rng is given; default 42 */
  seed?: number;
  /** initialisation randomness */
  rng?: Rng;
  /** dropout randomness (default: forked from rng) */
  dropoutRng?: Rng;
}

/** The rows the training forward needs (a TrainBatch satisfies it). */
export type SASRecBatch = Pick<TrainBatch, 'batchSize' | 'maxlen' | 'seqs' | 'pos' | 'neg'>;

export interface TensorEntry {
  shape: readonly number[];
  data: Float32Array;
}

const LN_EPS = 1e-8;

export class SASRec extends Module implements Scorer {
  readonly config: Readonly<Required<SASRecConfig>>;
  readonly itemNum: number;
  readonly maxlen: number;
  /** the stream dropout masks are drawn from (save/restore its state to resume a run exactly) */
  readonly dropoutRng: Rng;

  readonly itemEmb: Embedding;
  readonly posEmb: Embedding;
  readonly embDropout: Dropout;
  readonly attentionLayernorms: ModuleList<LayerNorm>;
  readonly attentionLayers: ModuleList<MultiheadAttention>;
  readonly forwardLayernorms: ModuleList<LayerNorm>;
  readonly forwardLayers: ModuleList<PointWiseFeedForward>;
  readonly lastLayernorm: LayerNorm;

  private readonly evalTape = new Tape();

  constructor(config: SASRecConfig, opts: SASRecOptions = {}) {
    super();
    const c = (this.config = { normFirst: false, l2Emb: 0, ...config });
    if (c.hiddenUnits % c.numHeads !== 0) throw new Error(`SASRec: num_heads ${c.numHeads} must divide hidden_units ${c.hiddenUnits}`);
    this.itemNum = c.itemNum;
    this.maxlen = c.maxlen;
    const rng = opts.rng ?? new Rng(opts.seed ?? 42);
    const drop = (this.dropoutRng = opts.dropoutRng ?? rng.fork());
    const d = c.hiddenUnits;

    this.itemEmb = this.addModule('item_emb', new Embedding(c.itemNum + 1, d, rng, 0));
    this.posEmb = this.addModule('pos_emb', new Embedding(c.maxlen + 1, d, rng, 0));
    this.embDropout = this.addModule('emb_dropout', new Dropout(c.dropoutRate, drop));
    const blocks = Array.from({ length: c.numBlocks }, () => ({
      attnNorm: new LayerNorm(d, LN_EPS),
      attn: new MultiheadAttention(d, c.numHeads, c.dropoutRate, rng, drop),
      ffnNorm: new LayerNorm(d, LN_EPS),
      ffn: new PointWiseFeedForward(d, c.dropoutRate, rng, drop),
    }));
    this.attentionLayernorms = this.addModule('attention_layernorms', new ModuleList(blocks.map((b) => b.attnNorm)));
    this.attentionLayers = this.addModule('attention_layers', new ModuleList(blocks.map((b) => b.attn)));
    this.forwardLayernorms = this.addModule('forward_layernorms', new ModuleList(blocks.map((b) => b.ffnNorm)));
    this.forwardLayers = this.addModule('forward_layers', new ModuleList(blocks.map((b) => b.ffn)));
    this.lastLayernorm = this.addModule('last_layernorm', new LayerNorm(d, LN_EPS));
    this.resetParameters(rng);
  }

  /**
   * The reference trainer's initialisation: xavier-normal on every parameter with ≥ 2 dimensions
   * (1-D ones keep their PyTorch defaults), then zero the padding rows of both embeddings.
   */
  resetParameters(rng: Rng): void {
    for (const [, p] of this.namedParameters()) if (p.shape.length >= 2) init.xavierNormal(p, rng);
    const d = this.config.hiddenUnits;
    this.itemEmb.weight.data.fill(0, 0, d);
    this.posEmb.weight.data.fill(0, 0, d);
  }

  /** Sequence features [B·L, d] for left-padded item ids seqs [B·L]. */
  log2feats(seqs: Int32Array, batchSize: number): Tensor {
    const len = seqs.length / batchSize;
    if (!Number.isInteger(len) || len > this.maxlen) {
      throw new Error(`SASRec: ${seqs.length} ids for batch ${batchSize} is not a length ≤ maxlen ${this.maxlen}`);
    }
    const d = this.config.hiddenUnits;
    const positions = new Int32Array(seqs.length);
    for (let b = 0; b < batchSize; b++) {
      for (let t = 0; t < len; t++) positions[b * len + t] = seqs[b * len + t] !== 0 ? t + 1 : 0;
    }
    let x = this.itemEmb.forward(seqs, [seqs.length], Math.sqrt(d));
    x = ops.add(x, this.posEmb.forward(positions));
    x = this.embDropout.forward(x);

    for (let i = 0; i < this.config.numBlocks; i++) {
      const attnNorm = this.attentionLayernorms.at(i);
      const attn = this.attentionLayers.at(i);
      const ffnNorm = this.forwardLayernorms.at(i);
      const ffn = this.forwardLayers.at(i);
      if (this.config.normFirst) {
        x = ops.add(x, attn.forward(attnNorm.forward(x), batchSize, len));
        x = ops.add(x, ffn.forward(ffnNorm.forward(x)));
      } else {
        x = attnNorm.forward(ops.add(x, attn.forward(x, batchSize, len)));
        x = ffnNorm.forward(ops.add(x, ffn.forward(x)));
      }
    }
    return this.lastLayernorm.forward(x);
  }

  /** Training forward: logits of the positive and negative item at every position, each [B, L]. */
  forward(batch: SASRecBatch): { posLogits: Tensor; negLogits: Tensor } {
    const { batchSize, seqs, pos, neg } = batch;
    const len = seqs.length / batchSize;
    const feats = this.log2feats(seqs, batchSize);
    const posEmbs = this.itemEmb.forward(pos);
    const negEmbs = this.itemEmb.forward(neg);
    const posLogits = ops.reshape(ops.rowDot(feats, posEmbs), [batchSize, len]);
    const negLogits = ops.reshape(ops.rowDot(feats, negEmbs), [batchSize, len]);
    return { posLogits, negLogits };
  }

  /** bench.py's loss: BCE over positions with pos ≠ 0 (positives + negatives) + l2_emb · Σ item_emb². */
  loss(batch: SASRecBatch): Tensor {
    const { posLogits, negLogits } = this.forward(batch);
    let loss = ops.bceWithLogitsMasked(posLogits, negLogits, batch.pos);
    if (this.config.l2Emb !== 0) loss = ops.add(loss, ops.scale(ops.sumSquares(this.itemEmb.weight), this.config.l2Emb));
    return loss;
  }

  /**
   * One training step: zero grads, loss, backward, optimiser step, tape reset. Returns the loss.
   * Tensors produced before the call are invalid afterwards (their buffers are recycled).
   */
  trainStep(batch: SASRecBatch, optimizer: Adam): number {
    this.train();
    optimizer.zeroGrad();
    const tape = getTape();
    tape.reset();
    const loss = this.loss(batch);
    const value = loss.item();
    tape.backward(loss);
    optimizer.step();
    tape.reset();
    return value;
  }

  /**
   * Scores candidates [B·C] from the last position (the reference's predict), in the current mode
   * (call eval() first for inference, as the reference does). Returns a fresh [B·C] array.
   */
  predict(logSeqs: Int32Array, batchSize: number, candidates: Int32Array, numCandidates: number): Float32Array {
    return this.withEvalTape(() => {
      const len = logSeqs.length / batchSize;
      const d = this.config.hiddenUnits;
      const C = numCandidates;
      if (candidates.length !== batchSize * C) throw new Error(`predict: ${candidates.length} candidates for ${batchSize}×${C}`);
      const feats = this.log2feats(logSeqs, batchSize);
      const cand = this.itemEmb.forward(candidates);
      const k = getKernels();
      const out = getTape().alloc(batchSize * C);
      for (let b = 0; b < batchSize; b++) {
        k.gemm(false, true, 1, C, d, 1, feats.data, (b * len + len - 1) * d, d, cand.data, b * C * d, d, 0, out, b * C, C);
      }
      return out.slice();
    });
  }

  scoreCandidates(batch: HistoryBatch, candidates: Int32Array, numCandidates: number): Float32Array {
    return this.inEvalMode(() => this.predict(batch.seqs, batch.batchSize, candidates, numCandidates));
  }

  scoreAll(batch: HistoryBatch): Float32Array {
    return this.inEvalMode(() =>
      this.withEvalTape(() => {
        const B = batch.batchSize;
        const len = batch.seqs.length / B;
        const d = this.config.hiddenUnits;
        const n = this.itemNum + 1;
        const feats = this.log2feats(batch.seqs, B);
        const out = getTape().alloc(B * n);
        // rows (b, len-1) of feats are the last positions: stride len·d
        getKernels().gemm(false, true, B, n, d, 1, feats.data, (len - 1) * d, len * d, this.itemEmb.weight.data, 0, d, 0, out, 0, n);
        return out.slice();
      }),
    );
  }

  /** Parameters by PyTorch state_dict key (live buffers, not copies). */
  stateDict(): Map<string, TensorEntry> {
    return new Map(this.namedParameters().map(([n, p]) => [n, { shape: [...p.shape], data: p.data }]));
  }

  /** Copies parameters in by name; every key must be present with the same shape and no extra keys. */
  loadStateDict(state: ReadonlyMap<string, TensorEntry>): void {
    const own = new Map<string, Parameter>(this.namedParameters());
    const problems: string[] = [];
    for (const [name, p] of own) {
      const e = state.get(name);
      if (!e) problems.push(`missing "${name}" ${shapeStr(p.shape)}`);
      else if (e.shape.length !== p.shape.length || e.shape.some((x, i) => x !== p.shape[i])) {
        problems.push(`"${name}": shape ${shapeStr(e.shape)} but the model has ${shapeStr(p.shape)}`);
      } else if (e.data.length !== p.size) problems.push(`"${name}": ${e.data.length} values for ${shapeStr(p.shape)}`);
    }
    for (const name of state.keys()) if (!own.has(name)) problems.push(`unexpected "${name}"`);
    if (problems.length > 0) throw new Error(`SASRec.loadStateDict: ${problems.join('; ')}`);
    for (const [name, p] of own) p.data.set(state.get(name)!.data.subarray(0, p.size));
  }

  private inEvalMode<T>(fn: () => T): T {
    const was = this.training;
    this.eval();
    try {
      return fn();
    } finally {
      this.train(was);
    }
  }

  /** Runs fn without recording, on a private tape whose buffers are recycled afterwards. */
  private withEvalTape<T>(fn: () => T): T {
    const prev = setTape(this.evalTape);
    try {
      return noGrad(fn);
    } finally {
      this.evalTape.reset();
      setTape(prev);
    }
  }
}

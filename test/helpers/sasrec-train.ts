/** The short SASRec training run that the backend / thread agreement tests compare. */
import { Rng } from '../../src/engine/rng.js';
import { SASRec, type SASRecConfig } from '../../src/models/sasrec/sasrec.js';
import { Adam } from '../../src/optim/adam.js';
import { leftPaddedBatch } from './batches.js';
import { trainStep } from '../../src/learn/step.js';

export interface SASRecRun {
  losses: number[];
  /** a copy of every parameter after the last step, by name */
  params: Map<string, Float32Array>;
  /** predict() scores of 6 candidates for 3 rows of lengths [4, maxlen, 0] */
  scores: Float32Array;
}

/**
 * On whatever kernels and tape are current: a SASRec (seed 5) trained `steps` Adam steps (lr 0.01,
 * betas 0.9/0.98) on left-padded random batches with the given row lengths (Rng 11, items and maxlen
 * from cfg), then switched to eval mode to score candidates 1 + (7i mod itemNum) for 3 fresh rows.
 */
export function trainSASRecAndPredict(cfg: SASRecConfig, steps: number, lengths: number[]): SASRecRun {
  const model = new SASRec(cfg, { seed: 5 });
  const adam = new Adam(model.namedParameters(), { lr: 0.01, betas: [0.9, 0.98] });
  const rng = new Rng(11);
  const batch = (rows: number[]) => leftPaddedBatch(rows, rng, cfg.maxlen, cfg.itemNum);
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) losses.push(trainStep(model, adam, batch(lengths)));
  const params = new Map(model.namedParameters().map(([n, p]) => [n, p.data.slice()] as const));
  model.eval();
  const b = batch([4, cfg.maxlen, 0]);
  const cand = Int32Array.from({ length: 3 * 6 }, (_, i) => 1 + ((i * 7) % cfg.itemNum));
  const scores = model.predict(b.seqs, 3, cand, 6).slice();
  return { losses, params, scores };
}

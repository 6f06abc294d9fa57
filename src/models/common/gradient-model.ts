/**
 * What the specs of the next-item networks share at both ends of a model's life: its training batches
 * (the sampler, with the negatives its loss asks for) and reading it back from its model file.
 */
import type { ClozeOptions } from '../../data/sampler.js';
import { TrainSampler } from '../../data/sampler.js';
import type { Split } from '../../data/types.js';
import type { Rng } from '../../engine/rng.js';
import type { Scorer } from '../../eval/types.js';
import type { NegativeSampling } from '../../losses/index.js';
import type { Module } from '../../nn/module.js';
import type { BatchSettings, TrainingRecord } from '../contract.js';
import { catalogFromCheckpoint, withWeights } from './catalog.js';
import { trainingRecordOf } from './checkpoint-config.js';
import type { LoadedCheckpoint } from './checkpoint-format.js';
import { NetworkModel } from './network-model.js';

/** The batches of `split` in rows of `maxlen`, drawn from `rng`, with the negatives `loss` asks for (cloze rows when given). */
export function lossSampler(
  split: Split,
  batches: BatchSettings,
  maxlen: number,
  rng: Rng,
  loss: NegativeSampling,
  cloze?: ClozeOptions,
): TrainSampler {
  return new TrainSampler(split, {
    ...batches,
    maxlen,
    rng,
    negatives: loss.negatives,
    sharedNegatives: loss.sharedNegatives,
    ...(cloze ? { cloze } : {}),
  });
}

/**
 * The model `name` in `ckpt` over items 1..itemNum: its training record and catalogue are read (and
 * checked) before `build` makes the network, so a refused file takes no wasm memory; then the file's
 * weights go into it. `metadata` gives the model's `config` from the record.
 */
export function loadNetworkModel<N extends Module & Scorer>(
  name: string,
  ckpt: LoadedCheckpoint,
  itemNum: number,
  build: () => N,
  metadata: (record: TrainingRecord) => Record<string, unknown>,
  extraMetadata?: () => Record<string, string>,
): NetworkModel<N> {
  const record = trainingRecordOf(ckpt);
  const catalog = catalogFromCheckpoint(ckpt, itemNum);
  return new NetworkModel(name, withWeights(build(), ckpt.tensors), metadata(record), catalog, extraMetadata);
}

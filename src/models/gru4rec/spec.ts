/**
 * `--model gru4rec` (Hidasi et al., ICLR 2016) and `--model gru4rec+` (Hidasi & Karatzoglou, CIKM 2018):
 * one network (gru4rec.ts) trained on session-parallel batches (data/session-parallel.ts) with a
 * ranking loss (losses/session-ranking.ts); the two differ in their defaults (options.ts).
 */
import { SessionParallelSource } from '../../data/session-parallel.js';
import { sessionRankingLoss } from '../../losses/session-ranking.js';
import type { ModelSpec, TrainingRecord } from '../contract.js';
import { catalogOf } from '../common/catalog.js';
import { decodeCheckpoint } from '../common/checkpoint-format.js';
import { loadNetworkModel } from '../common/gradient-model.js';
import { NetworkModel } from '../common/network-model.js';
import { gru4recMetadata, gru4recOptionsOf, looksLikeGRU4Rec } from './checkpoint.js';
import { GRU4Rec } from './gru4rec.js';
import {
  activationOf,
  GRU4REC_PLUS_TRAINING,
  GRU4REC_TRAINING,
  gru4recOptions,
  gru4recPlusOptions,
  networkConfig,
  type GRU4RecOptions,
} from './options.js';

/** The ranking loss the options ask for. */
function lossOf(o: GRU4RecOptions) {
  return sessionRankingLoss({ kind: o.gruLoss, samples: o.nSample, activation: activationOf(o.finalAct), bpreg: o.bpreg });
}

function describe(o: GRU4RecOptions): string {
  const reg = o.gruLoss === 'bpr_max' ? ` (λ ${o.bpreg})` : '';
  return `d ${o.hiddenUnits}, dropout ${o.dropoutRate}, loss ${o.gruLoss}${reg}, final ${o.finalAct}, maxlen ${o.maxlen}`;
}

function gru4recSpec(
  name: string,
  description: string,
  fileName: string,
  options: typeof gru4recOptions,
  trainingDefaults: Partial<TrainingRecord>,
): ModelSpec<typeof gru4recOptions.options> {
  return {
    name,
    description,
    fileName,
    options,
    learning: {
      kind: 'gradient',
      trainingDefaults,
      build(split, o, rng, batches, record) {
        const cfg = networkConfig(o, split.data.itemNum);
        const network = new GRU4Rec(cfg, { rng: rng.fork(), loss: lossOf(o) });
        const sampler = new SessionParallelSource(split, {
          batchSize: batches.batchSize,
          rng: rng.fork(),
          samples: o.nSample,
          sampleAlpha: o.sampleAlpha,
        });
        return {
          network,
          sampler,
          model: new NetworkModel(name, network, gru4recMetadata(name, cfg, o, record), catalogOf(split, false)),
          summary: `${name === 'gru4rec' ? 'GRU4Rec' : 'GRU4Rec+'}: ${describe(o)}`,
        };
      },
    },
    sniff: (bytes) => looksLikeGRU4Rec(name, bytes),
    load(bytes, overrides = {}) {
      const ckpt = decodeCheckpoint(bytes);
      const { options: o, itemNum } = gru4recOptionsOf(options, ckpt, overrides);
      const cfg = networkConfig(o, itemNum);
      return loadNetworkModel(
        name,
        ckpt,
        itemNum,
        () => new GRU4Rec(cfg, { seed: 0, loss: lossOf(o) }),
        (record) => gru4recMetadata(name, cfg, o, record),
      );
    },
  };
}

export const gru4rec = gru4recSpec(
  'gru4rec',
  'GRU4Rec (Hidasi et al., 2016): a GRU over the item sequence, session-parallel mini-batches, TOP1/BPR against the mini-batch',
  'gru4rec.safetensors',
  gru4recOptions,
  GRU4REC_TRAINING,
);

export const gru4recPlus = gru4recSpec(
  'gru4rec+',
  'GRU4Rec+ (Hidasi & Karatzoglou, 2018): GRU4Rec with BPR-max and 2048 additional negatives shared by the mini-batch',
  'gru4rec_plus.safetensors',
  gru4recPlusOptions,
  GRU4REC_PLUS_TRAINING,
);

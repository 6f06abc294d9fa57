/**
 * `--model tisasrec`: TiSASRec and its mHC variant, trained by gradient on the reference's sampler
 * over TiSASRec's scaled times.
 *
 * Times: the dataset's raw timestamps are turned into TiSASRec's scaled times by a transform fitted on
 * the whole dataset (data/time.ts: relative to the global minimum, per user divided by the user's
 * smallest non-zero gap, rounded, +1; optionally after dividing by --time_unit). The sampler draws
 * from the scaled split; the evaluation code hands the raw times of the split to the model's Scorer,
 * which applies the same transform (fitted per user), so evaluation sees exactly what the reference's
 * evaluate() sees. The model file stores the transform, the users' histories and their raw times, so
 * `eval` and `recommend --user` reproduce it.
 */
import { UserError } from '../../core/errors.js';
import { fitTimeScaling, scaleSplitTimes, TIME_UNITS } from '../../data/time.js';
import { describeLoss, lossFor } from '../../losses/index.js';
import type { ModelSpec } from '../contract.js';
import { catalogFromCheckpoint, catalogOf, withWeights } from '../common/catalog.js';
import { decodeCheckpoint } from '../common/checkpoint-format.js';
import { trainingRecordOf } from '../common/checkpoint-config.js';
import { describeMHC } from '../common/mhc-options.js';
import { lossSampler } from '../common/gradient-model.js';
import { NetworkModel } from '../common/network-model.js';
import { looksLikeTiSASRec, scalingToJson, timeScalingOf, tisasrecMetadata, tisasrecOptionsOf } from './checkpoint.js';
import { networkConfig, tisasrecOptions } from './options.js';
import { TiSASRec } from './tisasrec.js';

function timeMetadata(network: TiSASRec): () => Record<string, string> {
  return (): Record<string, string> => (network.timeScaling ? { time_scaling: scalingToJson(network.timeScaling) } : {});
}

export const tisasrec: ModelSpec<typeof tisasrecOptions.options> = {
  name: 'tisasrec',
  description: 'TiSASRec (Li, Wang & McAuley, 2020): self-attention with absolute positions and relative time intervals',
  fileName: 'tisasrec.safetensors',
  options: tisasrecOptions,

  learning: {
    kind: 'gradient',
    check(split) {
      if (!split.trainTimes || !split.data.times) {
        throw new UserError(
          '--model tisasrec: the dataset file has no timestamps (TiSASRec needs "user item time" lines, or --time_col for CSV/TSV/JSONL)',
        );
      }
    },
    build(split, options, rng, batches, record) {
      const cfg = networkConfig(options, split.data.itemNum);
      const loss = lossFor(options, cfg.itemNum);
      const scaling = fitTimeScaling(split.data, TIME_UNITS[options.timeUnit]);
      const network = new TiSASRec(cfg, { rng: rng.fork(), loss });
      network.timeScaling = scaling;
      const sampler = lossSampler(scaleSplitTimes(split, scaling), batches, cfg.maxlen, rng.fork(), loss);
      return {
        network,
        sampler,
        model: new NetworkModel('tisasrec', network, tisasrecMetadata(cfg, options, record), catalogOf(split, true), timeMetadata(network)),
        summary:
          `TiSASRec: d ${cfg.hiddenUnits}, ${cfg.numBlocks} blocks, ${cfg.numHeads} heads, maxlen ${cfg.maxlen}, time_span ${cfg.timeSpan}, ` +
          `time_unit ${options.timeUnit}, dropout ${cfg.dropoutRate}, l2_emb ${cfg.l2Emb}` +
          describeMHC(cfg.mhc) +
          describeLoss(options),
      };
    },
  },

  sniff: looksLikeTiSASRec,

  load(bytes, overrides = {}) {
    const ckpt = decodeCheckpoint(bytes);
    const { options, itemNum } = tisasrecOptionsOf(ckpt, overrides);
    const cfg = networkConfig(options, itemNum);
    const record = trainingRecordOf(ckpt);
    // everything that can refuse the file comes before the network: a refused file takes no wasm memory
    const catalog = catalogFromCheckpoint(ckpt, itemNum);
    const timeScaling = timeScalingOf(ckpt);
    const network = withWeights(new TiSASRec(cfg, { seed: 0 }), ckpt.tensors);
    if (timeScaling) network.timeScaling = timeScaling;
    return new NetworkModel('tisasrec', network, tisasrecMetadata(cfg, options, record), catalog, timeMetadata(network));
  },
};

/**
 * Training a gradient model in a page (or its Web Worker) on an interaction file's text: the same
 * options, split, loop and model selection as `seqrec train` in Node (learn/), so a fixed seed gives
 * the same losses and the same model file, which Node's `seqrec eval` reads.
 */
import { quote, UserError } from '../core/errors.js';
import { asKey, unreadKeys } from '../core/options.js';
import { leaveOneOut, requireEvaluableUsers } from '../data/split.js';
import { parseInteractionText } from '../data/text.js';
import type { Split } from '../data/types.js';
import { releaseScratchPools } from '../engine/tape.js';
import { evalOptions, seedOptions } from '../eval/options.js';
import { runRngs } from '../eval/run.js';
import { buildNetwork } from '../learn/build.js';
import { trainNetwork } from '../learn/loop.js';
import { trainingOptionsFor } from '../learn/options.js';
import { ModelSelection } from '../learn/selection.js';
import { MemoryStore } from '../learn/store.js';
import { getModel, modelNames } from '../models/registry.js';
import { initKernels, type KernelOptions, type KernelsInfo } from './kernels.js';

/**
 * Options by their library names (camelCase or snake_case): model (default sasrec), seed, the
 * model's and the loop's; `kernels`: the threads to train on (see initKernels).
 */
export interface BrowserTrainOptions {
  readonly model?: string;
  readonly seed?: number;
  readonly kernels?: KernelOptions;
  readonly [option: string]: unknown;
}

/** Progress of a run: every few steps inside an epoch, and once after each epoch (with valid when evaluated). */
export interface TrainProgress {
  readonly epoch: number;
  readonly numEpochs: number;
  readonly step: number;
  readonly stepsPerEpoch: number;
  /** mean training loss of the epoch so far */
  readonly loss: number;
  /** true on the report after an epoch */
  readonly epochDone: boolean;
  /** valid NDCG@10 (the selection metric), on an epoch's report when it was evaluated */
  readonly validNdcg?: number;
}

/** What a run returns: the best model's file (safetensors, as Node writes it) and the per-epoch log. */
export interface TrainedModel {
  readonly bytes: Uint8Array;
  readonly epochs: ReadonlyArray<{ epoch: number; loss: number; valid?: Readonly<Record<string, number>> }>;
  readonly log: readonly string[];
  /** The kernels it trained with (threads, calls split across them). */
  readonly kernels: KernelsInfo;
}

/** The split `seqrec train --dataset <file>` makes by default (leave-one-out), refusing a file with nobody to evaluate. */
function splitOf(data: Awaited<ReturnType<typeof parseInteractionText>>, name: string): Split {
  const split = leaveOneOut(data);
  requireEvaluableUsers(split, name);
  return split;
}

/** Trains on `text` (the file `fileName`, whose name may pick its format) in this thread. */
export async function trainFromText(
  text: string,
  fileName: string,
  options: BrowserTrainOptions = {},
  onProgress?: (p: TrainProgress) => void,
): Promise<TrainedModel> {
  const { model: name = 'sasrec', kernels: kernelOptions, ...raw } = options;
  const spec = getModel(name);
  if (spec?.learning.kind !== 'gradient') {
    const able = modelNames().filter((n) => getModel(n)?.learning.kind === 'gradient');
    throw new UserError(`model ${quote(name)}: ${spec ? 'is not trained by gradient' : 'unknown'} (models trained in a page: ${able.join(', ')})`);
  }
  const trainingGroup = trainingOptionsFor(spec);
  const unread = unreadKeys(raw, [spec.options, trainingGroup, evalOptions, seedOptions]);
  if (unread.length > 0) throw new UserError(`model ${spec.name} does not read ${unread.map(asKey).join(', ')}`);
  const modelOptions = spec.options.parse(raw, asKey);
  // batches are drawn on this thread: a page has no sampling thread
  const training = { ...trainingGroup.parse(raw, asKey), numWorkers: 0 };
  const evaluation = evalOptions.parse(raw, asKey);
  const { seed } = seedOptions.parse(raw, asKey);

  await initKernels(kernelOptions);
  const split = splitOf(await parseInteractionText(text, fileName), fileName);
  spec.learning.check?.(split, modelOptions);
  const store = new MemoryStore();
  const log: string[] = [];
  const say = (line: string) => log.push(line);
  const selection = new ModelSelection(spec, store, split, evaluation, seed, training);
  const setup = buildNetwork(spec, split, modelOptions, training, runRngs(seed).train);
  const stepsPerEpoch = setup.sampler.batchesPerEpoch;
  let epoch = 1;
  try {
    const trained = await trainNetwork(setup, training, {
      log: say,
      progress: (done, _total, _label, info) =>
        onProgress?.({ epoch, numEpochs: training.numEpochs, step: done, stepsPerEpoch, loss: info?.loss ?? Number.NaN, epochDone: false }),
      onEpoch: async (info) => {
        const stop = await selection.onEpoch(info, say);
        const valid = store.log[store.log.length - 1]?.valid as Record<string, number> | undefined;
        const ndcg = valid?.[`NDCG@${selection.k}`];
        onProgress?.({
          epoch: info.epoch,
          numEpochs: training.numEpochs,
          step: stepsPerEpoch,
          stepsPerEpoch,
          loss: info.loss,
          epochDone: true,
          ...(ndcg !== undefined ? { validNdcg: ndcg } : {}),
        });
        epoch = info.epoch + 1;
        return stop;
      },
    });
    const best = await selection.finish(trained, say);
    if (best !== trained) trained.dispose();
    best.dispose();
  } finally {
    releaseScratchPools();
  }
  return {
    bytes: await store.loadBest(),
    epochs: store.log.map((l) => ({
      epoch: l.epoch as number,
      loss: l.loss as number,
      ...(l.valid ? { valid: l.valid as Record<string, number> } : {}),
    })),
    log,
    kernels: await initKernels(),
  };
}

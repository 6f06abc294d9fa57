/**
 * The epoch loop shared by the neural models: sample a batch, take a step, report progress, and hand
 * the model to the caller after every epoch (evaluation, best checkpoint, early stopping).
 */
import type { TrainBatch } from '../data/types.js';
import type { TrainSampler } from '../data/sampler.js';
import type { TrainedModel, TrainHooks } from '../models/registry.js';
import type { Adam } from '../optim/adam.js';

export interface SteppableModel {
  trainStep(batch: TrainBatch, optimizer: Adam): number;
}

export interface LoopSettings {
  readonly numEpochs: number;
  /** steps per epoch; the reference's (users − 1) // batch_size + 1 */
  readonly stepsPerEpoch: number;
}

export interface EpochRecord {
  epoch: number;
  loss: number;
  seconds: number;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

export async function runEpochs(
  model: SteppableModel,
  optimizer: Adam,
  sampler: TrainSampler,
  settings: LoopSettings,
  hooks: TrainHooks,
  snapshot: () => TrainedModel,
): Promise<EpochRecord[]> {
  const history: EpochRecord[] = [];
  let batch: TrainBatch | undefined;
  for (let epoch = 1; epoch <= settings.numEpochs; epoch++) {
    const t0 = performance.now();
    let lossSum = 0;
    const label = `epoch ${epoch}/${settings.numEpochs}`;
    for (let step = 0; step < settings.stepsPerEpoch; step++) {
      batch = sampler.nextBatch(batch);
      const loss = model.trainStep(batch, optimizer);
      if (!Number.isFinite(loss)) {
        throw new Error(`training diverged: loss is ${loss} at epoch ${epoch}, step ${step + 1} (try a lower --lr)`);
      }
      lossSum += loss;
      if (hooks.progress && ((step & 7) === 7 || step + 1 === settings.stepsPerEpoch)) {
        const seconds = (performance.now() - t0) / 1000;
        hooks.progress(step + 1, settings.stepsPerEpoch, label, {
          loss: lossSum / (step + 1),
          lr: optimizer.lr,
          stepsPerSecond: (step + 1) / seconds,
        });
      }
    }
    const record = { epoch, loss: lossSum / settings.stepsPerEpoch, seconds: (performance.now() - t0) / 1000 };
    history.push(record);
    hooks.log?.(`${label}: loss ${record.loss.toFixed(4)}, ${record.seconds.toFixed(2)} s (${(settings.stepsPerEpoch / record.seconds).toFixed(1)} steps/s)`);
    const stop = await hooks.onEpoch?.({ epoch, loss: record.loss, model: snapshot(), last: epoch === settings.numEpochs });
    if (stop === true) break;
    await yieldToEventLoop();
  }
  return history;
}

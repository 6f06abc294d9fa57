/** Training in a Web Worker, so the page stays responsive: the page's side of train-worker.ts. */
import { UserError } from '../core/errors.js';
import type { BrowserTrainOptions, TrainedModel, TrainProgress } from './train.js';

export interface TrainRequest {
  readonly text: string;
  readonly fileName: string;
  readonly options: BrowserTrainOptions;
}

export type WorkerMessage =
  | { readonly type: 'progress'; readonly progress: TrainProgress }
  | { readonly type: 'done'; readonly result: TrainedModel }
  | { readonly type: 'error'; readonly message: string };

/**
 * Trains on an interaction file's text in a new Web Worker (train-worker.js, by default beside this
 * bundle), reporting progress; resolves to the model file's bytes and the epochs' log. Errors reject
 * as one-line UserErrors.
 */
export function trainInWorker(
  text: string,
  fileName: string,
  options: BrowserTrainOptions = {},
  onProgress?: (p: TrainProgress) => void,
  workerUrl: string | URL = new URL('./train-worker.js', import.meta.url),
): Promise<TrainedModel> {
  const worker = new Worker(workerUrl, { type: 'module' });
  return new Promise<TrainedModel>((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<WorkerMessage>) => {
      const m = e.data;
      if (m.type === 'progress') return onProgress?.(m.progress);
      worker.terminate();
      if (m.type === 'done') resolve(m.result);
      else reject(new UserError(m.message));
    };
    worker.onerror = (e) => {
      worker.terminate();
      reject(new UserError(`the training worker failed: ${e.message}`));
    };
    worker.postMessage({ text, fileName, options } satisfies TrainRequest);
  });
}

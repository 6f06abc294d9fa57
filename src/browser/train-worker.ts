/**
 * The Web Worker that trains for trainInWorker (worker.ts): one request, progress messages while it
 * trains, then the trained model or the error's line. Bundled to train-worker.js beside seqrec.js.
 */
import { trainFromText } from './train.js';
import type { TrainRequest, WorkerMessage } from './worker.js';

const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent<TrainRequest>) => void) | null;
  postMessage(message: WorkerMessage): void;
};

scope.onmessage = async (e) => {
  const { text, fileName, options } = e.data;
  try {
    const result = await trainFromText(text, fileName, options, (progress) => scope.postMessage({ type: 'progress', progress }));
    scope.postMessage({ type: 'done', result });
  } catch (err) {
    scope.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  }
};

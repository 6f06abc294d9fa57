/**
 * The workload bench/browser.ts times on both sides, the same code in Node and (bundled) in Chromium:
 * SASRec training steps on an interaction file's text (the shared loop's step: learn/step.ts), then
 * top-10 recommendations for histories of the trained model. Kernels are the caller's (wasm, one thread).
 */
import { asKey } from '../src/core/options.js';
import { leaveOneOut } from '../src/data/split.js';
import { parseInteractionText } from '../src/data/text.js';
import { recommendTopK } from '../src/eval/recommend.js';
import { runRngs } from '../src/eval/run.js';
import { buildNetwork } from '../src/learn/build.js';
import { makeOptimizer } from '../src/learn/optimizer.js';
import { trainingOptionsFor } from '../src/learn/options.js';
import { trainStep } from '../src/learn/step.js';
import { getModel } from '../src/models/registry.js';
import type { TrainBatch } from '../src/data/types.js';
import { getKernels } from '../src/kernels/index.js';

export interface WorkloadResult {
  /** median milliseconds of one training step */
  readonly msPerStep: number;
  /** median over users of the mean milliseconds of one top-10 for the user's history */
  readonly msPerHistory: number;
  readonly stepsTimed: number;
  /** the kernel backend that ran it */
  readonly kernels: string;
  readonly users: number;
  readonly items: number;
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];

export async function runWorkload(
  text: string,
  name: string,
  options: Record<string, unknown>,
  steps: number,
  histories: number,
  reps: number,
): Promise<WorkloadResult> {
  const spec = getModel('sasrec');
  if (!spec) throw new Error('no sasrec');
  const training = trainingOptionsFor(spec).parse(options, asKey);
  const split = leaveOneOut(await parseInteractionText(text, name));
  const setup = buildNetwork(spec, split, spec.options.parse(options, asKey), training, runRngs(42).train);
  const optimizer = makeOptimizer(setup.network.namedParameters(), training);
  let batch: TrainBatch | undefined;
  const msPerStep: number[] = [];
  for (let s = 0; s < steps + 3; s++) {
    batch = setup.sampler.nextBatch(batch) as TrainBatch;
    const t = performance.now();
    trainStep(setup.network, optimizer, batch);
    if (s >= 3) msPerStep.push(performance.now() - t); // the first steps warm the kernels' scratch
  }
  optimizer.dispose();
  setup.network.eval();
  const scorer = setup.model.scorer;
  const msPerHistory: number[] = [];
  for (let u = 1; u <= histories && u <= split.data.userNum; u++) {
    const items = split.train[u];
    recommendTopK(scorer, { items }, 10);
    const t = performance.now();
    for (let r = 0; r < reps; r++) recommendTopK(scorer, { items }, 10);
    msPerHistory.push((performance.now() - t) / reps);
  }
  setup.model.dispose();
  return {
    msPerStep: median(msPerStep),
    msPerHistory: median(msPerHistory),
    stepsTimed: steps,
    kernels: getKernels().name,
    users: split.data.userNum,
    items: split.data.itemNum,
  };
}

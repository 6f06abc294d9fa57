/**
 * seqrec's side of the item-item benchmark (issue 18): the fit time of EASE and SLIM on a dataset's
 * leave-one-out train sets, in-process (the data loaded and split first, not timed), and the train
 * sets and the fitted weights written to --export so that bench/reference-linear.py fits numpy's EASE
 * and scikit-learn's SLIM on exactly the same matrix and compares the weights.
 *
 *   node --import tsx bench/linear-seqrec.ts --dataset F [--models ease,slim] [--threads 1]
 *        [--min_count 0] [--ease_l2 500] [--slim_l1 1] [--slim_l2 10] [--export DIR]
 *
 * Prints `RESULT_JSON {...}`: items, users, and per model the fit seconds (wall) and its weights' size.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSplit } from '../src/data/options.js';
import { getKernels } from '../src/kernels/index.js';
import type { WasmKernels } from '../src/kernels/wasm/index.js';
import { useWasmKernels } from '../src/kernels/wasm/install.js';
import { startThreadPool } from '../src/kernels/wasm/pool-start.js';
import { trainItemSets } from '../src/models/common/item-item.js';
import { fitEase } from '../src/models/ease/ease.js';
import { fitSlim } from '../src/models/slim/slim.js';
import { TaskPool } from '../src/train/tasks.js';
import { arg } from './args.js';

const dataset = arg('dataset', '');
if (!dataset) {
  console.error('usage: bench/linear-seqrec.ts --dataset F [--models ease,slim] [--threads 1] [--export DIR]');
  process.exit(2);
}
const models = arg('models', 'ease,slim').split(',');
const threads = Number(arg('threads', '1'));
const minCount = Number(arg('min_count', '0'));
const easeL2 = Number(arg('ease_l2', '500'));
const slim = { l1: Number(arg('slim_l1', '1')), l2: Number(arg('slim_l2', '10')), maxIter: 100, tol: 1e-4, topk: 0 };
const exportDir = arg('export', '');

useWasmKernels();
const pool = threads > 1 ? await startThreadPool(getKernels() as WasmKernels, threads) : null;
const { data, split } = await loadSplit({ dataset, minUserCount: minCount, minItemCount: minCount } as Parameters<typeof loadSplit>[0]);
const sets = trainItemSets(split);
const out: Record<string, unknown> = { dataset, users: data.userNum, items: data.itemNum, nnz: sets.items.length, threads };
if (exportDir) {
  mkdirSync(exportDir, { recursive: true });
  writeFileSync(
    join(exportDir, 'train.json'),
    JSON.stringify({ itemNum: data.itemNum, indptr: Array.from(sets.indptr), items: Array.from(sets.items) }),
  );
}

if (models.includes('ease')) {
  const t0 = performance.now();
  const scorer = fitEase(split, { l2: easeL2 });
  out.ease_fit_s = (performance.now() - t0) / 1000;
  out.ease_l2 = easeL2;
  // the reference compares B up to 10,000 items (bench/run.ts), and one write takes at most 2 GiB
  if (exportDir && data.itemNum <= 10_000) writeFileSync(join(exportDir, 'ease-B.f32'), scorer.weights);
}

if (models.includes('slim')) {
  const tasks = new TaskPool(threads);
  const t0 = performance.now();
  const scorer = await fitSlim(split, slim, undefined, tasks);
  out.slim_fit_s = (performance.now() - t0) / 1000;
  out.slim_nnz = scorer.W.cols.length;
  out.slim_l1 = slim.l1;
  out.slim_l2 = slim.l2;
  await tasks.close();
  if (exportDir) {
    const W = scorer.W;
    writeFileSync(
      join(exportDir, 'slim-W.json'),
      JSON.stringify({ indptr: Array.from(W.indptr), cols: Array.from(W.cols), vals: Array.from(W.vals) }),
    );
  }
}
await pool?.close();
console.log(`RESULT_JSON ${JSON.stringify(out)}`);

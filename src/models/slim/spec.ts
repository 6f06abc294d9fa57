/** `--model slim`: SLIM (Ning & Karypis 2011), fitted by coordinate descent per column. */
import { defineOptions, int, num } from '../../core/options.js';
import type { ModelSpec } from '../contract.js';
import { checkMemory, trainItemSets } from '../common/item-item.js';
import { gramNonZerosBound, looksLikeSlim, SlimModel } from './slim.js';

export const slimOptions = defineOptions({
  l1: num({ help: 'L1 penalty λ of λ‖W‖₁ (Ning & Karypis 2011)', default: 1, min: 0 }),
  l2: num({ help: 'L2 penalty β of (β/2)‖W‖²_F (Ning & Karypis 2011)', default: 10, min: 0 }),
  max_iter: int({ help: 'coordinate-descent sweeps per column, at most', default: 100, min: 1, max: 1_000_000 }),
  tol: num({ help: 'a column stops when a sweep moves no weight by more than tol·max|w|', default: 1e-4, above: 0 }),
  slim_topk: int({
    help: "pre-select each column's k most co-occurring items (0: all; for big catalogues, approximate)",
    default: 0,
    min: 0,
  }),
  memory_gb: num({ help: 'memory the fit may use (GB): a fit estimated above it is refused before it starts', default: 16, above: 0 }),
});

export const slim: ModelSpec<typeof slimOptions.options> = {
  name: 'slim',
  description: 'SLIM (Ning & Karypis 2011): sparse non-negative item-item weights, elastic net by coordinate descent',
  fileName: 'slim.safetensors',
  options: slimOptions,
  learning: {
    kind: 'fit',
    check(split, options) {
      const nnz = gramNonZerosBound(trainItemSets(split));
      const n = split.data.itemNum;
      const w = options.slimTopk > 0 ? Math.min(nnz, n * options.slimTopk) : nnz;
      checkMemory('slim', 8 * nnz + 16 * w + 64 * n, options.memoryGb, `${nnz.toLocaleString('en-US')} co-occurrences in AᵀA`);
    },
    fit(split, options, { log, tasks }) {
      log?.(
        `SLIM: l1 ${options.l1}, l2 ${options.l2}, max_iter ${options.maxIter}, tol ${options.tol}${options.slimTopk ? `, top-${options.slimTopk} neighbours` : ''}, ${split.data.itemNum} items`,
      );
      return SlimModel.fit(split, { l1: options.l1, l2: options.l2, maxIter: options.maxIter, tol: options.tol, topk: options.slimTopk }, log, tasks);
    },
  },
  sniff: looksLikeSlim,
  load: (bytes) => SlimModel.parse(bytes),
};

/** `--model ease`: EASE (Steck 2019), fitted in closed form. */
import { UserError } from '../../core/errors.js';
import { defineOptions, num } from '../../core/options.js';
import type { ModelSpec } from '../contract.js';
import { checkMemory } from '../common/item-item.js';
import { EaseModel, easeMemoryBytes, looksLikeEase } from './ease.js';

export const easeOptions = defineOptions({
  l2: num({
    help: 'L2 penalty λ of ‖B‖²_F (Steck 2019 used 500 on ML-20M, 3000 on Netflix, 200 on MSD)',
    default: 500,
    above: 0,
  }),
  memory_gb: num({
    help: 'memory the fit may use (GB): a fit estimated above it is refused before it starts',
    default: 16,
    above: 0,
  }),
});

export const ease: ModelSpec<typeof easeOptions.options> = {
  name: 'ease',
  description: 'EASE (Steck 2019): closed-form item-item autoencoder, B = I − P·diag(1/diag P), P = (XᵀX + λI)⁻¹',
  fileName: 'ease.safetensors',
  options: easeOptions,
  learning: {
    kind: 'fit',
    check(split, options) {
      const n = split.data.itemNum;
      const need = easeMemoryBytes(n);
      checkMemory('ease', need.fit + 2 * need.file, options.memoryGb, `dense ${n.toLocaleString('en-US')}² item-item floats`);
      if (need.file >= 2 ** 31 - 2 ** 24) {
        throw new UserError(
          `--model ease: ${n.toLocaleString('en-US')} items give a ${(need.file / 1e9).toFixed(1)} GB model file, above the 2 GiB a file write takes; reduce the catalogue (--min_item_count)`,
        );
      }
    },
    fit(split, options, { log }) {
      const n = split.data.itemNum;
      log?.(`EASE: λ ${options.l2}, ${n} items: inverting XᵀX + λI (${(easeMemoryBytes(n).fit / 1e9).toFixed(2)} GB)`);
      return EaseModel.fit(split, { l2: options.l2 }, log);
    },
  },
  sniff: looksLikeEase,
  load: (bytes) => EaseModel.parse(bytes),
};

/** `--model neumf`: Neural Collaborative Filtering's NeuMF (He et al., WWW 2017), trained by the log loss with sampled negatives. */
import { defineOptions, str } from '../../core/options.js';
import { factorModelSpec, factorOptions, pointwiseOptions } from '../common/factor-model.js';
import { parseSizes, sizesOf } from '../common/layer-sizes.js';
import { NeuMF } from './neumf.js';

const LAYERS_EXPECTED = 'expected at least two positive integers, the first even (e.g. 64,32,16,8)';

/** A tower: the concatenated embeddings (even: a user half and an item half), then at least one layer. */
const isTower = (sizes: number[]) => sizes.length >= 2 && sizes[0] % 2 === 0;

export const neumfOptions = factorOptions
  .with(pointwiseOptions)
  .with(
    defineOptions({
      mlp_layers: str({
        help: "NeuMF's MLP tower, comma-separated: the concatenated user and item MLP embeddings (even), then each layer's size (the paper: 64,32,16,8)",
        default: '64,32,16,8',
        arg: 'sizes',
      }),
    }),
  )
  .withDefaults({ hiddenUnits: 8, l2Reg: 0 })
  .rule((c) => {
    const sizes = parseSizes(c.mlpLayers);
    return sizes && isTower(sizes) ? undefined : ['mlp_layers', LAYERS_EXPECTED];
  });

/** "64,32,16,8" → [64, 32, 16, 8]; anything else is a UserError naming the flag. */
export function mlpLayers(text: string): number[] {
  return sizesOf('mlp_layers', text, LAYERS_EXPECTED, isTower);
}

export const neumf = factorModelSpec({
  name: 'neumf',
  label: 'NeuMF',
  description:
    'NeuMF (He et al., 2017): GMF (--hidden_units predictive factors) and an MLP tower (--mlp_layers) over user and item embeddings, ' +
    'fused by one output layer, trained by the log loss with --ncf_negatives negatives; not sequential',
  options: neumfOptions,
  objective: 'bce',
  shapeOptions: ['mlp_layers'],
  network: (config, opts, _features, options) => new NeuMF(config, mlpLayers(String(options?.mlpLayers ?? '64,32,16,8')), opts),
  itemTable: 'item_gmf',
  userTable: 'user_gmf',
});

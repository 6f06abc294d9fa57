/** `--model two_tower`: user and item towers (MLPs over id and side-feature embeddings), scored by their dot product. */
import { choice, defineOptions, num, str } from '../../core/options.js';
import { parseSizes, sizesOf } from '../common/layer-sizes.js';
import { type FactorObjective, factorModelSpec, factorOptions, historyBagOptions, pointwiseOptions } from '../common/factor-model.js';
import { TOWER_IDS, type TowerIds, type TowerLoss, TwoTower } from './two-tower.js';

/** How the factor models' training reads each --tower_loss. */
const OBJECTIVES: Record<TowerLoss, FactorObjective> = { log: 'bce', pairwise: 'bpr', inbatch_softmax: 'inbatch_softmax' };

const LAYERS_EXPECTED = 'expected positive integers separated by commas (e.g. 64), or none for a linear tower';

/** "64,32" → [64, 32]; anything else is a UserError naming the flag. */
export function towerLayers(text: string): number[] {
  return sizesOf('tower_layers', text, LAYERS_EXPECTED);
}

export const twoTowerOptions = factorOptions
  .with(pointwiseOptions)
  .with(historyBagOptions)
  .with(
    defineOptions({
      tower_layers: str({
        help: "two_tower: the hidden layers' sizes of both towers, comma-separated (ReLU between; the output is --hidden_units)",
        default: '64',
        arg: 'sizes',
      }),
      tower_loss: choice(['log', 'pairwise', 'inbatch_softmax'] as const, {
        help:
          'two_tower: log (the log loss against --ncf_negatives sampled negatives) | pairwise (S-BPR, one negative) | ' +
          'inbatch_softmax (each positive against the other positives of its group of 256 in the batch, logits corrected by −log q_j, ' +
          "q_j the item's streaming frequency among the positives: Yi et al. 2019)",
        default: 'log',
      }),
      similarity: choice(['dot', 'cosine'] as const, {
        help: 'two_tower: the score of a user and an item vector: dot (the product) | cosine (cos(u, i) / --temperature)',
        default: 'dot',
      }),
      temperature: num({ help: 'two_tower: τ of --similarity cosine', default: 0.1, min: 0.001, max: 100 }),
      tower_ids: choice(TOWER_IDS, {
        help:
          'two_tower: which towers read id embeddings: both | users | items | none (a tower without them reads its side features ' +
          '(and the user tower its --history_bag) alone, so a new item or user is scored exactly as a known one)',
        default: 'both',
      }),
    }),
  )
  .withDefaults({ l2Reg: 0.0001 })
  .rule((c) => (parseSizes(c.towerLayers) ? undefined : ['tower_layers', LAYERS_EXPECTED]));

export const twoTower = factorModelSpec({
  name: 'two_tower',
  label: 'two-tower',
  description:
    'two-tower retrieval model: MLP towers over user and item id embeddings plus --user_features / --item_features, ' +
    'dot product, trained by the log loss with --ncf_negatives negatives; not sequential',
  options: twoTowerOptions,
  sideFeatures: ['users', 'items'],
  coldStart: ['users', 'items'],
  objective: (options) => OBJECTIVES[options.towerLoss as TowerLoss],
  shapeOptions: ['tower_layers', 'similarity', 'temperature', 'history_bag', 'tower_ids'],
  network: (config, opts, features, options) =>
    new TwoTower(
      config,
      features,
      towerLayers(String(options?.towerLayers ?? '64')),
      opts,
      options?.towerLoss === 'inbatch_softmax',
      options?.similarity === 'cosine' ? Number(options.temperature) : 0,
      options?.historyBag === true,
      (options?.towerIds as TowerIds | undefined) ?? 'both',
    ),
  itemTable: 'item_ids',
  userTable: 'user_ids',
});

/**
 * A two-tower model (the retrieval architecture of Covington et al., RecSys 2016, and Yi et al.,
 * RecSys 2019): a user tower and an item tower map what is known of each to a vector in one space,
 * and the score is their dot product, so every item's vector is computed once for top-K:
 *
 *   u = f([e_u; Σ_f x_f v_f])          i = g([e_i; Σ_g x_g w_g])          s(u, i) = ⟨u, i⟩
 *
 * e_u, e_i: id embeddings (d = hidden_units); v_f, w_g: the user's and the item's side-feature
 * embeddings (d), summed with their weights x (data/features.ts); f and g: MLPs over the
 * concatenation (ReLU between layers, the last layer linear to d; `tower_layers` gives the hidden
 * sizes). The first layer's weight is kept as one block per input part, W₁[a; b] = W₁ₐa + W₁ᵦb, so the
 * concatenation is never materialised. Trained by the log loss against sampled negatives
 * (factor-network.ts, `--ncf_negatives`) with the per-example L2 on the id and feature rows read.
 * A user held out of training (`--cold users`) keeps the trained users' mean id row and scores from
 * its features; an item likewise from its features.
 *
 * Not built (issue 19): the user's history bag as a tower input, cosine similarity with a
 * temperature, the pairwise and in-batch softmax (log-Q corrected) losses.
 */
import { bagSum } from '../../engine/bag-ops.js';
import * as ops from '../../engine/ops.js';
import type { Parameter, Tensor } from '../../engine/tensor.js';
import { distinctIds, gatherBack } from '../common/distinct-ids.js';
import { FactorNetwork, normalRows, type CatalogueForm, type FactorConfig, type NetworkOptions, type Regularised } from '../common/factor-network.js';
import { bagsOf, type FeatureRows, type ModelFeatures } from '../common/feature-rows.js';

/** The std of the initial embeddings. */
export const TOWER_INIT_STD = 0.1;

interface Layer {
  readonly weight: Parameter;
  readonly bias: Parameter;
}

/** One tower: id embeddings and optional feature embeddings into an MLP. */
class Tower {
  readonly ids: Parameter;
  readonly featureTable?: Parameter;
  /** the first layer's blocks: for the id embedding and for the feature sum */
  readonly firstIds: Parameter;
  readonly firstFeatures?: Parameter;
  readonly firstBias: Parameter;
  readonly layers: readonly Layer[];

  constructor(
    net: TwoTower,
    side: 'user' | 'item',
    count: number,
    readonly rows: FeatureRows | undefined,
    sizes: readonly number[],
  ) {
    const d = net.hiddenUnits;
    const uniform = (name: string, shape: number[]) => net.glorot(`${side}_tower.${name}`, shape);
    this.ids = net.addTable(`${side}_ids`, [count + 1, d]);
    if (rows && rows.featureNum > 0) this.featureTable = net.addTable(`${side}_features`, [rows.featureNum, d], true);
    const widths = [...sizes, d];
    this.firstIds = uniform('0.id_weight', [widths[0], d]);
    if (this.featureTable) this.firstFeatures = uniform('0.feature_weight', [widths[0], d]);
    this.firstBias = net.addZeros(`${side}_tower.0.bias`, [widths[0]]);
    const layers: Layer[] = [];
    for (let l = 1; l < widths.length; l++) {
      layers.push({ weight: uniform(`${l}.weight`, [widths[l], widths[l - 1]]), bias: net.addZeros(`${side}_tower.${l}.bias`, [widths[l]]) });
    }
    this.layers = layers;
  }

  /** The tower's output for each of `ids` (distinct) → [n, d]. */
  forward(ids: Int32Array): Tensor {
    let h = ops.linear(ops.embedding(this.ids, ids), this.firstIds, this.firstBias);
    if (this.featureTable && this.firstFeatures)
      h = ops.add(h, ops.linear(bagSum(this.featureTable, bagsOf(this.rows, ids)), this.firstFeatures, null));
    this.layers.forEach(({ weight, bias }) => {
      h = ops.linear(ops.relu(h), weight, bias);
    });
    return h;
  }
}

export class TwoTower extends FactorNetwork {
  readonly users: Tower;
  readonly items: Tower;

  /** @param towerLayers the hidden layers' sizes of both towers (the output is d) */
  constructor(
    config: FactorConfig,
    readonly features: ModelFeatures,
    readonly towerLayers: readonly number[],
    opts: NetworkOptions = {},
  ) {
    super('two_tower', config, opts, true);
    if (towerLayers.some((n) => !(Number.isInteger(n) && n >= 1)))
      throw new Error(`two_tower: tower layers must be positive integers, got ${towerLayers.join(',')}`);
    this.users = new Tower(this, 'user', this.userNum, features.users, towerLayers);
    this.items = new Tower(this, 'item', this.itemNum, features.items, towerLayers);
  }

  /** A table of N(0, 0.1²) rows (row 0, padding or the unknown user, left zero unless `allRows`). */
  addTable(name: string, shape: number[], allRows = false): Parameter {
    const p = this.addParameter(name, shape);
    if (allRows) for (let x = 0; x < p.size; x++) p.data[x] = TOWER_INIT_STD * this.initRng.normal();
    else normalRows(p, this.initRng, TOWER_INIT_STD);
    return p;
  }

  /** A layer weight [out, in], Glorot-uniform. */
  glorot(name: string, shape: number[]): Parameter {
    const p = this.addParameter(name, shape);
    const limit = Math.sqrt(6 / (shape[0] + shape[1]));
    for (let x = 0; x < p.size; x++) p.data[x] = limit * (2 * this.initRng.nextFloat() - 1);
    return p;
  }

  addZeros(name: string, shape: number[]): Parameter {
    return this.addParameter(name, shape);
  }

  /** ⟨u, i⟩ for each (users[m], items[m]), each tower run once per distinct id (the previous item is not read). */
  scores(users: Int32Array, _prevs: Int32Array, items: Int32Array): Tensor {
    const u = distinctIds(users);
    const i = distinctIds(items);
    return ops.rowDot(gatherBack(this.users.forward(u.ids), u), gatherBack(this.items.forward(i.ids), i));
  }

  protected catalogue(users: Int32Array): CatalogueForm {
    const all = Int32Array.from({ length: this.itemNum + 1 }, (_, j) => j);
    return { terms: [[this.users.forward(users), this.items.forward(all)]], itemTerm: null, rowTerm: null };
  }

  protected get regularised(): Regularised[] {
    const { users, items } = this.features;
    return [
      { table: this.users.ids, rowOf: 'user' },
      { table: this.items.ids, rowOf: 'item' },
      ...(this.users.featureTable && users ? [{ table: this.users.featureTable, rowOf: 'user', features: users } as const] : []),
      ...(this.items.featureTable && items ? [{ table: this.items.featureTable, rowOf: 'item', features: items } as const] : []),
    ];
  }
}

/**
 * Field-aware Factorization Machine (Juan, Zhuang, Chin & Lin, "Field-aware Factorization Machines for
 * CTR Prediction", RecSys 2016): each feature has one latent vector per field, and a pair of features
 * f (of field A) and g (of field B) interacts through v_{f,B} · v_{g,A}:
 *
 *   ŷ(x) = Σ_f w_f x_f + Σ_{f<g} ⟨v_{f,F(g)}, v_{g,F(f)}⟩ x_f x_g
 *
 * Fields: the user id, each user feature field (--user_features), the item id, each item feature field
 * (--item_features). As in the FM (fm/fm.ts), the terms that are the same for every item of a user
 * (user-side pairs and weights) are left out: they change no ranking and cancel in BPR. What remains,
 * per (user field A, item field B), is ⟨Q_AB(u), I_AB(i)⟩ with Q_AB(u) = Σ_{f∈u, F(f)=A} x_f v_{f,B} and
 * I_AB(i) = Σ_{g∈i, F(g)=B} x_g v_{g,A} — one GEMM per field pair over the catalogue — plus the item's own
 * weights and pairs. Trained by BPR with one sampled negative, with the per-example L2 (λ = l2_reg) on
 * every parameter an example reads, as the FM: the id vectors and biases, and the vectors (all of a
 * feature's per-field vectors) and weights of their features. Without feature files it is BPR-MF with one
 * field pair.
 */
import { type Bags, bagSum } from '../../engine/bag-ops.js';
import * as ops from '../../engine/ops.js';
import type { Parameter, Tensor } from '../../engine/tensor.js';
import {
  FactorNetwork,
  gatherScalars,
  type CatalogueForm,
  type FactorConfig,
  type NetworkOptions,
  type Regularised,
} from '../common/factor-network.js';
import { distinctIds, gatherBack } from '../common/distinct-ids.js';
import type { FeatureRows, ModelFeatures } from '../common/feature-rows.js';

/** The std of the initial vectors. */
export const FFM_INIT_STD = 0.1;

/** How many vectors an item id has: one per user field and one per item field (1 + fields each). */
export function itemTargets(f: ModelFeatures): number {
  const fields = (r: FeatureRows | undefined) => 1 + (r && r.featureNum > 0 ? r.fieldNum : 0);
  return fields(f.users) + fields(f.items);
}

/** One side (users or items): its id table and its feature table, each with a vector per field it pairs with. */
interface Side {
  /** [ids, targets · d]: the id's vectors for each field it pairs with (as rows id·targets + t of [ids · targets, d]) */
  readonly ids: Parameter;
  readonly features?: Parameter;
  readonly rows?: FeatureRows;
  /** this side's fields: 0 = the id, 1.. = its feature fields */
  readonly fieldNum: number;
}

/**
 * The bag of x_f v_{f,target} over the features of field `field` of each of `ids`, as rows of a
 * table holding `targets` vectors per feature (field 0 is the id itself).
 */
function fieldBag(side: Side, ids: Int32Array, field: number, target: number, targets: number): Tensor {
  if (field === 0) {
    const rows = Int32Array.from(ids, (id) => id * targets + target);
    const d = side.ids.lastDim / targets;
    return ops.embedding(ops.reshape(side.ids, [side.ids.size / d, d]), rows);
  }
  const r = side.rows as FeatureRows;
  const ptr = new Int32Array(ids.length + 1);
  const idx: number[] = [];
  const val: number[] = [];
  for (let m = 0; m < ids.length; m++) {
    const id = ids[m];
    if (id >= 1 && id < r.rowPtr.length - 1) {
      for (let x = r.rowPtr[id]; x < r.rowPtr[id + 1]; x++) {
        if (r.fieldOf[r.idx[x]] + 1 !== field) continue;
        idx.push(r.idx[x] * targets + target);
        val.push(r.val[x]);
      }
    }
    ptr[m + 1] = idx.length;
  }
  const table = side.features as Parameter;
  const d = table.lastDim / targets;
  const bags: Bags = { ptr, idx: Int32Array.from(idx), val: Float32Array.from(val) };
  return bagSum(ops.reshape(table, [table.size / d, d]), bags);
}

export class FieldAwareFM extends FactorNetwork {
  private readonly users: Side;
  private readonly items: Side;
  /** w of the item ids [N + 1] and of the item features [Fi] */
  readonly itemBias: Parameter;
  readonly itemFeatureBias?: Parameter;

  constructor(
    config: FactorConfig,
    readonly sideFeatures: ModelFeatures,
    opts: NetworkOptions = {},
  ) {
    super('FFM', config, opts, true);
    const d = this.hiddenUnits;
    const uf = sideFeatures.users && sideFeatures.users.featureNum > 0 ? sideFeatures.users : undefined;
    const itf = sideFeatures.items && sideFeatures.items.featureNum > 0 ? sideFeatures.items : undefined;
    const userFields = 1 + (uf?.fieldNum ?? 0);
    const itemFields = 1 + (itf?.fieldNum ?? 0);
    const table = (name: string, rows: number, targets: number, zeroRow0: boolean) => {
      const p = this.addParameter(name, [rows, targets * d]);
      for (let x = zeroRow0 ? targets * d : 0; x < p.size; x++) p.data[x] = FFM_INIT_STD * this.initRng.normal();
      return p;
    };
    // a user feature's vectors are one per item field, an item feature's one per user field
    // (the item's own pairs need one per item field as well: items hold userFields + itemFields)
    this.users = {
      ids: table('user_factors', this.userNum + 1, itemFields, true),
      ...(uf ? { features: table('user_feature_factors', uf.featureNum, itemFields, false), rows: uf } : {}),
      fieldNum: userFields,
    };
    this.items = {
      ids: table('item_factors', this.itemNum + 1, userFields + itemFields, true),
      ...(itf ? { features: table('item_feature_factors', itf.featureNum, userFields + itemFields, false), rows: itf } : {}),
      fieldNum: itemFields,
    };
    this.itemBias = this.addParameter('item_bias', [this.itemNum + 1]);
    if (itf) this.itemFeatureBias = this.addParameter('item_feature_bias', [itf.featureNum]);
  }

  /** Per (user field A, item field B): Q_AB(users) and I_AB(items). */
  private pairs(users: Int32Array, items: Int32Array): Array<[Tensor, Tensor]> {
    const out: Array<[Tensor, Tensor]> = [];
    const itemTargets = this.users.fieldNum + this.items.fieldNum;
    for (let a = 0; a < this.users.fieldNum; a++) {
      for (let b = 0; b < this.items.fieldNum; b++) {
        out.push([fieldBag(this.users, users, a, b, this.items.fieldNum), fieldBag(this.items, items, b, a, itemTargets)]);
      }
    }
    return out;
  }

  /** The item's own term: its weights and the pairs of its features (item fields B ≤ C). */
  private own(items: Int32Array): Tensor {
    let own = gatherScalars(this.itemBias, items);
    const rows = this.items.rows;
    if (this.itemFeatureBias && rows) {
      const ptr = Int32Array.from(items, (i) => (i >= 1 && i < rows.rowPtr.length - 1 ? rows.rowPtr[i + 1] - rows.rowPtr[i] : 0));
      const starts = new Int32Array(items.length + 1);
      for (let m = 0; m < items.length; m++) starts[m + 1] = starts[m] + ptr[m];
      const idx = new Int32Array(starts[items.length]);
      const val = new Float32Array(starts[items.length]);
      items.forEach((i, m) => {
        if (ptr[m] === 0) return;
        idx.set(rows.idx.subarray(rows.rowPtr[i], rows.rowPtr[i + 1]), starts[m]);
        val.set(rows.val.subarray(rows.rowPtr[i], rows.rowPtr[i + 1]), starts[m]);
      });
      own = ops.add(own, ops.reshape(bagSum(this.itemFeatureBias, { ptr: starts, idx, val }), [items.length]));
    }
    const U = this.users.fieldNum;
    const targets = U + this.items.fieldNum;
    for (let b = 0; b < this.items.fieldNum; b++) {
      for (let c = b; c < this.items.fieldNum; c++) {
        const left = fieldBag(this.items, items, b, U + c, targets);
        if (b < c) {
          own = ops.add(own, ops.rowDot(left, fieldBag(this.items, items, c, U + b, targets)));
        } else if (b > 0) {
          // pairs within one field: ½(‖Σ x_g v_{g,B}‖² − Σ x_g² ‖v_{g,B}‖²)
          own = ops.add(own, ops.scale(ops.add(ops.rowDot(left, left), ops.scale(this.squares(items, b, U + b, targets), -1)), 0.5));
        }
      }
    }
    return own;
  }

  /** Σ_{g∈i, F(g)=B} x_g² ‖v_{g,target}‖² → [items.length]. */
  private squares(items: Int32Array, field: number, target: number, targets: number): Tensor {
    const table = this.items.features as Parameter;
    const d = table.lastDim / targets;
    const all = ops.reshape(table, [table.size / d, d]);
    const norms = ops.rowDot(all, all);
    const r = this.items.rows as FeatureRows;
    const ptr = new Int32Array(items.length + 1);
    const idx: number[] = [];
    const val: number[] = [];
    items.forEach((i, m) => {
      if (i >= 1 && i < r.rowPtr.length - 1) {
        for (let x = r.rowPtr[i]; x < r.rowPtr[i + 1]; x++) {
          if (r.fieldOf[r.idx[x]] + 1 !== field) continue;
          idx.push(r.idx[x] * targets + target);
          val.push(r.val[x] ** 2);
        }
      }
      ptr[m + 1] = idx.length;
    });
    return ops.reshape(bagSum(norms, { ptr, idx: Int32Array.from(idx), val: Float32Array.from(val) }), [items.length]);
  }

  /**
   * ŷ(u, i) up to the user's constant (the previous item is not read). Q_AB and I_AB and the item's own
   * term depend on the id alone: they are computed once per distinct user and item of the batch.
   */
  scores(users: Int32Array, _prevs: Int32Array, items: Int32Array): Tensor {
    const u = distinctIds(users);
    const i = distinctIds(items);
    let s = gatherBack(this.own(i.ids), i);
    for (const [q, v] of this.pairs(u.ids, i.ids)) s = ops.add(s, ops.rowDot(gatherBack(q, u), gatherBack(v, i)));
    return s;
  }

  protected catalogue(users: Int32Array): CatalogueForm {
    const all = Int32Array.from({ length: this.itemNum + 1 }, (_, i) => i);
    const terms: Array<[Tensor, Tensor]> = [];
    for (let a = 0; a < this.users.fieldNum; a++) {
      for (let b = 0; b < this.items.fieldNum; b++) {
        terms.push([
          fieldBag(this.users, users, a, b, this.items.fieldNum),
          fieldBag(this.items, all, b, a, this.users.fieldNum + this.items.fieldNum),
        ]);
      }
    }
    return { terms, itemTerm: this.own(all), rowTerm: null };
  }

  protected get regularised(): Regularised[] {
    const { users, items } = this;
    return [
      { table: users.ids, rowOf: 'user' },
      { table: items.ids, rowOf: 'item' },
      { table: this.itemBias, rowOf: 'item' },
      ...(users.features && users.rows ? [{ table: users.features, rowOf: 'user', features: users.rows } as const] : []),
      ...(items.features && items.rows ? [{ table: items.features, rowOf: 'item', features: items.rows } as const] : []),
      ...(this.itemFeatureBias && items.rows ? [{ table: this.itemFeatureBias, rowOf: 'item', features: items.rows } as const] : []),
    ];
  }
}

/**
 * The SASRec paper's attention analyses, from the weights a model gives its users' histories
 * (models/contract.ts AttentionMap), heads averaged:
 * - Figure 4, recent-item focus: the average weight query position i gives key position j over the
 *   last `window` items of every history at least that long, per layer; and, at the last query (the
 *   one that predicts), the share of weight on the last 3 and the last `window` items.
 * - Figure 5, categories: the average weight between a query item of category a and a key item of
 *   category b (a C×C matrix per layer), and the ratio of same-category to cross-category weight.
 */
import type { AttentionMap } from '../models/contract.js';

export interface RecencyLayer {
  /** matrix[i][j]: mean weight of query i on key j, both counted within the last `window` items */
  readonly matrix: number[][];
  /** at the last query: mean share of weight on the last 3 items, the last `window` items, and padding */
  readonly lastQuery: { readonly last3: number; readonly lastWindow: number; readonly padding: number };
}

export interface RecencyFigure {
  readonly window: number;
  /** histories at least `window` long (the ones averaged) */
  readonly users: number;
  readonly layers: readonly RecencyLayer[];
}

/** w[i][j] of one layer averaged over its heads. */
function headMean(map: AttentionMap, layer: number, i: number, j: number): number {
  const heads = map.items[layer];
  let s = 0;
  for (const h of heads) s += h[i * map.length + j];
  return s / heads.length;
}

function paddingMean(map: AttentionMap, layer: number, i: number): number {
  const heads = map.padding[layer];
  let s = 0;
  for (const h of heads) s += h[i];
  return s / heads.length;
}

export function recencyFigure(maps: readonly AttentionMap[], window: number): RecencyFigure {
  const used = maps.filter((m) => m.length >= window);
  const numLayers = maps[0]?.items.length ?? 0;
  const layers: RecencyLayer[] = [];
  for (let l = 0; l < numLayers; l++) {
    const matrix = Array.from({ length: window }, () => new Array<number>(window).fill(0));
    let last3 = 0;
    let lastWindow = 0;
    let padding = 0;
    for (const m of used) {
      const off = m.length - window;
      for (let i = 0; i < window; i++) for (let j = 0; j <= i; j++) matrix[i][j] += headMean(m, l, off + i, off + j);
      const q = m.length - 1;
      for (let j = 0; j < window; j++) {
        const w = headMean(m, l, q, off + j);
        lastWindow += w;
        if (j >= window - 3) last3 += w;
      }
      padding += paddingMean(m, l, q);
    }
    const n = Math.max(used.length, 1);
    for (const row of matrix) for (let j = 0; j < window; j++) row[j] /= n;
    layers.push({ matrix, lastQuery: { last3: last3 / n, lastWindow: lastWindow / n, padding: padding / n } });
  }
  return { window, users: used.length, layers };
}

export interface CategoryLayer {
  /** matrix[a][b]: mean weight from a query item of category a to a key item of category b (keys ≤ query) */
  readonly matrix: number[][];
  /** mean of the diagonal pairs' weights over mean of the off-diagonal pairs' weights */
  readonly sameOverCross: number;
}

export interface CategoryFigure {
  readonly categories: readonly string[];
  readonly layers: readonly CategoryLayer[];
}

/**
 * `categoriesOf(item)`: indices into `categories` of a dense item id's categories (an item in several
 * counts in each). histories[u] must be the histories maps[u] was computed from.
 */
export function categoryFigure(
  maps: readonly AttentionMap[],
  histories: readonly Int32Array[],
  categories: readonly string[],
  categoriesOf: (item: number) => readonly number[],
): CategoryFigure {
  const C = categories.length;
  const numLayers = maps[0]?.items.length ?? 0;
  const layers: CategoryLayer[] = [];
  for (let l = 0; l < numLayers; l++) {
    const sum = Array.from({ length: C }, () => new Array<number>(C).fill(0));
    const count = Array.from({ length: C }, () => new Array<number>(C).fill(0));
    maps.forEach((m, u) => {
      const items = histories[u].subarray(histories[u].length - m.length);
      const cats = Array.from(items, categoriesOf);
      for (let i = 0; i < m.length; i++) {
        for (let j = 0; j <= i; j++) {
          const w = headMean(m, l, i, j);
          for (const a of cats[i])
            for (const b of cats[j]) {
              sum[a][b] += w;
              count[a][b]++;
            }
        }
      }
    });
    const matrix = sum.map((row, a) => row.map((s, b) => (count[a][b] > 0 ? s / count[a][b] : 0)));
    let same = 0;
    let sameN = 0;
    let cross = 0;
    let crossN = 0;
    for (let a = 0; a < C; a++)
      for (let b = 0; b < C; b++) {
        if (a === b) {
          same += sum[a][b];
          sameN += count[a][b];
        } else {
          cross += sum[a][b];
          crossN += count[a][b];
        }
      }
    layers.push({ matrix, sameOverCross: sameN > 0 && crossN > 0 && cross > 0 ? same / sameN / (cross / crossN) : Number.NaN });
  }
  return { categories, layers };
}

const pct = (x: number) => `${Math.round(x * 100)}%`;

/** One line per layer, e.g. "layer 1: 38% of the last query's weight on the last 15 items, 20% on the last 3". */
export function readRecency(f: RecencyFigure): string[] {
  return f.layers.map(
    (l, i) =>
      `layer ${i + 1}: ${pct(l.lastQuery.lastWindow)} of the last query's weight on the last ${f.window} items, ` +
      `${pct(l.lastQuery.last3)} on the last 3, ${pct(l.lastQuery.padding)} on padding (${f.users} users)`,
  );
}

export function readCategories(f: CategoryFigure): string[] {
  return f.layers.map(
    (l, i) => `layer ${i + 1}: same-category attention is ${l.sameOverCross.toFixed(2)}× cross-category (${f.categories.join(', ')})`,
  );
}

/**
 * EASE (Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW 2019): the item-item
 * weights B minimising ‖X − XB‖²_F + λ‖B‖²_F subject to diag(B) = 0, in closed form:
 *
 *   P = (XᵀX + λI)⁻¹,   B = I − P · diag(1 / diag P),   i.e. B_ij = −P_ij / P_jj (i ≠ j), B_ii = 0.
 *
 * X is the users × items 0/1 matrix of the TRAIN split (each user's set of training items). A
 * history is scored as its indicator row times B. P is computed by the blocked SPD inverse of
 * kernels/linalg.ts (GEMMs on the active kernel backend, the wasm SIMD GEMM and its thread pool in
 * the CLI).
 *
 * Memory (n = items): the fit holds XᵀX/P as a lower triangle (n²/2 floats) and B ((n+1)² floats),
 * 6·n² bytes at its peak; the model file is 2·n² bytes (B's lower triangle and diag P), and saving
 * builds it and copies it once. Games (23,715 items): ≈ 3.4 GB to fit, a 1.1 GB file; 100,000
 * items: ≈ 60 GB to fit, refused by default (--memory_gb).
 */
import type { Split } from '../../data/types.js';
import type { HistoryBatch } from '../../eval/types.js';
import { getKernels } from '../../kernels/index.js';
import { createSymmetricPanels, invertSymmetricPanels, panelAddLower } from '../../kernels/linalg.js';
import type { Catalog } from '../contract.js';
import {
  ItemItemModel,
  ItemItemScorer,
  longestHistory,
  readItemItemFile,
  sniffItemItemFile,
  tensorOf,
  trainItemSets,
  trainPopularity,
  writeItemItemFile,
} from '../common/item-item.js';

export const EASE_FORMAT = 'seqrec-ease';

export interface EaseSettings {
  /** λ, the L2 penalty on B */
  readonly l2: number;
}

/** Bytes the fit holds at its peak for n items (lower-triangle P + dense B), and the saved file's size. */
export function easeMemoryBytes(n: number): { fit: number; file: number } {
  const b = 4 * (n + 1) * (n + 1);
  return { fit: 2 * n * (n + 256) + b, file: 2 * n * (n - 1) };
}

/** Scores a history with the dense B: scores_j = Σ_{i ∈ history} B_ij. */
export class EaseScorer extends ItemItemScorer {
  /** B, (itemNum+1)² row-major (row and column 0: padding, zero) */
  readonly weights: Float32Array;

  /** diag P (P = (XᵀX + λI)⁻¹), item i at i − 1: with B's lower triangle it gives the upper (the model file) */
  readonly diagP: Float32Array;

  constructor(weights: Float32Array, diagP: Float32Array, itemNum: number, maxlen: number, popularity: Float32Array) {
    super(itemNum, maxlen, popularity);
    if (weights.length !== (itemNum + 1) * (itemNum + 1)) throw new Error(`EASE: B has ${weights.length} entries for ${itemNum} items`);
    if (diagP.length !== itemNum) throw new Error(`EASE: diag P has ${diagP.length} entries for ${itemNum} items`);
    this.weights = weights;
    this.diagP = diagP;
  }

  /** B_ij (1-based item ids). */
  weight(i: number, j: number): number {
    return this.weights[i * (this.itemNum + 1) + j];
  }

  /** Only the candidates' columns: Σ_{i ∈ history} B_ic, added in the same order as scoreAll adds them. */
  override scoreCandidates(batch: HistoryBatch, candidates: Int32Array, numCandidates: number): Float32Array {
    const N1 = this.itemNum + 1;
    const w = this.weights;
    const out = new Float32Array(batch.batchSize * numCandidates);
    for (let b = 0; b < batch.batchSize; b++) {
      const hist = this.historySet(batch, b);
      for (let c = 0; c < numCandidates; c++) {
        const j = candidates[b * numCandidates + c];
        if (!(j >= 1 && j <= this.itemNum)) continue;
        let acc = this.tie[j];
        for (const i of hist) acc = Math.fround(acc + w[i * N1 + j]);
        out[b * numCandidates + c] = acc;
      }
    }
    return out;
  }

  protected addRow(i: number, out: Float32Array, off: number): void {
    const N1 = this.itemNum + 1;
    const w = this.weights;
    const base = i * N1;
    for (let j = 1; j < N1; j++) out[off + j] += w[base + j];
  }
}

/** B from the training split (see the file comment). `log` gets progress lines. */
export function fitEase(split: Split, settings: EaseSettings, log?: (line: string) => void, block = 256): EaseScorer {
  const n = split.data.itemNum;
  const sets = trainItemSets(split);
  const G = createSymmetricPanels(n, block);
  // XᵀX (lower triangle), 0-based item indices
  for (let r = 0; r < sets.rows; r++) {
    const a = sets.indptr[r];
    const e = sets.indptr[r + 1];
    for (let x = a; x < e; x++) {
      const i = sets.items[x] - 1;
      for (let y = a; y <= x; y++) panelAddLower(G, i, sets.items[y] - 1, 1);
    }
  }
  for (let i = 0; i < n; i++) panelAddLower(G, i, i, settings.l2);
  const t0 = Date.now();
  let lastLog = t0;
  invertSymmetricPanels(getKernels(), G, (done, total) => {
    const now = Date.now();
    if (log && (now - lastLog > 10_000 || done === total)) {
      lastLog = now;
      log(`EASE: (XᵀX + λI)⁻¹ block ${done}/${total}, ${((now - t0) / 1000).toFixed(1)} s`);
    }
  });
  // B_ij = −P_ij / P_jj, B_ii = 0; from the lower triangle of P
  const N1 = n + 1;
  const B = new Float32Array(N1 * N1);
  const diag = new Float64Array(n);
  for (let p = 0; p < G.panels.length; p++) {
    const p0 = p * block;
    const w = Math.min(block, n - p0);
    for (let t = 0; t < w; t++) diag[p0 + t] = G.panels[p][t * w + t];
  }
  for (let p = 0; p < G.panels.length; p++) {
    const p0 = p * block;
    const w = Math.min(block, n - p0);
    const panel = G.panels[p];
    for (let i = p0; i < n; i++) {
      const rowB = (i + 1) * N1 + 1;
      const src = (i - p0) * w;
      const invI = -1 / diag[i];
      for (let t = 0; t < w; t++) {
        const j = p0 + t;
        if (j >= i) break;
        const v = panel[src + t];
        B[rowB + j] = -v / diag[j];
        B[(j + 1) * N1 + 1 + i] = v * invI;
      }
    }
    G.panels[p] = new Float32Array(0); // let the panel go
  }
  return new EaseScorer(B, Float32Array.from(diag), n, longestHistory(split), trainPopularity(sets));
}

/** EASE with its catalogue: what `recommend` needs. */
export class EaseModel extends ItemItemModel<EaseScorer> {
  readonly name = 'ease';

  constructor(
    scorer: EaseScorer,
    readonly settings: EaseSettings,
    catalog: Catalog,
  ) {
    super(scorer, catalog, 'EASE', 'B');
  }

  static fit(split: Split, settings: EaseSettings, log?: (line: string) => void): EaseModel {
    const d = split.data;
    return new EaseModel(fitEase(split, settings, log), settings, { items: d.items, users: d.users, histories: d.seqs });
  }

  describe(): Record<string, unknown> {
    return { model: 'ease', l2: this.settings.l2, itemNum: this.scorer.itemNum };
  }

  /**
   * The file holds B's strict lower triangle (row by row) and diag P: B_ji = −P_ij / P_ii =
   * B_ij · P_jj / P_ii gives the upper one. Half of B's bytes: a single write of a file is capped at
   * 2 GiB, which dense B passes at 23,170 items (Games has 23,715); this layout at 32,767.
   */
  serialize(): Uint8Array {
    const n = this.scorer.itemNum;
    const N1 = n + 1;
    const B = this.scorer.weights;
    const lower = new Float32Array((n * (n - 1)) / 2);
    let at = 0;
    for (let i = 2; i <= n; i++) {
      lower.set(B.subarray(i * N1 + 1, i * N1 + i), at);
      at += i - 1;
    }
    return writeItemItemFile(EASE_FORMAT, { l2: this.settings.l2 }, this.scorer.maxlen, this, [
      { name: 'B.lower', shape: [lower.length], data: lower },
      { name: 'P.diag', shape: [n], data: this.scorer.diagP },
      { name: 'popularity', shape: [n + 1], data: this.scorer.popularity },
    ]);
  }

  static parse(bytes: Uint8Array): EaseModel {
    const f = readItemItemFile(bytes, EASE_FORMAT, 'EASE');
    const n = f.catalog.items.toRaw.length - 1;
    const lower = tensorOf(f, 'B.lower', [(n * (n - 1)) / 2], 'EASE');
    const diagP = tensorOf(f, 'P.diag', [n], 'EASE');
    const N1 = n + 1;
    const B = new Float32Array(N1 * N1);
    let at = 0;
    for (let i = 2; i <= n; i++) {
      const pii = diagP[i - 1];
      for (let j = 1; j < i; j++) {
        const v = lower[at++];
        B[i * N1 + j] = v;
        B[j * N1 + i] = (v * diagP[j - 1]) / pii;
      }
    }
    const l2 = Number(f.config.l2);
    const pop = tensorOf(f, 'popularity', [n + 1], 'EASE');
    return new EaseModel(new EaseScorer(B, diagP, n, f.maxlen, pop), { l2 }, f.catalog);
  }
}

export function looksLikeEase(bytes: Uint8Array): boolean {
  return sniffItemItemFile(bytes, EASE_FORMAT);
}

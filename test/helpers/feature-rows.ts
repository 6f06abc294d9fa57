import type { FeatureRows } from '../../src/models/common/feature-rows.js';

/** CSR feature rows from per-id lists of (feature, weight); `fieldOf` each feature's field (default: one field). */
export function featureRows(featureNum: number, perId: Array<Array<[number, number]>>, fieldOf = new Int32Array(featureNum)): FeatureRows {
  const rowPtr = new Int32Array(perId.length + 1);
  const idx: number[] = [];
  const val: number[] = [];
  perId.forEach((r, i) => {
    for (const [f, w] of r) {
      idx.push(f);
      val.push(w);
    }
    rowPtr[i + 1] = idx.length;
  });
  return { featureNum, fieldOf, fieldNum: Math.max(...fieldOf) + 1, rowPtr, idx: Int32Array.from(idx), val: Float32Array.from(val) };
}

/** Segment layouts for the packed causal attention kernels (one segment per sequence). */

export interface SegmentLayout {
  segStart: Int32Array;
  segLen: Int32Array;
  segPad: Int32Array;
  padRow: number;
  rows: number;
  tri: number;
}

/** Sequences with the given lengths/pads, then (when any pads) the padding row as its own segment. */
export function segmentLayout(lens: number[], pads: number[]): SegmentLayout {
  const anyPad = pads.some((p) => p > 0);
  const S = lens.length + (anyPad ? 1 : 0);
  const segStart = new Int32Array(S),
    segLen = new Int32Array(S),
    segPad = new Int32Array(S);
  let r = 0,
    tri = 0;
  lens.forEach((n, s) => {
    segStart[s] = r;
    segLen[s] = n;
    segPad[s] = pads[s];
    r += n;
    tri += (n * (n + 3)) / 2;
  });
  let padRow = -1;
  if (anyPad) {
    padRow = r;
    segStart[S - 1] = r;
    segLen[S - 1] = 1;
    segPad[S - 1] = 0;
    r += 1;
    tri += 2;
  }
  return { segStart, segLen, segPad, padRow, rows: r, tri };
}

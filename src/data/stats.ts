import type { Interactions } from './types.js';

export interface DatasetStats {
  users: number;
  items: number;
  actions: number;
  meanLength: number;
  medianLength: number;
  minLength: number;
  maxLength: number;
  /** actions / (users × items) */
  density: number;
  hasTimes: boolean;
}

export function datasetStats(data: Interactions): DatasetStats {
  const lens = new Int32Array(data.userNum);
  let actions = 0;
  for (let u = 1; u <= data.userNum; u++) {
    lens[u - 1] = data.seqs[u].length;
    actions += lens[u - 1];
  }
  lens.sort();
  const n = lens.length;
  const median = n === 0 ? 0 : n % 2 === 1 ? lens[(n - 1) / 2] : (lens[n / 2 - 1] + lens[n / 2]) / 2;
  return {
    users: data.userNum,
    items: data.itemNum,
    actions,
    meanLength: n === 0 ? 0 : actions / n,
    medianLength: median,
    minLength: n === 0 ? 0 : lens[0],
    maxLength: n === 0 ? 0 : lens[n - 1],
    density: data.userNum * data.itemNum === 0 ? 0 : actions / (data.userNum * data.itemNum),
    hasTimes: data.times !== undefined,
  };
}

/** Human-readable lines (thousands separators), one statistic per line. */
export function formatStats(s: DatasetStats): string {
  const int = (x: number) => x.toLocaleString('en-US');
  return [
    `users      ${int(s.users)}`,
    `items      ${int(s.items)}`,
    `actions    ${int(s.actions)}`,
    `seq length mean ${s.meanLength.toFixed(2)}, median ${s.medianLength}, min ${int(s.minLength)}, max ${int(s.maxLength)}`,
    `density    ${(s.density * 100).toFixed(4)}%`,
    `timestamps ${s.hasTimes ? 'yes' : 'no'}`,
  ].join('\n');
}

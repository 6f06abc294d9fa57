import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../src/core/errors.js';
import { Rng } from '../src/engine/rng.js';
import { pairedComparison, perUserMetric, quantile } from '../src/eval/paired.js';
import { formatRanks, pairRanks, parseRanks, type RanksFile } from '../src/eval/ranks.js';

const close = (a: number, b: number, eps: number, what = '') => assert.ok(Math.abs(a - b) <= eps, `${what} ${a} != ${b} (±${eps})`);

test('perUserMetric: NDCG@K, HR@K and MRR from a 0-based rank; other names refused', () => {
  const ndcg = perUserMetric('NDCG@10');
  close(ndcg(0), 1, 0);
  close(ndcg(2), 1 / Math.log2(4), 1e-15);
  assert.equal(ndcg(10), 0);
  assert.equal(perUserMetric('HR@5')(4), 1);
  assert.equal(perUserMetric('HR@5')(5), 0);
  close(perUserMetric('MRR')(3), 0.25, 0);
  for (const bad of ['NDCG@0', 'ndcg@10', 'Recall@10', 'HR@', 'MRR@10']) assert.throws(() => perUserMetric(bad), UserError, bad);
});

test('pairedComparison: identical models differ by 0 with p = 1; a constant gain has a point interval and a tiny p', () => {
  const a = Float64Array.from({ length: 30 }, (_, i) => (i % 7) / 7);
  const same = pairedComparison(a, a.slice(), { resamples: 2000 });
  assert.equal(same.diff, 0);
  assert.equal(same.p, 1);
  assert.deepEqual([same.ciLow, same.ciHigh, same.wins, same.ties, same.losses], [0, 0, 0, 30, 0]);
  const b = a.map((x) => x + 0.125);
  const up = pairedComparison(a, b, { resamples: 2000 });
  close(up.diff, 0.125, 1e-12);
  close(up.ciLow, 0.125, 1e-12);
  close(up.ciHigh, 0.125, 1e-12);
  close(up.p, 1 / 2001, 1e-12, 'p'); // only the all-same-sign flips (2 of 2^30) reach the observed mean
  assert.deepEqual([up.wins, up.ties, up.losses], [30, 0, 0]);
  close(up.baseline + 0.125, up.candidate, 1e-12);
});

test('pairedComparison: the sign-flip p-value matches the exact permutation distribution (n = 10, all 1024 flips)', () => {
  const d = [0.3, -0.1, 0.25, 0.05, -0.2, 0.4, 0.15, -0.05, 0.1, 0.2];
  const base = new Float64Array(d.length).fill(0.5);
  const cand = Float64Array.from(d, (x) => 0.5 + x);
  const observed = Math.abs(d.reduce((s, x) => s + x, 0));
  let extreme = 0;
  for (let mask = 0; mask < 1 << d.length; mask++) {
    let s = 0;
    for (let i = 0; i < d.length; i++) s += mask & (1 << i) ? d[i] : -d[i];
    if (Math.abs(s) >= observed - 1e-12) extreme++;
  }
  const exact = extreme / (1 << d.length);
  const r = pairedComparison(base, cand, { resamples: 200_000, seed: 3 });
  close(r.p, exact, 0.005, 'p');
  assert.ok(exact > 0.01 && exact < 0.2, `the example is informative: exact p ${exact}`);
});

test('pairedComparison: the bootstrap interval of the mean difference matches mean ± z·sd/√n on large samples', () => {
  const rng = new Rng(11);
  const n = 4000;
  const a = new Float64Array(n);
  const b = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    a[i] = rng.nextFloat();
    b[i] = a[i] + 0.02 + 0.3 * rng.normal();
  }
  const r = pairedComparison(a, b, { resamples: 4000, confidence: 0.9, seed: 5 });
  let sd = 0;
  for (let i = 0; i < n; i++) sd += (b[i] - a[i] - r.diff) ** 2;
  sd = Math.sqrt(sd / (n - 1));
  const half = (1.6449 * sd) / Math.sqrt(n);
  close(r.ciLow, r.diff - half, 0.1 * half, 'low');
  close(r.ciHigh, r.diff + half, 0.1 * half, 'high');
  assert.ok(r.p < 0.001, `a gain of 4 standard errors is significant: p ${r.p}`);
});

test('quantile interpolates linearly between sorted values', () => {
  const s = Float64Array.from([1, 2, 4, 8]);
  assert.equal(quantile(s, 0), 1);
  assert.equal(quantile(s, 1), 8);
  close(quantile(s, 0.5), 3, 1e-15);
  close(quantile(s, 0.25), 1.75, 1e-15);
});

const data = {
  users: { toIndex: new Map(), toRaw: ['', 'u1', 'u2', 'u3'] },
  items: { toIndex: new Map(), toRaw: ['', 'i1', 'i2', 'i3', 'i4'] },
};

test('formatRanks and parseRanks round-trip with the dataset ids', () => {
  const text = formatRanks(
    [
      { protocol: 'full', split: 'test', users: Int32Array.of(1, 3), items: Int32Array.of(2, 4), ranks: Int32Array.of(0, 17) },
      { protocol: 'sampled', split: 'valid', users: Int32Array.of(2), items: Int32Array.of(1), ranks: Int32Array.of(5) },
    ],
    data,
  );
  assert.equal(text, 'split\tprotocol\tuser\titem\trank\ntest\tfull\tu1\ti2\t0\ntest\tfull\tu3\ti4\t17\nvalid\tsampled\tu2\ti1\t5\n');
  assert.deepEqual(parseRanks(text, 'r.tsv'), [
    { split: 'test', protocol: 'full', user: 'u1', item: 'i2', rank: 0 },
    { split: 'test', protocol: 'full', user: 'u3', item: 'i4', rank: 17 },
    { split: 'valid', protocol: 'sampled', user: 'u2', item: 'i1', rank: 5 },
  ]);
});

test('parseRanks: a broken file is a one-line error naming the file and line', () => {
  const head = 'split\tprotocol\tuser\titem\trank\n';
  const cases: Array<[string, RegExp]> = [
    ['', /r\.tsv: empty file/],
    ['user\trank\n', /r\.tsv: line 1 is not a ranks file's header/],
    [`${head}test\tfull\tu1\ti1\n`, /r\.tsv: line 2: expected 5 tab-separated fields, found 4/],
    [`${head}test\tfull\tu1\ti1\t-1\n`, /line 2: rank must be a non-negative integer, got "-1"/],
    [`${head}test\tfull\tu1\ti1\t2.5\n`, /line 2: rank must be a non-negative integer/],
    [`${head}train\tfull\tu1\ti1\t2\n`, /line 2: split must be valid or test/],
    [`${head}test\tfull\tu1\ti1\t2\ntest\tfull\tu1\ti1\t3\n`, /line 3: user u1 appears twice for full test/],
  ];
  for (const [text, message] of cases)
    assert.throws(
      () => parseRanks(text, 'r.tsv'),
      (e: unknown) => e instanceof UserError && message.test(e.message),
    );
});

const file = (path: string, rows: Array<[string, string, string, string, number]>): RanksFile => ({
  path,
  rows: rows.map(([split, protocol, user, item, rank]) => ({ split, protocol, user, item, rank })),
});

test('pairRanks pairs each user across files by position, per protocol and split, whatever the row order', () => {
  const a1 = file('a1', [
    ['test', 'full', 'u1', 'i1', 3],
    ['test', 'full', 'u2', 'i2', 0],
    ['test', 'sampled', 'u1', 'i1', 1],
  ]);
  const b1 = file('b1', [
    ['test', 'full', 'u2', 'i2', 9],
    ['test', 'full', 'u1', 'i1', 1],
  ]);
  const a2 = file('a2', [['test', 'full', 'u1', 'i4', 7]]); // another seed: the same id, another user held out
  const b2 = file('b2', [['test', 'full', 'u1', 'i4', 2]]);
  const paired = pairRanks([a1, a2], [b1, b2]);
  assert.equal(paired.length, 1, 'sampled is only in the baseline: not compared');
  assert.deepEqual([paired[0].protocol, paired[0].split], ['full', 'test']);
  assert.deepEqual([...paired[0].baseline], [3, 0, 7]);
  assert.deepEqual([...paired[0].candidate], [1, 9, 2]);
});

test('pairRanks refuses runs that did not evaluate the same users on the same items', () => {
  const a = file('a', [['test', 'full', 'u1', 'i1', 3]]);
  const isUser = (m: RegExp) => (e: unknown) => e instanceof UserError && m.test(e.message);
  assert.throws(
    () => pairRanks([a], [file('b', [['test', 'full', 'u1', 'i2', 3]])]),
    isUser(/holds out item i1 in a but i2 in b: not the same split/),
  );
  assert.throws(() => pairRanks([a], [file('b', [['test', 'full', 'u9', 'i1', 3]])]), isUser(/a: user u1 \(full test\) is not in b/));
  assert.throws(
    () =>
      pairRanks(
        [a],
        [
          file('b', [
            ['test', 'full', 'u1', 'i1', 3],
            ['test', 'full', 'u2', 'i1', 3],
          ]),
        ],
      ),
    isUser(/b: user u2 \(full test\) is not in a/),
  );
  assert.throws(() => pairRanks([a, a], [a]), isUser(/2 baseline ranks files against 1 candidate/));
  assert.throws(() => pairRanks([a], [file('b', [['valid', 'full', 'u1', 'i1', 3]])]), isUser(/share no protocol and split/));
});

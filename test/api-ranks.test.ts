import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateWithRanks, fromEvents, pairedComparison, perUserMetric, train, UserError } from '../src/index.js';

const events: Array<{ user: string; item: string; time: number }> = [];
for (let u = 1; u <= 30; u++) for (let k = 0; k < 8; k++) events.push({ user: `u${u}`, item: `i${(u * 5 + k * 3) % 17}`, time: k });

test('library API: evaluateWithRanks gives per-user ranks with the data ids that average to its rows, and pair two models', async () => {
  const data = fromEvents(events);
  const pop = await train(data, { model: 'pop', seed: 3 });
  const ease = await train(data, { model: 'ease', seed: 3 });
  const options = { evalProtocol: 'both', seed: 3 } as const;
  const a = await evaluateWithRanks(pop, data, options);
  const b = await evaluateWithRanks(ease, data, options);
  const ndcg = perUserMetric('NDCG@10');
  for (const row of a.rows) {
    const mine = a.ranks.filter((r) => r.split === row.split && r.protocol === row.protocol);
    assert.equal(mine.length, row.users);
    const mean = mine.reduce((s, r) => s + ndcg(r.rank), 0) / mine.length;
    assert.ok(Math.abs(mean - row.metrics['NDCG@10']) < 1e-9, `${row.protocol} ${row.split}`);
    assert.ok(mine.every((r) => /^u\d+$/.test(r.user) && /^i\d+$/.test(r.item)));
  }
  const key = (r: { split: string; protocol: string; user: string }) => `${r.split} ${r.protocol} ${r.user}`;
  assert.deepEqual(a.ranks.map(key), b.ranks.map(key), 'the same users in the same order for the same seed');
  const full = (x: typeof a) =>
    Float64Array.from(
      x.ranks.filter((r) => r.split === 'test' && r.protocol === 'full'),
      (r) => ndcg(r.rank),
    );
  const cmp = pairedComparison(full(a), full(b), { resamples: 500 });
  const rowOf = (x: typeof a) => x.rows.find((r) => r.split === 'test' && r.protocol === 'full')!.metrics['NDCG@10'];
  assert.ok(Math.abs(cmp.diff - (rowOf(b) - rowOf(a))) < 1e-9);
  assert.equal(cmp.users, 30);
  await assert.rejects(evaluateWithRanks(pop, data, { split: 'random', evalProtocol: 'full' }), UserError);
  pop.dispose();
  ease.dispose();
});

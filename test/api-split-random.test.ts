import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate, fromEvents, train } from '../src/index.js';

const events: Array<{ user: string; item: string; time: number }> = [];
for (let u = 1; u <= 20; u++) for (let k = 0; k < 10; k++) events.push({ user: `u${u}`, item: `i${(u * 3 + k * k) % 15}`, time: k });

test('library API: train and evaluate with split random report the set metrics, the same for the same seed', async () => {
  const data = fromEvents(events);
  const model = await train(data, { model: 'pop', split: 'random', evalProtocol: 'full', selectProtocol: 'full', seed: 2 });
  const rows = await evaluate(model, data, { split: 'random', evalProtocol: 'full', seed: 2 });
  const again = await evaluate(model, data, { split: 'random', evalProtocol: 'full', seed: 2 });
  assert.deepEqual(
    rows.map((r) => r.metrics),
    again.map((r) => r.metrics),
  );
  const test = rows.find((r) => r.split === 'test')!;
  assert.deepEqual(Object.keys(test.metrics), ['Recall@10', 'NDCG@10', 'Hit@10', 'MRR@10', 'Precision@10']);
  assert.equal(test.users, 20);
  model.dispose();
});

/** Small taste data and the metric the item-item and factor models' learns-tests read. */
import { evaluate, type Event, fromEvents, type Interactions, type Model, train } from '../../src/index.js';

/** 80 users; user u likes group u mod 4 of 10 items and touches 6 + u mod 3 of them, shuffled per user. */
export function groupEvents(): Event[] {
  const events: Event[] = [];
  let state = 777;
  const next = (n: number) => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state % n;
  };
  for (let u = 1; u <= 80; u++) {
    const g = u % 4;
    const pool = Array.from({ length: 10 }, (_, k) => 3000 + 10 * (g * 10 + k));
    for (let k = pool.length - 1; k > 0; k--) {
      const j = next(k + 1);
      [pool[k], pool[j]] = [pool[j], pool[k]];
    }
    for (const item of pool.slice(0, 6 + (u % 3))) events.push({ user: `u${u}`, item });
  }
  return events;
}

/** The full-ranking test NDCG@10 of a model on its data. */
export async function testNdcg(model: Model, data: Interactions): Promise<number> {
  const rows = await evaluate(model, data, { evalProtocol: 'full' });
  return rows.find((r) => r.split === 'test')!.metrics['NDCG@10'];
}

/**
 * The taste data, the same events under user ids no model trained on them has seen (scored from
 * their histories alone), and PopRec's full-ranking test NDCG@10 on the data.
 */
export async function tastesWithStrangers(): Promise<{ data: Interactions; strangers: Interactions; pop: number }> {
  const data = fromEvents(groupEvents());
  const strangers = fromEvents(groupEvents().map((e) => ({ ...e, user: `new-${e.user}` })));
  return { data, strangers, pop: await testNdcg(await train(data, { model: 'pop' }), data) };
}

import assert from 'node:assert/strict';
import { copyFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadModel } from '../src/api/model-file.js';
import { recommend } from '../src/api/recommend.js';
import type { Model } from '../src/models/contract.js';
import { sourcesFromDir } from '../src/serve/model-sources.js';
import type { Server } from '../src/serve/server.js';
import { post, serveOn, trainTiny } from './helpers/serve.js';
import { testTempDir } from './helpers/tmp.js';

const dir = testTempDir('seqrec-serve-');
let popPath: string;
let sasrecPath: string;
let server: Server;
let url: string;
let sasrec: Model;

before(async () => {
  popPath = await trainTiny(dir, 'pop', 'pop');
  sasrecPath = await trainTiny(dir, 'sasrec', 'sasrec');
  sasrec = await loadModel(sasrecPath);
  ({ server, url } = await serveOn(sourcesFromDir(dir)));
});
after(async () => {
  await server.close();
  sasrec.dispose();
});

test('--model_dir with run directories serves each model under its directory name', () => {
  assert.deepEqual(sourcesFromDir(dir), [
    { name: 'pop', path: popPath },
    { name: 'sasrec', path: sasrecPath },
  ]);
});

test('POST /v1/recommend: original ids and the scores of the in-process recommend, history and exclude left out', async () => {
  const r = await post(`${url}/v1/recommend`, { history: ['4', 7, '10'], k: 5, exclude: ['13'], model: 'sasrec' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.model, 'sasrec');
  const expected = recommend(sasrec, { history: ['4', '7', '10'] }, 8)
    .filter((x) => x.item !== '13')
    .slice(0, 5);
  assert.deepEqual(r.body.items, expected);
  for (const x of r.body.items) assert.ok(!['4', '7', '10', '13'].includes(x.item));

  const byUser = await post(`${url}/v1/recommend`, { user: '3', k: 3, model: 'sasrec' });
  assert.equal(byUser.status, 200);
  assert.deepEqual(byUser.body.items, recommend(sasrec, { user: '3' }, 3));

  // the default model is the first: pop, most popular first
  const pop = await post(`${url}/v1/recommend`, { history: ['1'] });
  assert.equal(pop.body.model, 'pop');
  assert.equal(pop.body.items.length, 10);
  for (let i = 1; i < pop.body.items.length; i++) assert.ok(pop.body.items[i - 1].score >= pop.body.items[i].score);
});

test('POST /v1/recommend/batch answers each query as /v1/recommend does, in order', async () => {
  const queries = [
    { history: ['2', '5'], k: 4, model: 'sasrec' },
    { user: '7', k: 2 },
    { history: ['9'], k: 3, model: 'sasrec' },
  ];
  const r = await post(`${url}/v1/recommend/batch`, { requests: queries });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const singles = await Promise.all(queries.map((q) => post(`${url}/v1/recommend`, q)));
  assert.deepEqual(
    r.body.results,
    singles.map((s) => s.body),
  );
});

test('GET /v1/models, /healthz, /readyz, /metrics, /docs/json, /docs', async () => {
  const models = (await (await fetch(`${url}/v1/models`)).json()) as { models: Array<Record<string, unknown>> };
  assert.deepEqual(
    models.models.map((m) => [m.name, m.type, m.items]),
    [
      ['pop', 'pop', 40],
      ['sasrec', 'sasrec', 40],
    ],
  );
  assert.equal((await fetch(`${url}/healthz`)).status, 200);
  assert.deepEqual(await (await fetch(`${url}/readyz`)).json(), { status: 'ready', models: ['pop', 'sasrec'] });
  const metrics = await (await fetch(`${url}/metrics`)).text();
  assert.match(metrics, /seqrec_http_requests_total\{route="\/v1\/recommend",model="sasrec",status="200"\} [1-9]/);
  assert.match(metrics, /seqrec_http_request_duration_seconds_bucket\{le="[^"]+",route="\/v1\/recommend",model="pop"\}/);
  assert.match(metrics, /seqrec_batch_size_count\{model="sasrec"\} [1-9]/);
  assert.match(metrics, /seqrec_model_load_seconds\{model="pop"\} \d/);
  const spec = (await (await fetch(`${url}/docs/json`)).json()) as { openapi: string; paths: Record<string, unknown> };
  assert.match(spec.openapi, /^3\./);
  assert.ok(spec.paths['/v1/recommend'] && spec.paths['/v1/recommend/batch'] && spec.paths['/v1/models']);
  const docs = await fetch(`${url}/docs`);
  assert.equal(docs.status, 200);
  assert.match(await docs.text(), /swagger/i);
});

test('bad input: 400 with a one-line reason; an oversized body 413; an unknown route 404', async () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ user: 'nobody' }, /^user: unknown user id "nobody"$/],
    [{ history: ['1', 'nope'] }, /^history: unknown item id "nope"$/],
    [{ history: [] }, /history must NOT have fewer than 1 items/],
    [{ history: ['1'], k: 0 }, /k must be >= 1/],
    [{ history: ['1'], k: 51 }, /k must be <= 50/],
    [{ history: ['1'], k: 2.5 }, /k must be integer/],
    [{ history: '1' }, /history must be array/],
    [{ history: [{ a: 1 }] }, /history\/0 must be string,integer/],
    [{ history: Array.from({ length: 101 }, () => '1') }, /history must NOT have more than 100 items/],
    [{ history: ['1'], times: [1, 2] }, /^times: 2 times for 1 history items$/],
    [{ user: '1', history: ['1'] }, /^give exactly one of "user" or "history"$/],
    [{}, /^give exactly one of "user" or "history"$/],
    [{ history: ['1'], colour: 'red' }, /must NOT have additional properties/],
    [{ history: ['1'], model: 'gpt' }, /^model: unknown model "gpt" \(served: pop, sasrec\)$/],
    ['{"history": [', /^body: not valid JSON \(/],
    ['[1, 2]', /body must be object/],
  ];
  for (const [body, reason] of cases) {
    const r = await post(`${url}/v1/recommend`, body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.match(r.body.error, reason, JSON.stringify(body));
    assert.ok(!r.body.error.includes('\n'));
  }
  const batch = await post(`${url}/v1/recommend/batch`, { requests: [{ history: ['1'] }, { user: 'nobody' }] });
  assert.equal(batch.status, 400);
  assert.equal(batch.body.error, 'requests[1]: user: unknown user id "nobody"');
  const empty = await post(`${url}/v1/recommend/batch`, { requests: [] });
  assert.equal(empty.status, 400);
  const big = await post(`${url}/v1/recommend`, { history: ['1'], pad: 'x'.repeat(5000) });
  assert.equal(big.status, 413);
  const missing = await fetch(`${url}/v2/nothing`);
  assert.equal(missing.status, 404);
  assert.equal(((await missing.json()) as { error: string }).error, 'no route GET /v2/nothing');
  const metrics = await (await fetch(`${url}/metrics`)).text();
  assert.doesNotMatch(metrics, /model="gpt"/);
  // the server still answers after all that
  assert.equal((await post(`${url}/v1/recommend`, { history: ['1'] })).status, 200);
});

test('--unknown_items drop: unknown history items are left out; none left is a 400', async () => {
  const { server: s, url: u } = await serveOn([{ name: 'sasrec', path: sasrecPath }], { unknownItems: 'drop' });
  try {
    const r = await post(`${u}/v1/recommend`, { history: ['4', 'zzz', '7'], k: 4 });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.items, recommend(sasrec, { history: ['4', '7'] }, 4));
    const none = await post(`${u}/v1/recommend`, { history: ['zzz'] });
    assert.equal(none.status, 400);
    assert.equal(none.body.error, 'history: empty once unknown items are dropped');
  } finally {
    await s.close();
  }
});

test('dynamic batching: concurrent queries are scored together and answered exactly as one by one', async () => {
  const { server: s, url: u } = await serveOn([{ name: 'sasrec', path: sasrecPath }], { maxBatch: 16, maxWaitMs: 20 });
  try {
    const queries = Array.from({ length: 24 }, (_, i) => ({ history: [String((i % 40) + 1), String(((i * 7) % 40) + 1)], k: 6 }));
    const batched = await Promise.all(queries.map((q) => post(`${u}/v1/recommend`, q)));
    const unbatched: unknown[] = [];
    for (const q of queries) unbatched.push((await post(`${url}/v1/recommend`, { ...q, model: 'sasrec' })).body.items);
    assert.deepEqual(
      batched.map((r) => r.body.items),
      unbatched,
    );
    const metrics = await s.metrics.batchSize.get();
    const count = metrics.values.find((v) => v.metricName === 'seqrec_batch_size_count')!.value;
    assert.ok(count < queries.length, `${count} scoring calls for ${queries.length} queries: nothing was batched`);
  } finally {
    await s.close();
  }
});

test('reload: a model file replaced on disk is swapped in while requests keep succeeding', async () => {
  const reloadDir = join(dir, 'reload');
  const first = await trainTiny(reloadDir, 'a', 'sasrec', 1);
  const second = await trainTiny(reloadDir, 'b', 'sasrec', 2, 1);
  const served = join(reloadDir, 'served.safetensors');
  copyFileSync(first, served);
  const { server: s, url: u } = await serveOn([{ name: 'm', path: served }], { reloadPollMs: 20, maxBatch: 4, maxWaitMs: 1 });
  try {
    const query = { history: ['4', '7'], k: 5 };
    const before = (await post(`${u}/v1/recommend`, query)).body.items;
    const loadedAt = s.store.infos()[0].loadedAt;
    let stop = false;
    const statuses: number[] = [];
    const traffic = (async () => {
      while (!stop) {
        const rs = await Promise.all([post(`${u}/v1/recommend`, query), post(`${u}/v1/recommend/batch`, { requests: [query, query] })]);
        for (const r of rs) statuses.push(r.status);
      }
    })();
    copyFileSync(second, `${served}.tmp`);
    renameSync(`${served}.tmp`, served);
    const deadline = Date.now() + 10000;
    while (s.store.infos()[0].loadedAt === loadedAt && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));
    stop = true;
    await traffic;
    assert.notEqual(s.store.infos()[0].loadedAt, loadedAt, 'the replaced file was not reloaded');
    assert.ok(statuses.length > 4);
    assert.ok(
      statuses.every((x) => x === 200),
      `statuses: ${statuses.join(',')}`,
    );
    const afterItems = (await post(`${u}/v1/recommend`, query)).body.items;
    const fresh = await loadModel(second);
    try {
      assert.deepEqual(afterItems, recommend(fresh, { history: ['4', '7'] }, 5));
    } finally {
      fresh.dispose();
    }
    assert.notDeepEqual(afterItems, before);
  } finally {
    await s.close();
  }
});

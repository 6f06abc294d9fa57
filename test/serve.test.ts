/**
 * `seqrec serve` (issue 20): every route, the same answers as the library's recommend(), dynamic
 * batching giving the unbatched answers, each bad input a 4xx with one line (never a 500), a model
 * replaced under traffic without a failed request, and SIGTERM draining a request in flight.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadDataset, recommend, saveModel, train } from '../src/index.js';
import { ModelSet } from '../src/serve/models.js';
import { buildServer, type ServerOptions } from '../src/serve/server.js';
import { writeRingDataset } from './helpers/datasets.js';
import { testTempDir } from './helpers/tmp.js';

const dir = testTempDir('seqrec-serve-');
const data = await loadDataset(writeRingDataset(join(dir, 'ring.txt')));
const modelDir = join(dir, 'models');
mkdirSync(join(modelDir, 'sasrec-run'), { recursive: true });
const sasrec = await train(data, { model: 'sasrec', numEpochs: 2, evalEvery: 2, maxlen: 10, hiddenUnits: 16, seed: 1 });
await saveModel(sasrec, join(modelDir, 'sasrec-run', 'sasrec.safetensors'));
const pop = await train(data, { model: 'pop' });
await saveModel(pop, join(modelDir, 'poprec.json'));

const OPTIONS: ServerOptions = {
  maxBatch: 1,
  maxWaitMs: 0,
  unknownItems: 'drop',
  defaultK: 10,
  maxK: 50,
  maxItems: 100,
  maxBatchRequests: 20,
  bodyLimitBytes: 4096,
  logLevel: 'silent',
  requestTimeoutMs: 5000,
};

async function server(options: Partial<ServerOptions> = {}) {
  const models = await ModelSet.fromDir(modelDir);
  const s = await buildServer(models, { ...OPTIONS, ...options });
  return { ...s, models };
}

const post = (app: Awaited<ReturnType<typeof server>>['app'], url: string, payload: unknown) =>
  app.inject({ method: 'POST', url, payload: payload as object, headers: { 'content-type': 'application/json' } });

test("routes: recommendations equal the library's, models listed, health, readiness and metrics", async () => {
  const { app, models } = await server();
  try {
    const user = await post(app, '/v1/recommend', { user: 'u3', k: 5, model: 'sasrec-run' });
    assert.equal(user.statusCode, 200, user.body);
    const want = recommend(sasrec, { user: 'u3' }, 5);
    assert.deepEqual(
      user.json().items,
      want.map((r) => ({ item: r.item, score: r.score })),
    );
    const hist = await post(app, '/v1/recommend', { history: [1000, '1010'], k: 3, model: 'poprec' });
    assert.deepEqual(hist.json().items, recommend(pop, { history: ['1000', '1010'] }, 3));
    const batch = await post(app, '/v1/recommend/batch', {
      model: 'sasrec-run',
      requests: [
        { user: 'u1', k: 2 },
        { history: [1020], k: 2 },
      ],
    });
    assert.equal(batch.statusCode, 200, batch.body);
    assert.deepEqual(batch.json().results[1].items, recommend(sasrec, { history: ['1020'] }, 2));
    const list = (await app.inject({ url: '/v1/models' })).json().models;
    assert.deepEqual(
      list.map((m: { name: string; type: string }) => [m.name, m.type]),
      [
        ['poprec', 'pop'],
        ['sasrec-run', 'sasrec'],
      ],
    );
    assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200);
    const ready = await app.inject({ url: '/readyz' });
    assert.deepEqual(ready.json().models, ['poprec', 'sasrec-run']);
    const metrics = (await app.inject({ url: '/metrics' })).body;
    assert.match(metrics, /seqrec_requests_total\{route="\/v1\/recommend",model="sasrec-run",status="200"\} 1/);
    assert.match(metrics, /seqrec_model_load_seconds\{model="poprec"\}/);
  } finally {
    await app.close();
    models.close();
  }
});

test('dynamic batching: concurrent queries scored together get exactly the unbatched answers', async () => {
  const histories = [[1000], [1010, 1020], [1100, 1110, 1120], [1200], [1250, 1000], [1030]];
  const alone = await server();
  const together = await server({ maxBatch: 8, maxWaitMs: 50 });
  try {
    const want = await Promise.all(histories.map((h) => post(alone.app, '/v1/recommend', { history: h, model: 'sasrec-run' })));
    const got = await Promise.all(histories.map((h) => post(together.app, '/v1/recommend', { history: h, model: 'sasrec-run' })));
    for (let i = 0; i < histories.length; i++) assert.deepEqual(got[i].json(), want[i].json());
    const metrics = (await together.app.inject({ url: '/metrics' })).body;
    const sum = /seqrec_batch_size_sum\{model="sasrec-run"\} (\d+)/.exec(metrics);
    const count = /seqrec_batch_size_count\{model="sasrec-run"\} (\d+)/.exec(metrics);
    assert.ok(
      sum && count && Number(sum[1]) === histories.length && Number(count[1]) < histories.length,
      `batched: ${sum?.[1]} queries in ${count?.[1]} calls`,
    );
  } finally {
    for (const s of [alone, together]) {
      await s.app.close();
      s.models.close();
    }
  }
});

test('bad input: a 4xx with a one-line reason for each case, never a 500', async () => {
  const { app, models } = await server({ unknownItems: 'error' });
  try {
    const cases: Array<[unknown, number, RegExp]> = [
      [{ history: [1000], k: 0, model: 'poprec' }, 400, /^k: must be >= 1$/],
      [{ history: [1000], k: 51, model: 'poprec' }, 400, /^k: must be <= 50$/],
      [{ history: [1000], k: 'ten', model: 'poprec' }, 400, /^k: must be integer$/],
      [{ histori: [1000] }, 400, /^body: unknown field "histori"$/],
      [{ history: [], model: 'poprec' }, 400, /^history: empty/],
      [{ history: [1000, { a: 1 }], model: 'poprec' }, 400, /^history\.1: /],
      [{ history: Array(101).fill(1000), model: 'poprec' }, 400, /^history: must NOT have more than 100 items$/],
      [{ user: 'nobody', model: 'poprec' }, 400, /^user: unknown user id "nobody"/],
      [{ history: [1000], model: 'bert' }, 400, /^model: unknown model "bert" \(served: poprec, sasrec-run\)$/],
      [{ history: [1000] }, 400, /^model: 2 models are served/],
      [{ history: [424242], model: 'poprec' }, 400, /^history: unknown item id "424242"$/],
      [{ user: 'u1', history: [1000], model: 'poprec' }, 400, /not both/],
      [{ history: [1000, 1010], times: [5], model: 'sasrec-run' }, 400, /^times: 1 times for 2 items$/],
      [{ history: 'x'.repeat(5000) }, 413, /^body over the limit of 4096 bytes$/],
    ];
    for (const [body, code, reason] of cases) {
      const r = await post(app, '/v1/recommend', body);
      assert.equal(r.statusCode, code, `${JSON.stringify(body).slice(0, 80)} → ${r.body}`);
      assert.match(r.json().error, reason);
      assert.ok(!r.json().error.includes('\n'));
    }
    const bad = await app.inject({
      method: 'POST',
      url: '/v1/recommend',
      payload: '{"history": [1',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(bad.statusCode, 400);
    const batch = await post(app, '/v1/recommend/batch', { model: 'poprec', requests: [{ history: [1000] }, { history: [99] }] });
    assert.equal(batch.statusCode, 400);
    assert.match(batch.json().error, /^requests\[1\]: history: unknown item id "99"$/);
    assert.equal((await app.inject({ url: '/v2/nothing' })).statusCode, 404);
  } finally {
    await app.close();
    models.close();
  }
  const dropping = await server();
  try {
    const r = await post(dropping.app, '/v1/recommend', { history: [1000, 424242], model: 'poprec' });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json().dropped, ['424242']);
  } finally {
    await dropping.app.close();
    dropping.models.close();
  }
});

test('a model replaced under traffic: no request fails, and the new model answers afterwards', async () => {
  const { app, models } = await server({ maxBatch: 4, maxWaitMs: 1 });
  const other = await train(data, { model: 'sasrec', numEpochs: 1, evalEvery: 1, maxlen: 10, hiddenUnits: 16, seed: 7 });
  const otherPath = join(dir, 'other.safetensors');
  await saveModel(other, otherPath);
  try {
    const traffic = Array.from({ length: 60 }, (_, i) => post(app, '/v1/recommend', { history: [1000 + 10 * (i % 20)], model: 'sasrec-run', k: 3 }));
    await models.load('sasrec-run', otherPath);
    const codes = (await Promise.all(traffic)).map((r) => r.statusCode);
    assert.deepEqual([...new Set(codes)], [200]);
    const after = await post(app, '/v1/recommend', { history: [1000], model: 'sasrec-run', k: 3 });
    assert.deepEqual(after.json().items, recommend(other, { history: ['1000'] }, 3));
    await assert.rejects(models.load('sasrec-run', join(dir, 'ring.txt')), /ring\.txt/);
    const still = await post(app, '/v1/recommend', { history: [1000], model: 'sasrec-run', k: 3 });
    assert.deepEqual(still.json().items, after.json().items, 'a file that does not load leaves the model being served');
  } finally {
    other.dispose();
    await app.close();
    models.close();
  }
});

test('seqrec serve: listens on a free port, answers, and on SIGTERM finishes the request in flight and exits 0', async () => {
  const cli = fileURLToPath(new URL('../src/cli/run.ts', import.meta.url));
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', cli, 'serve', '--model_dir', modelDir, '--port', '0', '--log_level', 'silent', '--max_wait_ms', '400'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  let stderr = '';
  const address = await new Promise<string>((resolve, reject) => {
    child.stderr?.on('data', (c) => {
      stderr += String(c);
      const m = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (m) resolve(m[1]);
    });
    child.on('exit', () => reject(new Error(`serve exited: ${stderr}`)));
  });
  // the batcher holds the request for 400 ms: SIGTERM comes while it is being answered
  const body = JSON.stringify({ model: 'sasrec-run', requests: Array.from({ length: 20 }, (_, i) => ({ history: [1000 + 10 * i], k: 5 })) });
  const inFlight = fetch(`${address}/v1/recommend/batch`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  await new Promise((r) => setTimeout(r, 150));
  child.kill('SIGTERM');
  const res = await inFlight;
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { results: unknown[] }).results.length, 20);
  assert.equal(await exited, 0, stderr);
  assert.match(stderr, /SIGTERM: draining requests in flight, then exiting/);
});

test("the README's curl examples: each body, posted to its route, gets a 200", async () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## Serving'), readme.indexOf('## Library'));
  const calls = [...section.matchAll(/^curl -s localhost:8080(\S+)(?: -H '[^']*' -d '([^']*)')?$/gm)];
  assert.ok(calls.length >= 4, `found ${calls.length} curl lines`);
  const { app, models } = await server();
  try {
    for (const [, url, body] of calls) {
      const r = body === undefined ? await app.inject({ url }) : await post(app, url, JSON.parse(body));
      assert.equal(r.statusCode, 200, `${url} ${body ?? ''} → ${r.body}`);
    }
  } finally {
    await app.close();
    models.close();
  }
});

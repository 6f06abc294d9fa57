import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { sourcesFromDir } from '../src/serve/model-sources.js';
import type { Server } from '../src/serve/server.js';
import { serveOn, trainTiny } from './helpers/serve.js';
import { testTempDir } from './helpers/tmp.js';

/** The curl examples of README's "Serving" section: path and JSON body (none for a GET). */
function readmeExamples(): Array<{ path: string; body?: unknown }> {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('## Serving'), readme.indexOf('## Library'));
  const lines = section.split('\n').filter((l) => l.startsWith('curl '));
  return lines.map((line) => {
    const path = /localhost:8080(\/\S*)/.exec(line)![1];
    const data = /-d '([^']*)'/.exec(line);
    return data ? { path, body: JSON.parse(data[1]) } : { path };
  });
}

const dir = testTempDir('seqrec-serve-readme-');
let server: Server;
let url: string;

before(async () => {
  await trainTiny(dir, 'pop', 'pop');
  await trainTiny(dir, 'sasrec', 'sasrec');
  ({ server, url } = await serveOn(sourcesFromDir(dir)));
});
after(() => server.close());

test("README's curl examples answer 200 from a live server, recommendations as the README says", async () => {
  const examples = readmeExamples();
  assert.equal(examples.length, 6);
  for (const { path, body } of examples) {
    const init = body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
    const r = await fetch(`${url}${path}`, init);
    const text = await r.text();
    assert.equal(r.status, 200, `${path}: ${text}`);
    if (path === '/v1/recommend') {
      const answer = JSON.parse(text) as { model: string; items: Array<{ item: string; score: number }> };
      const query = body as { k: number; model: string; history?: string[]; exclude?: string[] };
      assert.equal(answer.model, query.model);
      assert.equal(answer.items.length, query.k);
      for (const x of answer.items) assert.ok(!(query.history ?? []).includes(x.item) && !(query.exclude ?? []).includes(x.item));
    }
  }
});

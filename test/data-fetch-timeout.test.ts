/**
 * `data fetch` has timeouts of its own (issue 23, finding 5): a server that does not answer, or stops
 * sending, is given up on after --timeout with one line, the partial download removed; progress gives
 * bytes and rate. A local HTTP server only: no network.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fetchMovieLens } from '../src/data/index.js';
import { testTempDir } from './helpers/tmp.js';

const dir = testTempDir('seqrec-fetch-timeout-');
const hanging: ServerResponse[] = [];
const server = createServer((req, res) => {
  if (req.url === '/silent/ml-100k.zip') {
    hanging.push(res); // never answers
  } else if (req.url === '/stall/ml-100k.zip') {
    res.writeHead(200, { 'content-length': String(3 * 2 ** 20) });
    res.write(Buffer.alloc(2 ** 20)); // a third, then nothing more
    hanging.push(res);
  } else if (req.url === '/ok/ml-100k.zip') {
    res.writeHead(200, { 'content-length': String(2 ** 20) });
    res.end(Buffer.alloc(2 ** 20));
  } else {
    res.writeHead(404).end();
  }
});
const listening = new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
after(() => {
  for (const r of hanging) r.destroy();
  server.closeAllConnections();
  server.close();
});
const base = async (p: string) => {
  await listening;
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/${p}`;
};

for (const [path, reason] of [
  ['silent', /no answer from the server for 0\.5 s \(--timeout\)/],
  ['stall', /no data for 0\.5 s \(--timeout\); nothing was kept/],
] as const) {
  test(`a server that ${path === 'silent' ? 'never answers' : 'stops sending'} is given up on after --timeout; nothing is left in the cache`, {
    timeout: 15_000,
  }, async () => {
    const cacheDir = join(dir, path);
    const t0 = performance.now();
    await assert.rejects(fetchMovieLens('ml-100k', { cacheDir, baseUrl: await base(path), timeoutSeconds: 0.5 }), {
      name: 'UserError',
      message: reason,
    });
    assert.ok(performance.now() - t0 < 5000, 'gave up in time');
    assert.deepEqual(readdirSync(cacheDir), [], 'no zip, no temp file');
  });
}

test('progress gives the bytes and the rate', { timeout: 15_000 }, async () => {
  const logs: string[] = [];
  const cacheDir = join(dir, 'ok');
  // the bytes are no zip of ml-100k: the sha256 check refuses them after the download, which is logged
  await assert.rejects(fetchMovieLens('ml-100k', { cacheDir, baseUrl: await base('ok'), log: (m) => logs.push(m) }), /sha256 mismatch/);
  assert.match(logs.join('\n'), /downloaded 1\.0 MiB of 1\.0 MiB \(\d+(\.\d)? MiB\/s\)/);
});

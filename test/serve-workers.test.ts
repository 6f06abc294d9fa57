/**
 * `seqrec serve --workers 2`: two processes answer on one port; SIGHUP reloads the models in both; a
 * worker that dies is replaced; SIGTERM drains the request in flight and the primary exits 0; a model
 * that does not load fails once, in one line.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { post, trainTiny } from './helpers/serve.js';
import { testTempDir } from './helpers/tmp.js';

const dir = testTempDir('seqrec-serve-workers-');

function serve(model: string, extra: string[] = []): { child: ChildProcess; out: () => string; err: () => string } {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/run.ts', 'serve', '--model_dir', model, '--port', '0', '--workers', '2', '--log_level', 'info', ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  return { child, out: () => stdout, err: () => stderr };
}

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let waited = 0; !ok(); waited += 20) {
    if (waited > 30000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A request on its own connection (so the cluster may hand it to either worker). */
function postFresh(url: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/v1/recommend`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const count = (s: string, re: RegExp) => s.match(re)?.length ?? 0;

test('--workers 2: both workers answer; SIGHUP reloads both; a dead worker is replaced; SIGTERM drains and exits 0', async () => {
  const model = await trainTiny(dir, 'pop', 'pop');
  const { child, out, err } = serve(model, ['--max_batch', '8', '--max_wait_ms', '800']);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await until('two workers listening', () => count(out(), /"msg":"Server listening at/g) === 2);
  const url = /"msg":"Server listening at (http:\/\/127\.0\.0\.1:\d+)"/.exec(out())![1];
  const ports = new Set(Array.from(out().matchAll(/Server listening at http:\/\/127\.0\.0\.1:(\d+)/g), (m) => m[1]));
  assert.equal(ports.size, 1, 'the workers share one port');

  const statuses = await Promise.all(Array.from({ length: 8 }, () => postFresh(url, { history: ['1'], k: 2 })));
  assert.deepEqual(statuses, Array(8).fill(200));
  await until('request logs', () => count(out(), /"msg":"request completed"/g) >= 8);
  const pids = new Set(Array.from(out().matchAll(/"pid":(\d+)[^\n]*"msg":"request completed"/g), (m) => m[1]));
  assert.equal(pids.size, 2, 'requests were answered by both workers');

  child.kill('SIGHUP');
  await until('both workers reloading', () => count(out(), /"msg":"model loaded"/g) === 4);

  const victim = Number([...pids][0]);
  process.kill(victim, 'SIGKILL');
  await until('a replacement worker', () => count(out(), /"msg":"Server listening at/g) === 3);
  assert.match(err(), new RegExp(`^seqrec serve: worker ${victim} exited \\(SIGKILL\\); starting another\\n$`));

  const started = Date.now();
  const inFlight = post(`${url}/v1/recommend`, { history: ['1'], k: 3 });
  await new Promise((r) => setTimeout(r, 200));
  child.kill('SIGTERM');
  const answer = await inFlight;
  assert.equal(answer.status, 200);
  assert.equal(answer.body.items.length, 3);
  assert.ok(Date.now() - started >= 700, 'the request was answered before its batching wait: it was not in flight at SIGTERM');
  assert.equal(await exited, 0, err());
  assert.equal(count(out(), /"msg":"shutting down: draining requests in flight"/g), 2);
  await assert.rejects(fetch(`${url}/healthz`));
});

test('--workers 2 with a model that does not load: exits non-zero with one line', async () => {
  const corrupt = join(dir, 'corrupt.safetensors');
  writeFileSync(corrupt, 'not a model file at all');
  const { child, err } = serve(corrupt);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  assert.notEqual(code, 0);
  assert.equal(err().trim().split('\n').length, 1, err());
  assert.match(err(), /corrupt\.safetensors/);
});

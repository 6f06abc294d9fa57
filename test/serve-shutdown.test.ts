import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { post, trainTiny } from './helpers/serve.js';
import { testTempDir } from './helpers/tmp.js';

const dir = testTempDir('seqrec-serve-stop-');

test('SIGHUP reloads the models; SIGTERM: the CLI stops accepting, answers the request in flight, and exits 0', async () => {
  const model = await trainTiny(dir, 'pop', 'pop');
  // a long batching wait keeps the request in flight when SIGTERM arrives
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/run.ts',
      'serve',
      '--model_dir',
      model,
      '--port',
      '0',
      '--max_batch',
      '8',
      '--max_wait_ms',
      '800',
      '--log_level',
      'info',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      stdout += d;
      const m = /"msg":"Server listening at (http:\/\/127\.0\.0\.1:\d+)"/.exec(stdout);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`exited ${code} before listening: ${stderr}`)));
  });
  child.kill('SIGHUP');
  const loads = () => stdout.match(/"msg":"model loaded"/g)?.length ?? 0;
  for (let waited = 0; loads() < 2 && waited < 10000; waited += 20) await new Promise((r) => setTimeout(r, 20));
  assert.equal(loads(), 2, 'SIGHUP did not reload the model');
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const started = Date.now();
  const inFlight = post(`${url}/v1/recommend`, { history: ['1'], k: 3 });
  await new Promise((r) => setTimeout(r, 200));
  child.kill('SIGTERM');
  const answer = await inFlight;
  assert.equal(answer.status, 200);
  assert.equal(answer.body.items.length, 3);
  assert.ok(Date.now() - started >= 700, 'the request was answered before its batching wait: it was not in flight at SIGTERM');
  const code = await exited;
  assert.equal(code, 0, stderr);
  assert.equal(stderr, '');
  // request ids in the log lines of the request
  assert.match(stdout, /"reqId":"req-1".*"url":"\/v1\/recommend"/);
  await assert.rejects(fetch(`${url}/healthz`));
});

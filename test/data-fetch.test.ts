import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { strToU8, zipSync } from 'fflate';
import { fetchMovieLens, readInteractions } from '../src/data/index.js';
import { UserError } from '../src/core/errors.js';

const repoRoot = path.resolve(fileURLToPath(import.meta.url), '../..');

// 6 users × 6 items (ids 10..15), plus item 99 rated once: a 5-core drops item 99 only
const lines: string[] = [];
for (let u = 1; u <= 6; u++) for (let i = 0; i < 6; i++) lines.push(`${u}\t${10 + ((u + i) % 6)}\t${1 + (i % 5)}\t${1000 + 10 * i + u}`);
lines.push('3\t99\t5\t2000');
const zip = zipSync({
  'ml-100k/u.data': strToU8(`${lines.join('\n')}\n`),
  'ml-100k/README': strToU8('test copy\n'),
});
const zipSha = createHash('sha256').update(zip).digest('hex');

let server: Server;
let baseUrl = '';
let requests = 0;

before(async () => {
  server = createServer((req, res) => {
    requests++;
    if (req.url === '/ml/ml-100k.zip') {
      res.writeHead(200, { 'content-type': 'application/zip' });
      res.end(Buffer.from(zip));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ml`;
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

test('fetch downloads, verifies, extracts and converts; a second call reuses the cached zip', async () => {
  const cacheDir = mkdtempSync(path.join(tmpdir(), 'seqrec-fetch-'));
  try {
    const before = requests;
    const res = await fetchMovieLens('ml-100k', { cacheDir, baseUrl, sha256: zipSha, minUserCount: 0, minItemCount: 0 });
    assert.equal(requests - before, 1);
    assert.equal(res.downloaded, true);
    assert.equal(res.outputPath, path.join(cacheDir, 'ml-100k.txt'));
    assert.equal(readFileSync(path.join(cacheDir, 'ml-100k/README'), 'utf8'), 'test copy\n');
    assert.deepEqual([res.stats.users, res.stats.items, res.stats.actions], [6, 7, 37]);
    const out = readFileSync(res.outputPath, 'utf8').trimEnd().split('\n');
    assert.equal(out.length, 37);
    // user 1 rated items 11,12,13,14,15,10 at 1001,1011,...: dense ids 2..6,1, times kept
    assert.deepEqual(out.slice(0, 6), ['1 2 1001', '1 3 1011', '1 4 1021', '1 5 1031', '1 6 1041', '1 1 1051']);
    assert.equal(readFileSync(`${res.outputPath}.items.tsv`, 'utf8').split('\n')[6], '7\t99');
    const back = await readInteractions(res.outputPath);
    assert.equal(back.itemNum, 7);

    const again = await fetchMovieLens('ml-100k', { cacheDir, baseUrl, sha256: zipSha });
    assert.equal(again.downloaded, false);
    assert.equal(requests - before, 1);
    // default: 5-core one-pass drops the item rated once
    assert.deepEqual([again.stats.users, again.stats.items, again.stats.actions], [6, 6, 36]);
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
});

test('checksum mismatch → UserError, the download is removed and nothing is converted', async () => {
  const cacheDir = mkdtempSync(path.join(tmpdir(), 'seqrec-fetch-'));
  try {
    await assert.rejects(fetchMovieLens('ml-100k', { cacheDir, baseUrl, sha256: '0'.repeat(64) }), (err: unknown) => {
      return err instanceof UserError && /sha256 mismatch \(got [0-9a-f]{64}, expected 0{64}\); the download was removed/.test(err.message);
    });
    assert.equal(existsSync(path.join(cacheDir, 'ml-100k.zip')), false);
    assert.equal(existsSync(path.join(cacheDir, 'ml-100k.txt')), false);
    assert.equal(existsSync(path.join(cacheDir, 'ml-100k')), false);
    // without an override the official checksum is expected, and our test zip does not match it
    await assert.rejects(
      fetchMovieLens('ml-100k', { cacheDir, baseUrl }),
      /expected 50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229/,
    );
    await assert.rejects(fetchMovieLens('ml-1m', { cacheDir, baseUrl }), (err: unknown) => err instanceof UserError && /HTTP 404/.test(err.message));
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
});

test('CLI: seqrec data fetch with SEQREC_DATA_BASE_URL and --sha256', async () => {
  const cacheDir = mkdtempSync(path.join(tmpdir(), 'seqrec-fetch-'));
  try {
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'src/cli/run.ts', 'data', 'fetch', 'ml-100k', '--cache_dir', cacheDir, '--sha256', zipSha],
        { cwd: repoRoot, env: { ...process.env, SEQREC_DATA_BASE_URL: baseUrl } },
        (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
      );
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^${path.join(cacheDir, 'ml-100k.txt').replace(/[.]/g, '\\.')}$`, 'm'));
    assert.match(r.stdout, /6 users, 6 items, 36 actions \(5\/5-core \(one-pass\)\)/);
    assert.match(r.stderr, /sha256 ok/);
    assert.equal(readFileSync(path.join(cacheDir, 'ml-100k.txt'), 'utf8').split('\n').length, 37);
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
});

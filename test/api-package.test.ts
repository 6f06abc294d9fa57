/**
 * The library as a user gets it: `npm pack` of this checkout (its dist/, which `npm test` builds
 * first), installed into an empty project, running README.md's library example exactly as written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { testTempDir } from './helpers/tmp.js';

const root = resolve(import.meta.dirname, '..');
const dir = testTempDir('seqrec-package-');

/** npm, as the test runner's npm when `npm test` started it. */
function npm(args: string[], cwd: string): SpawnSyncReturns<string> {
  const cli = process.env.npm_execpath;
  const [cmd, argv] = cli?.endsWith('.js') ? [process.execPath, [cli, ...args]] : ['npm', args];
  return spawnSync(cmd, argv, { cwd, encoding: 'utf8', timeout: 180_000 });
}

/** The code block that follows the `<!-- library-example -->` marker in README.md. */
function readmeExample(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const m = /<!-- library-example -->\s*```js\n([\s\S]*?)```/.exec(readme);
  assert.ok(m, 'README.md has a ```js block after <!-- library-example -->');
  return m[1];
}

test("README's library example runs from the packed package", { timeout: 300_000 }, () => {
  assert.ok(existsSync(join(root, 'dist/index.js')), 'dist/ is built (npm test builds it first)');
  const packDir = join(dir, 'pack');
  mkdirSync(packDir);
  const packed = npm(['pack', '--ignore-scripts', '--pack-destination', packDir, '--silent'], root);
  assert.equal(packed.status, 0, packed.stderr || packed.stdout);
  const tarball = readdirSync(packDir).find((f) => f.endsWith('.tgz'));
  assert.ok(tarball, 'npm pack wrote a tarball');

  const project = join(dir, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'uses-seqrec', private: true, type: 'module' }));
  const installed = npm(['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', join(packDir, tarball)], project);
  assert.equal(installed.status, 0, installed.stderr);
  assert.ok(existsSync(join(project, 'node_modules/seqrec/dist/index.d.ts')), 'the package ships its types');

  writeFileSync(join(project, 'example.mjs'), readmeExample());
  const run = spawnSync(process.execPath, ['example.mjs'], { cwd: project, encoding: 'utf8', timeout: 120_000 });
  assert.equal(run.status, 0, run.stderr);
  const ndcg = /^test NDCG@10 (\d\.\d{3})$/m.exec(run.stdout);
  assert.ok(ndcg, run.stdout);
  assert.ok(Number(ndcg[1]) > 0.3, `a ring is learnt: test NDCG@10 ${ndcg[1]}`);
  assert.match(run.stdout, /^next after i5 i6 i7: i8 /m);
  // u7 walked i7 … i18: next is i19, from the model file saved and loaded again
  assert.match(run.stdout, /^next for u7: i19 /m);
  assert.ok(existsSync(join(project, 'ring.safetensors')));
});

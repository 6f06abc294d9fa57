/**
 * One run per output directory (issue 23, findings 1 and 10): a second run into a held --train_dir or
 * experiments folder refuses with one line; a lock left by a killed process is taken over, saying so;
 * and the temporary files that killed runs left behind are removed by the next run there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LOCK_FILE, lockDir } from '../src/io/lock.js';
import { runExperiments } from '../src/experiments/run.js';
import { runCli } from './helpers/cli.js';
import { writeRingDataset } from './helpers/datasets.js';
import { testTempDir } from './helpers/tmp.js';

const dir = testTempDir('seqrec-lock-');

/** A child process that lives until killed, and a promise of its end. */
function sleeper() {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
  const ended = new Promise<void>((r) => child.on('exit', () => r()));
  return {
    pid: child.pid!,
    kill: async () => {
      child.kill('SIGKILL');
      await ended;
    },
  };
}

const lockOf = (pid: number) => JSON.stringify({ pid, host: hostname(), command: 'train', started: 'then' });

test('a held directory refuses a second holder, in this process or another; release frees it', () => {
  const d = join(dir, 'held');
  mkdirSync(d);
  const lock = lockDir(d, '--train_dir');
  assert.equal(JSON.parse(readFileSync(join(d, LOCK_FILE), 'utf8')).pid, process.pid);
  assert.throws(() => lockDir(d, '--train_dir'), {
    name: 'UserError',
    message: new RegExp(`^--train_dir ${d} is in use by process ${process.pid} `),
  });
  lock.release();
  assert.ok(!existsSync(join(d, LOCK_FILE)));
  lockDir(d, '--train_dir').release();
});

test("a live process's lock is kept; once it is killed (kill -9) the lock is taken over, saying so", async () => {
  const d = join(dir, 'stale');
  mkdirSync(d);
  const other = sleeper();
  writeFileSync(join(d, LOCK_FILE), lockOf(other.pid));
  assert.throws(() => lockDir(d, '--train_dir'), { name: 'UserError', message: new RegExp(`in use by process ${other.pid}`) });
  await other.kill();
  const notes: string[] = [];
  const lock = lockDir(d, '--train_dir', (l) => notes.push(l));
  assert.match(notes.join('\n'), new RegExp(`taking over the lock of process ${other.pid}, which is no longer running`));
  assert.equal(JSON.parse(readFileSync(join(d, LOCK_FILE), 'utf8')).pid, process.pid);
  lock.release();
});

test("the next run in a directory removes killed runs' temp files, not a live process's", async () => {
  const d = join(dir, 'temps');
  mkdirSync(d);
  const live = sleeper();
  const dead = sleeper();
  await dead.kill();
  const deadTmp = `last.safetensors.tmp-${dead.pid}-0123456789ab`;
  const liveTmp = `results.json.tmp-${live.pid}-0123456789ab`;
  writeFileSync(join(d, deadTmp), 'partial');
  writeFileSync(join(d, liveTmp), 'being written');
  writeFileSync(join(d, 'notes.tmp-x'), 'not ours');
  const notes: string[] = [];
  lockDir(d, '--train_dir', (l) => notes.push(l)).release();
  assert.deepEqual(readdirSync(d).sort(), ['notes.tmp-x', liveTmp]);
  assert.match(notes.join('\n'), /removed 1 temporary file of killed runs/);
  await live.kill();
});

const dataset = writeRingDataset(join(dir, 'ring.txt'), { users: 40 });
const tiny = [
  '--model',
  'sasrec',
  '--dataset',
  dataset,
  '--maxlen',
  '6',
  '--hidden_units',
  '8',
  '--num_blocks',
  '1',
  '--batch_size',
  '8',
  '--threads',
  '1',
];

test('two `seqrec train` into one --train_dir: the second refuses with one line, the first finishes', async () => {
  const d = join(dir, 'run');
  const first = runCli(['train', ...tiny, '--num_epochs', '400', '--eval_every', '400', '--train_dir', d]);
  for (let i = 0; i < 600 && !existsSync(join(d, LOCK_FILE)); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(existsSync(join(d, LOCK_FILE)), 'the first run holds the directory');
  const second = await runCli(['train', ...tiny, '--num_epochs', '1', '--train_dir', d, '--overwrite']);
  assert.equal(second.code, 2, second.stderr);
  assert.match(
    second.stderr,
    /^seqrec: --train_dir .* is in use by process \d+ \(\.seqrec\.lock\); wait for it to end, or choose another --train_dir \(no run there\? remove .*\.seqrec\.lock\)\n$/,
  );
  const r = await first;
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(readFileSync(join(d, 'config.json'), 'utf8')).options.numEpochs, 400, 'the second run wrote nothing');
  assert.ok(!existsSync(join(d, LOCK_FILE)), 'released at the end');
});

test('two `experiments` into one output folder: the second refuses before training anything', async () => {
  const grid = join(dir, 'grid.yaml');
  writeFileSync(grid, 'datasets: [ring.txt]\nmodels: [pop]\nseeds: [1]\nout: exp\n');
  let inner: Error | undefined;
  let trained = 0;
  await runExperiments(grid, {
    log: () => {},
    train: async () => {
      trained++;
      inner = await runExperiments(grid, { log: () => {}, train: async () => void trained++ }).then(
        () => undefined,
        (e: Error) => e,
      );
    },
  }).catch(() => {}); // the outer grid's one run wrote no results: its report says so
  assert.equal(trained, 1, 'the second never trained');
  assert.equal(inner?.name, 'UserError');
  assert.match(inner!.message, /^experiments output folder .*exp is in use by process \d+ /);
  assert.ok(!existsSync(join(dir, 'exp', LOCK_FILE)));
});

test('`experiments --join` shares a running grid: it trains only the runs no live process holds', async () => {
  const grid = join(dir, 'shared-grid.yaml');
  writeFileSync(grid, 'datasets: [ring.txt]\nmodels: [pop]\nseeds: [1, 2]\nout: shared\n');
  const joinerTrained: string[] = [];
  let joined: Awaited<ReturnType<typeof runExperiments>> | undefined;
  let outerCalls = 0;
  await runExperiments(grid, {
    log: () => {},
    train: async (options) => {
      outerCalls++;
      if (outerCalls > 1) return;
      // the first run holds its folder as `seqrec train` does, while a second process joins the grid
      const held = lockDir(String(options.train_dir), '--train_dir');
      try {
        joined = await runExperiments(grid, {
          log: () => {},
          join: true,
          train: async (o) => void joinerTrained.push(String(o.train_dir)),
        }).catch(() => undefined);
      } finally {
        held.release();
      }
    },
  }).catch(() => {}); // the fake runs wrote no results: the reports say so
  assert.deepEqual(
    joinerTrained.map((d) => d.split(/[\\/]/).at(-1)),
    ['seed-2'],
    'the joiner left the held run (seed 1) alone and took the free one',
  );
  assert.equal(joined?.elsewhere, 1, 'the joiner worked beside the folder lock rather than refusing, and says what it left');
  assert.equal(outerCalls, 2, 'the first process trains the runs the joiner left unfinished');
});

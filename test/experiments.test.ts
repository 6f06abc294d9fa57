import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchBrowser } from './helpers/browser.js';
import { runCli } from './helpers/cli.js';
import { writeRingDataset } from './helpers/datasets.js';
import { testTempDir } from './helpers/tmp.js';
import { loadGrid, planRuns } from '../src/experiments/grid.js';
import { writeReports } from '../src/experiments/report.js';
import { mean, std } from '../src/experiments/run-files.js';
import { runExperiments } from '../src/experiments/run.js';
import { trainOptionNames } from '../src/train/request.js';

const dir = testTempDir('seqrec-experiments-');

// a ring of 30 items walked by 60 users, with timestamps (so TiSASRec runs too)
writeRingDataset(join(dir, 'ring.txt'), { users: 60, length: (u) => 6 + (u % 5), timed: true });
const gridPath = join(dir, 'grid.yaml');
writeFileSync(
  gridPath,
  `${[
    'datasets: [ring.txt]',
    'models: [sasrec, tisasrec]',
    'flags: { num_epochs: 2, eval_every: 1, maxlen: 8, hidden_units: 8, num_blocks: 1, batch_size: 16, lr: 0.01 }',
    'seeds: [1, 2]',
    'out: exp',
  ].join('\n')}\n`,
);
const out = join(dir, 'exp');

test('mean and sample standard deviation', () => {
  assert.equal(mean([1, 2, 3]), 2);
  assert.equal(std([1, 2, 3]), 1);
  assert.equal(std([5]), 0);
});

test('a grid of 2 models × 2 seeds runs, writes results.csv / results.md / report.html, and a rerun skips finished runs', async () => {
  const r = await runCli(['experiments', gridPath]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /4 runs trained, 0 skipped/);
  for (const m of ['sasrec', 'tisasrec'])
    for (const s of [1, 2]) {
      const runDir = join(out, 'runs', 'ring', m, 'default', `seed-${s}`);
      assert.ok(existsSync(join(runDir, 'results.json')), runDir);
      assert.equal(readFileSync(join(runDir, 'log.jsonl'), 'utf8').trim().split('\n').length, 2);
    }
  const csv = readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n');
  assert.equal(csv.length, 5, 'header + 4 runs');
  assert.match(csv[0], /^dataset,model,config,seed,epochs,best_epoch,train_seconds,.*test sampled NDCG@10/);
  // best_epoch: the epoch of the best valid NDCG@10 in the run's log
  const runLog = (m: string, s: number) =>
    readFileSync(join(out, 'runs', 'ring', m, 'default', `seed-${s}`, 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
  const lines1 = runLog('sasrec', 1);
  const best1 = lines1.reduce((a, b) => (b.valid['NDCG@10'] > a.valid['NDCG@10'] ? b : a)).epoch;
  assert.match(csv[1], new RegExp(`^ring,sasrec,default,1,2,${best1},`));
  const md = readFileSync(join(out, 'results.md'), 'utf8');
  const [summaryTable, paired] = md.split('## Paired by seed');
  const rows = summaryTable.split('\n').filter((l) => /^\| ring \|/.test(l));
  assert.equal(rows.length, 2, md);
  assert.match(rows[0], /^\| ring \| sasrec \| default \| 2 \| \d\.\d{4} ± \d\.\d{4} \|/);
  assert.match(rows[1], /^\| ring \| tisasrec \| default \| 2 \|/);
  // the mean ± std in the table is that of the two runs' results.json
  const testNdcg = (m: string, s: number) =>
    JSON.parse(readFileSync(join(out, 'runs', 'ring', m, 'default', `seed-${s}`, 'results.json'), 'utf8')).results.find(
      (x: { split: string }) => x.split === 'test',
    ).metrics['NDCG@10'];
  const xs = [testNdcg('sasrec', 1), testNdcg('sasrec', 2)];
  assert.ok(rows[0].includes(`${mean(xs).toFixed(4)} ± ${std(xs).toFixed(4)}`), rows[0]);
  // tisasrec against the first config (sasrec), paired by seed
  const diffs = [1, 2].map((s) => testNdcg('tisasrec', s) - testNdcg('sasrec', s));
  const pairedRow = paired.split('\n').find((l) => l.startsWith('| ring | tisasrec | default | sasrec default |'));
  assert.ok(pairedRow?.includes(`${Math.abs(mean(diffs)).toFixed(4)} ± ${std(diffs).toFixed(4)} (`), md);
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  assert.match(html, /<canvas|createElement\('canvas'\)/);
  assert.match(html, /Chart\.js v4/, 'chart.js is inlined');
  assert.ok(!/<script[^>]+src=/.test(html), 'no external scripts');

  const before = statSync(join(out, 'runs', 'ring', 'sasrec', 'default', 'seed-1', 'results.json')).mtimeMs;
  const again = await runCli(['experiments', gridPath]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /0 runs trained, 4 skipped/);
  assert.match(again.stderr, /done already, skipped/);
  assert.equal(statSync(join(out, 'runs', 'ring', 'sasrec', 'default', 'seed-1', 'results.json')).mtimeMs, before);

  // a run interrupted after its last checkpoint (no results.json) is resumed, not retrained
  const run2 = join(out, 'runs', 'ring', 'tisasrec', 'default', 'seed-2');
  const metrics = readFileSync(join(run2, 'results.json'), 'utf8').match(/"metrics": \{[^}]*\}/g);
  rmSync(join(run2, 'results.json'));
  const third = await runCli(['experiments', gridPath]);
  assert.equal(third.code, 0, third.stderr);
  assert.match(third.stdout, /1 runs trained, 3 skipped/);
  assert.match(third.stderr, /tisasrec default seed 2: resuming/);
  assert.match(third.stderr, /already finished/);
  assert.deepEqual(readFileSync(join(run2, 'results.json'), 'utf8').match(/"metrics": \{[^}]*\}/g), metrics);
});

test('report.html draws its charts in headless Chromium', async () => {
  // its own report: run alone (--test-name-pattern) it makes the grid's, rather than skipping for want of it
  const report = join(out, 'report.html');
  if (!existsSync(report)) {
    const r = await runCli(['experiments', gridPath]);
    assert.equal(r.code, 0, r.stderr);
  }
  assert.ok(existsSync(report), 'the grid wrote report.html');
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    await page.goto(`file://${report}`);
    const canvases = await page.locator('canvas').count();
    assert.equal(canvases, 4, '2 configs × (loss, NDCG)');
    // non-blank pixels: the line charts drew something
    const inked = await page.evaluate(() =>
      Array.from(document.querySelectorAll('canvas')).map((c) => {
        const d = (c as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) n++;
        return n;
      }),
    );
    for (const n of inked) assert.ok(n > 500, `canvas has ${n} drawn pixels`);
    await page.screenshot({ path: join(dir, 'report.png'), fullPage: true });
  } finally {
    await browser.close();
  }
});

test('a failing run does not stop the grid; bad grid files are refused in one line', async () => {
  const untimed = join(dir, 'untimed.txt');
  writeFileSync(untimed, readFileSync(join(dir, 'ring.txt'), 'utf8').replace(/ \d+\n/g, '\n'));
  const g = join(dir, 'mixed.json');
  writeFileSync(g, JSON.stringify({ datasets: ['untimed.txt'], models: ['tisasrec', 'pop'], seeds: [3], out: 'mixed' }));
  const r = await runCli(['experiments', g]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /tisasrec default seed 3: FAILED: .*timestamps/);
  assert.match(r.stderr, /seqrec: 1 of 2 runs failed/);
  const csv = readFileSync(join(dir, 'mixed', 'results.csv'), 'utf8')
    .trim()
    .split('\n');
  assert.equal(csv.length, 2);
  assert.match(csv[1], /^untimed,pop,default,3,/);

  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'datasets: [ring.txt]\nmodels: [sasrec]\nflag: { lr: 1 }\n');
  const rb = await runCli(['experiments', bad]);
  assert.equal(rb.code, 2);
  assert.equal(rb.stderr.trim().split('\n').length, 1, rb.stderr);
  assert.match(rb.stderr, /bad\.yaml: .*flag/);
  writeFileSync(bad, 'datasets: [ring.txt]\nmodels: [sasrec]\nflags: { seed: 1 }\n');
  const rs = await runCli(['experiments', bad]);
  assert.equal(rs.code, 2);
  assert.match(rs.stderr, /"seed" is set by the experiment/);
});

test('unknown flag names in flags: or grid: are refused in one line before any run, naming the intended flag', async () => {
  const g = join(dir, 'typo.yaml');
  const typoOut = join(dir, 'typo');
  writeFileSync(g, 'datasets: [ring.txt]\nmodels: [pop]\nflags: { bogus_flag: 1, num_epoch: 1 }\nout: typo\n');
  const r = await runCli(['experiments', g]);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /typo\.yaml: flags: unknown flag "bogus_flag" \(not a `seqrec train` flag/);
  assert.match(r.stderr, /; flags: unknown flag "num_epoch" \(did you mean num_epochs\?\)\n$/);
  assert.ok(!existsSync(typoOut), 'no run folder before the grid is valid');

  writeFileSync(g, 'datasets: [ring.txt]\nmodels: [pop]\nflags: { num_epochs: 1 }\ngrid: { lrr: [0.1, 0.01] }\nout: typo\n');
  const rg = await runCli(['experiments', g]);
  assert.equal(rg.code, 2, rg.stderr);
  assert.equal(rg.stderr.trim(), `seqrec: ${g}: grid: unknown flag "lrr" (did you mean lr?)`);
  assert.ok(!existsSync(typoOut), 'no run folder before the grid is valid');

  // the valid names are those `seqrec train` reads, in any of its spellings: snake_case, kebab-case, camelCase
  const flags = trainOptionNames();
  for (const f of ['num_epochs', 'threads', 'min_user_count', 'eval_protocol', 'norm_first', 'pop_count_on', 'time_span'])
    assert.ok(flags.includes(f), f);
  writeFileSync(g, 'datasets: [ring.txt]\nmodels: [pop]\nflags: { num-epochs: 1, threads: 1, min_user_count: 1 }\ngrid: { eval_protocol: [full] }\n');
  assert.deepEqual(loadGrid(g, flags).flags, { 'num-epochs': 1, threads: 1, min_user_count: 1 });
  writeFileSync(g, 'datasets: [ring.txt]\nmodels: [pop]\nflags: { numEpochs: 1, hiddenUnits: 8 }\n');
  assert.deepEqual(loadGrid(g, flags).flags, { numEpochs: 1, hiddenUnits: 8 });
  writeFileSync(g, 'datasets: [ring.txt]\nmodels: [pop]\nflags: { numEpoch: 1, seeds: 2 }\n');
  assert.throws(() => loadGrid(g, flags), {
    message: `${g}: flags: unknown flag "numEpoch" (did you mean num_epochs?); flags: unknown flag "seeds" (seeds is a top-level key of the grid file, not a flag)`,
  });
  writeFileSync(g, 'datasets: [ring.txt]\nmodels: [pop]\nflags: { trainDir: x }\n');
  assert.throws(() => loadGrid(g, flags), /"trainDir" is set by the experiment/);
  // flags the experiment sets itself keep their own message
  writeFileSync(g, 'datasets: [ring.txt]\nmodels: [pop]\ngrid: { train-dir: [a] }\n');
  assert.throws(() => loadGrid(g, flags), /"train-dir" is set by the experiment/);
});

// one tiny SASRec run (1 epoch, kebab-case flags) and one pop run, for the damaged-file tests
const damagedGrid = join(dir, 'damaged.yaml');
writeFileSync(
  damagedGrid,
  `${[
    'datasets: [ring.txt]',
    'models: [sasrec, pop]',
    'flags: { num-epochs: 1, eval-every: 1, maxlen: 8, hidden-units: 8, num-blocks: 1, batch-size: 16, lr: 0.01 }',
    'seeds: [1]',
    'out: damaged',
  ].join('\n')}\n`,
);
const damagedOut = join(dir, 'damaged');
const sasrecRun = join(damagedOut, 'runs', 'ring', 'sasrec', 'default', 'seed-1');
const popRun = join(damagedOut, 'runs', 'ring', 'pop', 'default', 'seed-1');

/** runExperiments in this process with a train that must not be called: the message it is refused with. */
async function refusedInProcess(gridFile: string): Promise<string> {
  let trained = 0;
  const err = await runExperiments(gridFile, { train: async () => void trained++, log: () => {} }).then(
    () => assert.fail('the grid ran'),
    (e: unknown) => e as Error,
  );
  assert.equal(err.name, 'UserError', err.message);
  assert.equal(trained, 0, 'nothing trained');
  return err.message;
}

test('a damaged results.json of a finished run is refused naming the file, before anything trains', async () => {
  const first = await runCli(['experiments', damagedGrid]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(readFileSync(join(sasrecRun, 'log.jsonl'), 'utf8').trim().split('\n').length, 1, 'num-epochs reached train');
  const good = readFileSync(join(popRun, 'results.json'), 'utf8');

  rmSync(sasrecRun, { recursive: true }); // a run still to train: it must not start while a finished one is damaged
  const results = join(popRun, 'results.json');
  writeFileSync(results, '{"broken\n');
  const r = await runCli(['experiments', damagedGrid]);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.ok(r.stderr.startsWith(`seqrec: ${results}: not a seqrec results file (invalid JSON: `), r.stderr);
  assert.match(r.stderr, /; delete it to rerun this run\n$/);
  assert.ok(!existsSync(sasrecRun), 'nothing trained');
  for (const [text, reason] of [
    ['{}', /results: .*expected array/],
    ['', /empty file/],
    ['{"results": [{"protocol": "sampled", "split": "test", "metrics": {"NDCG@10": "x"}}]}', /results\.0\.metrics\.NDCG@10: /],
  ] as const) {
    writeFileSync(results, text);
    const msg = await refusedInProcess(damagedGrid);
    assert.ok(msg.startsWith(`${results}: not a seqrec results file (`), msg);
    assert.match(msg, reason);
    assert.ok(msg.endsWith('; delete it to rerun this run'), msg);
  }
  assert.ok(!existsSync(sasrecRun), 'nothing trained');

  // the reports leave out a run whose file is damaged and say which (damage found after training)
  const { out: o, runs } = planRuns(loadGrid(damagedGrid, trainOptionNames()), damagedGrid);
  const rep = await writeReports(o, runs);
  assert.equal(rep.damaged.length, 1);
  assert.equal(rep.damaged[0].run.model, 'pop');
  assert.ok(rep.damaged[0].message.startsWith(`${results}: not a seqrec results file`), rep.damaged[0].message);
  assert.equal(readFileSync(rep.csv, 'utf8').trim().split('\n').length, 1, 'header only');

  // the advice works: without the file the run is redone, and the SASRec run trains
  rmSync(results);
  const again = await runCli(['experiments', damagedGrid]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /2 runs trained, 0 skipped/);
  assert.deepEqual(Object.keys(JSON.parse(readFileSync(results, 'utf8'))), Object.keys(JSON.parse(good)));
});

test('a damaged log.jsonl of a finished run is refused naming the file and the line', async () => {
  if (!existsSync(join(sasrecRun, 'results.json'))) {
    const r = await runCli(['experiments', damagedGrid]);
    assert.equal(r.code, 0, r.stderr);
  }
  const log = join(sasrecRun, 'log.jsonl');
  const good = readFileSync(log, 'utf8');
  writeFileSync(log, `${good}{"epoch`); // a partial last line
  const r = await runCli(['experiments', damagedGrid]);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.ok(r.stderr.startsWith(`seqrec: ${log}: not a seqrec training log (line 2: invalid JSON: `), r.stderr);
  assert.match(r.stderr, /; delete the results\.json beside it to redo this run from its last checkpoint/);
  for (const [text, reason] of [
    ['[1, 2]\n', /line 1: .*expected object/],
    [`${good}{"epoch": 2}\n`, /line 2: loss: /],
  ] as const) {
    writeFileSync(log, text);
    const msg = await refusedInProcess(damagedGrid);
    assert.ok(msg.startsWith(`${log}: not a seqrec training log (`), msg);
    assert.match(msg, reason);
  }

  // the advice works: the run resumes from last.safetensors, finds itself finished and drops the damaged line
  writeFileSync(log, `${good}{"epoch`);
  rmSync(join(sasrecRun, 'results.json'));
  const again = await runCli(['experiments', damagedGrid]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /1 runs trained, 1 skipped/);
  assert.match(again.stderr, /already finished/);
  assert.equal(readFileSync(log, 'utf8'), good);
  const csv = readFileSync(join(damagedOut, 'results.csv'), 'utf8').trim().split('\n');
  assert.match(csv[1], /^ring,sasrec,default,1,1,1,/, 'one epoch on the curve, the best');
});

test('a dataset entry may restrict the models run on it, and its feature files are relative to the grid file', () => {
  const sub = join(dir, 'restrict');
  const grid = join(dir, 'restrict.yaml');
  writeFileSync(
    grid,
    'datasets:\n  - { path: ring.txt, name: plain, models: [pop] }\n  - { path: ring.txt, name: rich, flags: { item_features: feats/items.csv }, models: [pop, content] }\n' +
      'models: [pop, content]\nseeds: [1]\nout: restrict\n',
  );
  const { runs } = planRuns(loadGrid(grid), grid);
  assert.deepEqual(
    runs.map((r) => `${r.datasetName}/${r.model}`),
    ['plain/pop', 'rich/pop', 'rich/content'],
  );
  assert.equal(runs[2].flags.item_features, join(dir, 'feats', 'items.csv'));
  writeFileSync(grid, 'datasets:\n  - { path: ring.txt, models: [bert] }\nmodels: [pop]\n');
  assert.throws(() => planRuns(loadGrid(grid), grid), /datasets: model "bert" is not among the grid's models \(pop\)/);
  assert.ok(!existsSync(sub));
});

test('a finished run whose grid flags changed since it ran is refused naming its folder; flags that change no result do not', async () => {
  const grid = join(dir, 'changed.yaml');
  const write = (flags: string) => writeFileSync(grid, `datasets: [ring.txt]\nmodels: [pop]\nflags: { ${flags} }\nseeds: [1]\nout: changed\n`);
  write('num_negatives: 20, threads: 1');
  const first = await runCli(['experiments', grid]);
  assert.equal(first.code, 0, first.stderr);
  const run = join(dir, 'changed', 'runs', 'ring', 'pop', 'default', 'seed-1');
  const before = readFileSync(join(run, 'results.json'), 'utf8');

  write('num_negatives: 10, threads: 1');
  const msg = await refusedInProcess(grid);
  assert.equal(
    msg,
    `${run} finished with other flags (--num_negatives is 10 now but was 20 when it ran); delete that folder to rerun it with the grid's flags`,
  );
  assert.equal(readFileSync(join(run, 'results.json'), 'utf8'), before, 'the finished run is untouched');

  write('num_negatives: 20, threads: 2'); // threads change the speed, not the results
  const again = await runCli(['experiments', grid]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /0 runs trained, 1 skipped/);
});

test('--seeds trains only those of the grid’s seeds now (one seed of every configuration first); an unknown or malformed one is refused', async () => {
  const seedsGrid = join(dir, 'seeds.yaml');
  writeFileSync(seedsGrid, `${['datasets: [ring.txt]', 'models: [pop, sasrec]', 'seeds: [1, 2, 3]', 'out: seeds-out'].join('\n')}\n`);
  const trained: string[] = [];
  const summary = await runExperiments(seedsGrid, {
    train: async (opts) => void trained.push(`${String(opts.model)} ${String(opts.seed)}`),
    log: () => {},
    seeds: [2],
  });
  assert.deepEqual(trained, ['pop 2', 'sasrec 2']);
  assert.equal(summary.ran, 2);
  assert.equal(summary.deferred, 4);
  await assert.rejects(
    runExperiments(seedsGrid, { train: async () => assert.fail('trained'), log: () => {}, seeds: [4] }),
    (e: Error) => e.name === 'UserError' && e.message === "--seeds 4: not among the grid's seeds (1, 2, 3)",
  );
  const bad = await runCli(['experiments', seedsGrid, '--seeds', '1,x']);
  assert.equal(bad.code, 2, bad.stderr);
  assert.equal(bad.stderr, 'seqrec: --seeds: expected seeds separated by commas (e.g. 1,2), got "1,x"\n');
  assert.ok(!existsSync(join(dir, 'seeds-out', 'runs', 'ring', 'pop', 'default', 'seed-1', 'results.json')), 'nothing trained');
});

test('--only trains only the runs its selectors name (model, config, dataset, or several in that order joined by /, snake_case or kebab-case); one naming no run is refused', async () => {
  const onlyGrid = join(dir, 'only.yaml');
  writeFileSync(
    onlyGrid,
    `${['datasets: [ring.txt]', 'models: [pop, sasrec]', 'grid: { lr: [0.01, 0.001] }', 'seeds: [1, 2]', 'out: only-out'].join('\n')}\n`,
  );
  const trained: string[] = [];
  const train = async (opts: Record<string, unknown>) => void trained.push(`${String(opts.model)} ${String(opts.lr)} ${String(opts.seed)}`);
  const summary = await runExperiments(onlyGrid, { train, log: () => {}, only: ['sasrec/lr=0.001'], seeds: [2] });
  assert.deepEqual(trained, ['sasrec 0.001 2']);
  assert.equal(summary.deferred, 7);
  trained.length = 0;
  await runExperiments(onlyGrid, { train, log: () => {}, only: ['pop', 'ring/sasrec/lr=0.01'] });
  assert.deepEqual(trained, ['pop 0.01 1', 'pop 0.01 2', 'pop 0.001 1', 'pop 0.001 2', 'sasrec 0.01 1', 'sasrec 0.01 2']);
  await assert.rejects(
    runExperiments(onlyGrid, { train: async () => assert.fail('trained'), log: () => {}, only: ['pop/sasrec'] }),
    (e: Error) =>
      e.name === 'UserError' &&
      e.message ===
        '--only pop/sasrec: names no run of the grid (its runs are ring/pop/lr=0.01, ring/pop/lr=0.001, ring/sasrec/lr=0.01, ring/sasrec/lr=0.001)',
  );
  trained.length = 0;
  await runExperiments(onlyGrid, { train, log: () => {}, only: ['ring/lr=0.001'] });
  assert.deepEqual(trained, ['pop 0.001 1', 'pop 0.001 2', 'sasrec 0.001 1', 'sasrec 0.001 2'], 'a selector may skip the model');
  await assert.rejects(
    runExperiments(onlyGrid, { train: async () => assert.fail('trained'), log: () => {}, only: ['lr=0.01/ring'] }),
    /--only lr=0.01\/ring: names no run of the grid/,
    'parts out of order name nothing',
  );
  const snakeGrid = join(dir, 'only-snake.yaml');
  writeFileSync(
    snakeGrid,
    `${['datasets: [ring.txt]', 'models: [sasrec]', 'grid: { dropout_rate: [0.2, 0.5] }', 'seeds: [1]', 'out: only-snake-out'].join('\n')}\n`,
  );
  const rates: string[] = [];
  await runExperiments(snakeGrid, { train: async (opts) => void rates.push(String(opts.dropout_rate)), log: () => {}, only: ['dropout_rate=0.5'] });
  assert.deepEqual(rates, ['0.5'], 'the snake_case flag names the kebab-case config');
  const bad = await runCli(['experiments', onlyGrid, '--only', 'pop,,sasrec']);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /^seqrec: --only: expected runs separated by commas, .*got "pop,,sasrec"\n$/);
  const both = await runCli(['experiments', onlyGrid, '--only', 'pop', '--report_only']);
  assert.equal(both.code, 2, both.stderr);
  assert.equal(both.stderr, 'seqrec: --report_only trains nothing: it takes none of --join, --seeds, --only\n');
});

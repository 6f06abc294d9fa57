import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { writeRingDataset } from './helpers/datasets.js';
import { testTempDir } from './helpers/tmp.js';
import { loadGrid, planRuns } from '../src/experiments/grid.js';
import { writeReports } from '../src/experiments/report.js';
import { runExperiments } from '../src/experiments/run.js';
import { mean, std } from '../src/experiments/run-files.js';

const dir = testTempDir('seqrec-paper-table-');
writeRingDataset(join(dir, 'ring.txt'), { users: 40, length: (u) => 6 + (u % 4) });

const TABLE_GRID = `datasets: [ring.txt]
models: [pop, tisasrec, sasrec]
seeds: [1, 2]
out: paper
model_flags:
  sasrec: { maxlen: 8 }
table:
  title: Table III
  protocol: sampled
  columns:
    - { model: pop, label: "(a) PopRec" }
    - { model: tisasrec, label: "(b) TiSASRec" }
    - { model: sasrec, label: "(c) SASRec" }
  improvement: { of: sasrec, vs: { "(a)": [pop], "(a)-(b)": [pop, tisasrec] } }
  paper:
    ring: { pop: { HR@10: 0.5, NDCG@10: 0.25 }, tisasrec: { HR@10: 0.6, NDCG@10: 0.3 }, sasrec: { HR@10: 0.75, NDCG@10: 0.4 } }
  notes: [the ring is not the paper's data]
time_figure:
  models: [sasrec, tisasrec]
  baseline: sasrec
`;

// test sampled HR@10 / NDCG@10 per model and seed, and the per-epoch seconds of the logs
const RESULTS: Record<string, Record<number, [number, number]>> = {
  pop: { 1: [0.4, 0.2], 2: [0.42, 0.22] },
  tisasrec: { 1: [0.7, 0.45], 2: [0.66, 0.41] },
  sasrec: { 1: [0.8, 0.5], 2: [0.84, 0.52] },
};
const EPOCH_SECONDS: Record<string, number[]> = { sasrec: [1, 1, 2], tisasrec: [4, 5, 6] };
const VALID_NDCG = [0.1, 0.3, 0.2]; // best at epoch 2

function writeFakeRun(runDir: string, model: string, seed: number): void {
  mkdirSync(runDir, { recursive: true });
  const [hr, ndcg] = RESULTS[model][seed];
  const results = [
    { protocol: 'sampled', split: 'test', users: 40, metrics: { 'HR@10': hr, 'NDCG@10': ndcg } },
    { protocol: 'sampled', split: 'valid', users: 40, metrics: { 'HR@10': hr - 0.1, 'NDCG@10': ndcg - 0.1 } },
    { protocol: 'full', split: 'test', users: 40, metrics: { 'HR@10': hr / 4, 'NDCG@10': ndcg / 4 } },
  ];
  writeFileSync(join(runDir, 'results.json'), JSON.stringify({ results, trainSeconds: 3 }));
  const log = (EPOCH_SECONDS[model] ?? []).map((s, i) =>
    JSON.stringify({ epoch: i + 1, loss: 1, seconds: s * seed, valid: { 'NDCG@10': VALID_NDCG[i] } }),
  );
  writeFileSync(join(runDir, 'log.jsonl'), log.length ? `${log.join('\n')}\n` : '');
}

test('the paper table: methods as columns, ours (mean ± std) beside the paper, improvement over the best of each group', async () => {
  const gridPath = join(dir, 'table.yaml');
  writeFileSync(gridPath, TABLE_GRID);
  const grid = loadGrid(gridPath);
  const { out, runs } = planRuns(grid, gridPath);
  for (const r of runs) writeFakeRun(r.dir, r.model, r.seed);
  // model_flags reach only their model's runs
  assert.equal(runs.find((r) => r.model === 'sasrec')!.flags.maxlen, 8);
  assert.equal(runs.find((r) => r.model === 'pop')!.flags.maxlen, undefined);

  const rep = await writeReports(out, runs, {
    ...(grid.table ? { table: grid.table } : {}),
    ...(grid.time_figure ? { timeFigure: grid.time_figure } : {}),
  });
  const md = readFileSync(rep.md, 'utf8');
  const rows = md.split('\n').filter((l) => /^\| (ring)? \| (HR|NDCG)@10 \| (ours|paper) \|/.test(l));
  assert.equal(rows.length, 4, md);
  const cell = (m: string, k: 0 | 1) => {
    const xs = [RESULTS[m][1][k], RESULTS[m][2][k]];
    return `${mean(xs).toFixed(4)} ± ${std(xs).toFixed(4)}`;
  };
  const pct = (a: number, b: number) => `${a >= b ? '+' : ''}${((a / b - 1) * 100).toFixed(1)}%`;
  const ours = (m: string, k: 0 | 1) => mean([RESULTS[m][1][k], RESULTS[m][2][k]]);
  // NDCG@10, ours: SASRec over PopRec, and over the better of PopRec and TiSASRec
  assert.equal(
    rows[2],
    `| ring | NDCG@10 | ours | ${cell('pop', 1)} | ${cell('tisasrec', 1)} | ${cell('sasrec', 1)} | ${pct(ours('sasrec', 1), ours('pop', 1))} | ${pct(
      ours('sasrec', 1),
      ours('tisasrec', 1),
    )} |`,
  );
  assert.equal(rows[3], '|  | NDCG@10 | paper | 0.2500 | 0.3000 | 0.4000 | +60.0% | +33.3% |');
  assert.equal(rows[1], '|  | HR@10 | paper | 0.5000 | 0.6000 | 0.7500 | +50.0% | +25.0% |');
  assert.match(md, /\| dataset \| metric \| {2}\| \(a\) PopRec \| \(b\) TiSASRec \| \(c\) SASRec \| sasrec vs \(a\) \| sasrec vs \(a\)-\(b\) \|/);
  assert.match(md, /- the ring is not the paper's data/);

  // seconds per epoch: each run's mean, then mean ± std over runs; × sasrec; seconds to the best epoch (2)
  const perRun = (m: string) => [1, 2].map((s) => mean(EPOCH_SECONDS[m].map((x) => x * s)));
  const tis = perRun('tisasrec');
  const sas = perRun('sasrec');
  const toBest = mean([1, 2].map((s) => (EPOCH_SECONDS.tisasrec[0] + EPOCH_SECONDS.tisasrec[1]) * s));
  assert.ok(
    md.includes(
      `| ring | tisasrec | 2 | ${mean(tis).toFixed(2)} ± ${std(tis).toFixed(2)} | ${(mean(tis) / mean(sas)).toFixed(2)} | ${toBest.toFixed(0)} |`,
    ),
    md,
  );
  assert.ok(md.includes(`| ring | sasrec | 2 | ${mean(sas).toFixed(2)} ± ${std(sas).toFixed(2)} | 1.00 |`), md);

  const html = readFileSync(rep.html, 'utf8');
  assert.match(html, /<h2>Table III<\/h2>/);
  assert.ok(html.includes(`<td>${cell('sasrec', 1)}</td>`));
  // the time chart's points: cumulative training seconds at each evaluation (seed 2 doubles the seconds)
  const time = JSON.parse(/const TIME = (.*);\n/.exec(html)![1]) as Array<{
    dataset: string;
    series: Array<{ label: string; points: Array<{ x: number; y: number }> }>;
  }>;
  assert.equal(time[0].dataset, 'ring');
  const s2 = time[0].series.find((s) => s.label === 'tisasrec · seed 2')!;
  assert.deepEqual(
    s2.points.map((p) => p.x),
    [8, 18, 30],
  );
  assert.deepEqual(
    s2.points.map((p) => p.y),
    VALID_NDCG,
  );

  // a cell with fewer seeds than the grid's says how many it has
  const partial = runs.filter((r) => !(r.model === 'pop' && r.seed === 2));
  mkdirSync(join(dir, 'partial'));
  const rep2 = await writeReports(join(dir, 'partial'), partial, grid.table ? { table: grid.table } : {});
  const md2 = readFileSync(rep2.md, 'utf8');
  assert.ok(md2.includes(`| ring | HR@10 | ours | ${RESULTS.pop[1][0].toFixed(4)} ± 0.0000 (n=1) |`), md2);
});

test("datasets may be named and carry flags of their own; a model's flags win over a dataset's", () => {
  const g = join(dir, 'named.yaml');
  writeFileSync(
    g,
    [
      'datasets: [ring.txt, { path: ring.txt, name: ring5, flags: { min_user_count: 5, maxlen: 20 } }]',
      'models: [pop, sasrec]',
      'flags: { maxlen: 10 }',
      'model_flags: { pop: { maxlen: 3 } }',
      'grid: { lr: [0.1] }',
    ].join('\n'),
  );
  const { runs } = planRuns(loadGrid(g), g);
  const flagsOf = (d: string, m: string) => runs.find((r) => r.datasetName === d && r.model === m)!.flags;
  assert.deepEqual(flagsOf('ring', 'sasrec'), { maxlen: 10, lr: 0.1 });
  assert.deepEqual(flagsOf('ring5', 'sasrec'), { maxlen: 20, min_user_count: 5, lr: 0.1 });
  assert.deepEqual(flagsOf('ring5', 'pop'), { maxlen: 3, min_user_count: 5, lr: 0.1 });
  assert.ok(runs.find((r) => r.datasetName === 'ring5')!.dir.includes(join('runs', 'ring5', 'pop')));
});

test("a dataset may run its own seeds (fewer beside the targets), the others the grid's", () => {
  const g = join(dir, 'seeds.yaml');
  writeFileSync(g, ['datasets: [ring.txt, { path: ring.txt, name: ring1, seeds: [7] }]', 'models: [pop]', 'seeds: [1, 2, 3]'].join('\n'));
  const { runs } = planRuns(loadGrid(g), g);
  const seedsOf = (d: string) => runs.filter((r) => r.datasetName === d).map((r) => r.seed);
  assert.deepEqual(seedsOf('ring'), [1, 2, 3]);
  assert.deepEqual(seedsOf('ring1'), [7]);
  assert.ok(runs.find((r) => r.datasetName === 'ring1')!.dir.endsWith(join('pop', 'default', 'seed-7')));
  writeFileSync(g, 'datasets: [{ path: ring.txt, seeds: [-1] }]\nmodels: [pop]\n');
  assert.throws(() => loadGrid(g), /seeds/);
});

test('grid files: model_flags and the table / figure sections are checked before any run, in one line', async () => {
  const cases: Array<[string, RegExp]> = [
    ['model_flags: { caser: { lr: 0.1 } }', /model_flags: "caser" is not one of models \(pop, sasrec\)/],
    ['model_flags: { sasrec: { maxlenn: 8 } }', /model_flags\.sasrec: unknown flag "maxlenn" \(did you mean maxlen\?\)/],
    ['model_flags: { sasrec: { seed: 8 } }', /flag "seed" is set by the experiment/],
    ['table: { columns: [{ model: caser, label: c }] }', /table\.columns: "caser" is not one of models/],
    [
      'table: { columns: [{ model: pop, label: a }], improvement: { of: sasrec, vs: { x: [gru] } } }',
      /table\.improvement\.vs\.x: "gru" is not one of models/,
    ],
    [
      'table: { columns: [{ model: pop, label: a }], paper: { Games: { pop: { HR@10: 1 } } } }',
      /table\.paper: no dataset named "Games" \(the grid's datasets are named ring\)/,
    ],
    ['table: { columns: [{ model: pop, label: a, config: "lr=1" }] }', /table\.columns: pop has no config "lr=1" \(configs: default\)/],
    ['time_figure: { models: [sasrec], datasets: [ml] }', /time_figure\.datasets: no dataset named "ml"/],
    ['time_figure: { models: [bert4rec] }', /time_figure\.models: "bert4rec" is not one of models/],
    ['table: { columns: [{ model: pop }] }', /table\.columns\.0\.label: /],
    ['datasets: [{ path: ring.txt, flags: { lr_typo: 1 } }]', /datasets\.0\.flags: unknown flag "lr_typo"/],
    ['datasets: [{ path: ring.txt, name: a }, { path: ring.txt, name: a }]', /datasets: the name "a" is given twice/],
    ['datasets: [{ path: ring.txt, name: "../x" }]', /datasets\.0\.name: letters, digits/],
  ];
  const g = join(dir, 'bad-layout.yaml');
  for (const [extra, expected] of cases) {
    const datasets = extra.startsWith('datasets:') ? '' : 'datasets: [ring.txt]\n';
    writeFileSync(g, `${datasets}models: [pop, sasrec]\nout: never\n${extra}\n`);
    const refusal = await runExperiments(g, { train: async () => assert.fail('a run started'), log: () => {} }).then(
      () => assert.fail(`${extra}: the grid ran`),
      (e: Error) => e,
    );
    assert.equal(refusal.name, 'UserError', refusal.message);
    const { message } = refusal;
    assert.ok(!message.includes('\n'), message);
    assert.match(message, expected, extra);
  }
  writeFileSync(g, 'datasets: [ring.txt]\nmodels: [sasrec]\ngrid: { lr: [0.1, 0.01] }\ntable: { columns: [{ model: sasrec, label: s }] }\n');
  // the command's exit and its one line
  const r = await runCli(['experiments', g]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /table\.columns: sasrec needs a config \(the grid has several: lr=0\.1, lr=0\.01\)/);
  assert.ok(!existsSync(join(dir, 'never')), 'no output folder');
});

test('seqrec experiments writes the paper table of its grid into results.md', async () => {
  const g = join(dir, 'e2e.yaml');
  writeFileSync(
    g,
    [
      'datasets: [ring.txt]',
      'models: [pop, sasrec]',
      'flags: { eval_every: 1 }',
      'model_flags: { sasrec: { num_epochs: 2, maxlen: 8, hidden_units: 8, num_blocks: 1, batch_size: 16, lr: 0.01 } }',
      'seeds: [1]',
      'out: e2e',
      'table: { columns: [{ model: pop, label: "(a) PopRec" }, { model: sasrec, label: "(b) SASRec" }], improvement: { of: sasrec, vs: { "(a)": [pop] } } }',
      'time_figure: { models: [sasrec] }',
    ].join('\n'),
  );
  const r = await runCli(['experiments', g]);
  assert.equal(r.code, 0, r.stderr);
  const md = readFileSync(join(dir, 'e2e', 'results.md'), 'utf8');
  const testNdcg = (m: string) =>
    JSON.parse(readFileSync(join(dir, 'e2e', 'runs', 'ring', m, 'default', 'seed-1', 'results.json'), 'utf8')).results.find(
      (x: { split: string; protocol: string }) => x.split === 'test' && x.protocol === 'sampled',
    ).metrics['NDCG@10'] as number;
  const [pop, sas] = [testNdcg('pop'), testNdcg('sasrec')];
  const pct = `${sas >= pop ? '+' : ''}${((sas / pop - 1) * 100).toFixed(1)}%`;
  assert.ok(md.includes(`| ring | NDCG@10 | ours | ${pop.toFixed(4)} ± 0.0000 | ${sas.toFixed(4)} ± 0.0000 | ${pct} |`), md);
  assert.match(md, /\| ring \| sasrec \| 1 \| \d+\.\d\d ± 0\.00 \| 1\.00 \| \d+ \|/);
  // the sasrec model_flags did not reach pop: its run folder records no maxlen
  assert.equal(
    JSON.parse(readFileSync(join(dir, 'e2e', 'runs', 'ring', 'pop', 'default', 'seed-1', 'results.json'), 'utf8')).modelSettings?.maxlen,
    undefined,
  );
});

/** The experiment report shows a run's attention (explain output in its directory) when present. */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { UserError } from '../src/core/errors.js';
import { loadGrid, planRuns } from '../src/experiments/grid.js';
import { writeReports } from '../src/experiments/report.js';
import { readRunAttention } from '../src/experiments/run-attention.js';
import { writeRingDataset } from './helpers/datasets.js';
import { testTempDir } from './helpers/tmp.js';

test('report.html carries the readings and heatmaps of the runs that have them, and only those', async () => {
  const dir = testTempDir('seqrec-run-attention-');
  writeRingDataset(join(dir, 'ring.txt'), { users: 20 });
  const gridPath = join(dir, 'grid.yaml');
  writeFileSync(gridPath, 'datasets: [ring.txt]\nmodels: [sasrec]\nseeds: [1, 2]\nout: out\n');
  const { out, runs } = planRuns(loadGrid(gridPath), gridPath);
  for (const r of runs) {
    mkdirSync(r.dir, { recursive: true });
    const results = [{ protocol: 'sampled', split: 'test', users: 20, metrics: { 'NDCG@10': 0.5 } }];
    writeFileSync(join(r.dir, 'results.json'), JSON.stringify({ results, trainSeconds: 1 }));
    writeFileSync(join(r.dir, 'log.jsonl'), `${JSON.stringify({ epoch: 1, loss: 1, seconds: 1 })}\n`);
  }
  const withMaps = runs.find((r) => r.seed === 2)!;
  assert.equal(readRunAttention(withMaps.dir), undefined);
  mkdirSync(join(withMaps.dir, 'attention'));
  writeFileSync(join(withMaps.dir, 'attention', 'recency-layer1.svg'), '<svg xmlns="http://www.w3.org/2000/svg" id="seed2-map"></svg>');
  writeFileSync(join(withMaps.dir, 'explain.json'), JSON.stringify({ readings: ['layer 1: 42% of the last query <weight>'] }));

  const html = readFileSync((await writeReports(out, runs)).html, 'utf8');
  assert.equal(html.match(/<h2>Attention: [^<]*<\/h2>/g)?.length, 1);
  assert.match(html, /<h2>Attention: ring · sasrec · [^<]* · seed 2<\/h2>/);
  assert.ok(html.includes('id="seed2-map"'));
  assert.ok(html.includes('<li>layer 1: 42% of the last query &lt;weight&gt;</li>'), 'readings are escaped');

  writeFileSync(join(withMaps.dir, 'explain.json'), '{"readings": [');
  assert.throws(
    () => readRunAttention(withMaps.dir),
    (e: Error) => e instanceof UserError && e.message.includes('explain.json'),
  );
});

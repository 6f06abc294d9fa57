/**
 * `seqrec train --task ctr` (data/ctr.ts, train/ctr.ts): load the labelled rows and their split, train
 * the model's pointwise network in one go, and write config.json, results.json (AUC and LogLoss on
 * valid and test) and summary.txt into --train_dir. No model file is written and --resume is not
 * offered: a click-through run is short.
 */
import { resolve } from 'node:path';
import { UserError } from '../core/errors.js';
import { VERSION } from '../core/version.js';
import type { CtrSplit } from '../data/ctr.js';
import { datasetRunName, loadCtrSplit } from '../data/options.js';
import type { RunResults } from '../eval/results.js';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import { makeDirs } from '../io/dirs.js';
import { holdDir } from '../io/lock.js';
import { allModels } from '../models/registry.js';
import { pointwiseOf, trainCtr } from './ctr.js';
import type { TrainRequest } from './request.js';
import { checkTrainDir, clearRun, runFiles } from './run-dir.js';

/** What the run reports to (train/run.ts TrainIo, without evaluation progress). */
interface CtrIo {
  log?(line: string): void;
  progress?(done: number, total: number, label: string, info?: Readonly<Record<string, number>>): void;
}

/** The split's sizes as results.json records them. */
function describeSplit(split: CtrSplit): Record<string, unknown> {
  const part = (p: CtrSplit['train']) => ({ rows: p.labels.length, positives: p.labels.reduce((a, b) => a + b, 0) });
  return {
    labels: { positive: split.thresholds.positive, negative: split.thresholds.negative },
    ratios: split.ratios,
    dropped: split.dropped,
    train: part(split.train),
    valid: part(split.valid),
    test: part(split.test),
  };
}

/** Runs a --task ctr request; `dirOf(dataset name)` is the run's folder (train/run.ts trainDirOf). */
export async function runCtrTraining(
  req: TrainRequest,
  io: CtrIo,
  dirOf: (datasetName: string) => string,
): Promise<{ trainDir: string; results: RunResults; summary: string }> {
  const say = io.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const { spec, run } = req;
  if (run.resume || run.inferenceOnly)
    throw new UserError(`--task ctr: ${run.resume ? '--resume' : '--inference_only'} is not supported (a ctr run trains in one go)`);
  pointwiseOf(spec);
  const { path, split, features } = await loadCtrSplit(req.dataset, req.seed);
  const trainDir = resolve(dirOf(datasetRunName(req.dataset, path)));
  const files = runFiles(trainDir, spec.fileName);
  const lock = await holdDir(trainDir, '--train_dir', say);
  try {
    checkTrainDir(trainDir, files, path, run);
    const sizes = describeSplit(split);
    say(
      `dataset ${path}: ${split.data.userNum} users, ${split.data.itemNum} items; --task ctr: ${split.train.labels.length}/${split.valid.labels.length}/${split.test.labels.length} labelled rows (${split.dropped} dropped between the thresholds)`,
    );
    if (req.ignored.length > 0) say(`note: --model ${spec.name} does not use ${req.ignored.map((f) => `--${f}`).join(', ')}; ignored`);
    await makeDirs(trainDir);
    await clearRun(
      files,
      allModels().map((m) => resolve(trainDir, m.fileName)),
    );
    const options = { ...req.modelOptions, ...req.training };
    await writeJsonAtomic(files.config, {
      seqrec: VERSION,
      command: 'train',
      task: 'ctr',
      model: spec.name,
      dataset: path,
      trainDir,
      options,
      split: { ctrLabels: `${split.thresholds.positive},${split.thresholds.negative}`, ratios: split.ratios, seed: req.seed },
      startedAt: new Date().toISOString(),
    });
    const trained = trainCtr(spec, split, features, req.modelOptions, req.training, req.seed, { log: say, progress: io.progress });
    try {
      const results: RunResults = {
        seqrec: VERSION,
        command: 'train',
        model: spec.name,
        modelSettings: { task: 'ctr', ...req.modelOptions },
        dataset: {
          path,
          users: split.data.userNum,
          items: split.data.itemNum,
          interactions: split.train.labels.length + split.valid.labels.length + split.test.labels.length,
          evaluableUsers: new Set(split.test.users).size,
          minInteractions: 1,
          ctr: sizes,
        },
        evaluation: { protocols: ['ctr'], ks: [], numNegatives: 0, evalUsers: null, seed: req.seed },
        results: trained.rows,
        trainSeconds: Math.round(trained.trainSeconds * 1000) / 1000,
        createdAt: new Date().toISOString(),
      };
      await writeJsonAtomic(files.results, results);
      say(`wrote ${files.results}`);
      const fmt = (m: Record<string, number>) => `AUC ${m.AUC.toFixed(4)}, LogLoss ${m.LogLoss.toFixed(4)}`;
      const summary = [
        `model ${spec.name}, dataset ${path}, task ctr`,
        `trained ${trained.epochs} epochs${trained.stopped ? ` (stopped early: patience ${req.training.patience}, min_delta ${req.training.minDelta})` : ''} in ${trained.trainSeconds.toFixed(1)} s`,
        `best epoch ${trained.bestEpoch}: valid AUC ${trained.bestValidAuc.toFixed(4)}`,
        `test (ctr): ${fmt(trained.rows[1].metrics)}`,
      ].join('\n');
      await writeFileAtomic(files.summary, `${summary}\n`);
      for (const l of summary.split('\n')) say(`summary: ${l}`);
      return { trainDir, results, summary };
    } finally {
      trained.network.dispose();
    }
  } finally {
    lock.release();
  }
}

/**
 * SASRec.pytorch's own commands, typed after `seqrec train` instead of `python main.py`, on small data
 * laid out as the reference expects it (data/ml-1m.txt in the working directory):
 *
 *   --dataset=ml-1m --train_dir=default --maxlen=200 --dropout_rate=0.2 --device=cuda
 *   --device=cuda --dataset=ml-1m --train_dir=default --state_dict_path=xxx.pth --inference_only=true --maxlen=200
 *   --dataset=ml-1m --train_dir=mhc_test --mhc_expansion_rate=4
 *   --dataset=ml-1m --train_dir=tisasrec --use_time
 *
 * Each line runs as written plus `--num_epochs=2` (the reference trains for 1000). They must pick the
 * reference's model (SASRec, its mHC variant, TiSASRec), write the reference's run folder
 * (<dataset>_<train_dir>) with its args.txt and log.txt beside seqrec's files, and read the reference's
 * .pth. Then: every train flag parses the same as --flag=value and --flag value (booleans as true/false
 * too), --dataset NAME is looked up as the reference does, and the reference's switches resolve.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildProgram } from '../src/cli/main.js';
import { trainFlagGroups } from '../src/cli/train.js';
import { UserError } from '../src/core/errors.js';
import { snake } from '../src/core/options.js';
import { bundledDatasetPath } from '../src/data/bundled.js';
import { resolveDataset } from '../src/data/options.js';
import { parseSafetensors } from '../src/engine/safetensors.js';
import { mhcConfig } from '../src/models/common/mhc-options.js';
import { pythonFloat, referenceLogLine } from '../src/train/reference-files.js';
import { parseTrainRequest } from '../src/train/request.js';
import { runCli } from './helpers/cli.js';
import { testTempDir } from './helpers/tmp.js';

const base = testTempDir('seqrec-reference-');
const PTH = new URL('./fixtures/pth/', import.meta.url).pathname;

/** A folder holding data/ml-1m.txt: 60 users on a ring of items 1..30 (the .pth fixtures' items), with times when `timed`. */
function referenceFolder(name: string, timed = false): string {
  const cwd = join(base, name);
  mkdirSync(join(cwd, 'data'), { recursive: true });
  const lines: string[] = [];
  for (let u = 1; u <= 60; u++) {
    for (let t = 0; t < 6 + (u % 7); t++) {
      const item = ((u * 7 + t) % 30) + 1;
      lines.push(timed ? `${u} ${item} ${1_600_000_000 + 3600 * t * (1 + (u % 3))}` : `${u} ${item}`);
    }
  }
  writeFileSync(join(cwd, 'data', 'ml-1m.txt'), `${lines.join('\n')}\n`);
  return cwd;
}

/** args.txt as a map; checks main.py's layout: sorted `name,value` lines, no final newline. */
function readArgs(path: string): Map<string, string> {
  const text = readFileSync(path, 'utf8');
  assert.ok(!text.endsWith('\n'), 'args.txt ends without a newline, as main.py writes it');
  const lines = text.split('\n');
  assert.deepEqual(lines, [...lines].sort(), 'sorted by name');
  return new Map(lines.map((l) => [l.slice(0, l.indexOf(',')), l.slice(l.indexOf(',') + 1)]));
}

interface Results {
  results: Array<{ protocol: string; split: string; metrics: Record<string, number> }>;
}
const metricsOf = (r: Results, split: string) => r.results.find((x) => x.protocol === 'sampled' && x.split === split)!.metrics;

const CUDA_NOTE = /^note: --device cuda: seqrec computes on the CPU \(WebAssembly kernels, \d+ threads\); continuing$/m;

test("the reference's four commands run as written, with its run folders, args.txt and log.txt", async () => {
  const a = referenceFolder('a');
  const b = referenceFolder('b');
  const c = referenceFolder('c', true);
  copyFileSync(join(PTH, 'sasrec-postln.pth'), join(b, 'xxx.pth'));
  const [one, two, three, four] = await Promise.all([
    runCli(['train', '--dataset=ml-1m', '--train_dir=default', '--maxlen=200', '--dropout_rate=0.2', '--device=cuda', '--num_epochs=2'], { cwd: a }),
    runCli(
      ['train', '--device=cuda', '--dataset=ml-1m', '--train_dir=default', '--state_dict_path=xxx.pth', '--inference_only=true', '--maxlen=200'],
      {
        cwd: b,
      },
    ),
    runCli(['train', '--dataset=ml-1m', '--train_dir=mhc_test', '--mhc_expansion_rate=4', '--num_epochs=2'], { cwd: a }),
    runCli(['train', '--dataset=ml-1m', '--train_dir=tisasrec', '--use_time', '--num_epochs=2'], { cwd: c }),
  ]);

  // 1: SASRec, post-LN, in ml-1m_default; cuda noted once
  assert.equal(one.code, 0, one.stderr);
  assert.equal(one.stderr.match(new RegExp(CUDA_NOTE.source, 'gm'))?.length, 1, one.stderr);
  assert.match(one.stderr, /^dataset data\/ml-1m\.txt: 60 users, 30 items$/m);
  const run1 = join(a, 'ml-1m_default');
  const model1 = JSON.parse(parseSafetensors(readFileSync(join(run1, 'sasrec.safetensors'))).metadata.config) as Record<string, unknown>;
  assert.equal(model1.model, 'sasrec');
  assert.equal(model1.maxlen, 200);
  assert.equal(model1.dropout_rate, 0.2);
  assert.equal(model1.norm_first, false);
  assert.equal(model1.mhc, undefined);
  const args1 = readArgs(join(run1, 'args.txt'));
  for (const [k, v] of [
    ['dataset', 'ml-1m'],
    ['train_dir', 'default'],
    ['maxlen', '200'],
    ['dropout_rate', '0.2'],
    ['device', 'cuda'],
    ['num_epochs', '2'],
    ['lr', '0.001'],
    ['l2_emb', '0.0'],
    ['norm_first', 'False'],
    ['inference_only', 'False'],
    ['state_dict_path', 'None'],
    ['use_time', 'False'],
  ]) {
    assert.equal(args1.get(k), v, `args.txt ${k}`);
  }
  // log.txt: the reference's header, one line per evaluation (the last epoch here), whose test
  // figures are results.json's: the same model (the best = the only one evaluated) and negatives
  const log1 = readFileSync(join(run1, 'log.txt'), 'utf8').split('\n');
  assert.equal(log1[0], 'epoch (val_ndcg, val_hr) (test_ndcg, test_hr)');
  assert.equal(log1.length, 3);
  assert.equal(log1[2], '');
  const res1 = JSON.parse(readFileSync(join(run1, 'results.json'), 'utf8')) as Results;
  assert.equal(log1[1], referenceLogLine(2, metricsOf(res1, 'valid'), metricsOf(res1, 'test'), 10));
  assert.match(log1[1], /^2 \(0\.\d+, 0\.\d+\) \(0\.\d+, 0\.\d+\)$/);

  // 2: the reference's .pth evaluated as its safetensors copy is
  assert.equal(two.code, 0, two.stderr);
  assert.match(two.stderr, CUDA_NOTE);
  const run2 = join(b, 'ml-1m_default');
  const res2 = JSON.parse(readFileSync(join(run2, 'results.json'), 'utf8')) as Results;
  assert.equal(readArgs(join(run2, 'args.txt')).get('inference_only'), 'True');
  assert.equal(readArgs(join(run2, 'args.txt')).get('state_dict_path'), 'xxx.pth');
  assert.ok(!existsSync(join(run2, 'log.txt')), 'no training, no log.txt');
  const copy = await runCli(['eval', '--state_dict_path', join(PTH, 'sasrec-postln.safetensors'), '--dataset', 'data/ml-1m.txt', '--json'], {
    cwd: b,
  });
  assert.equal(copy.code, 0, copy.stderr);
  const resCopy = JSON.parse(copy.stdout) as Results;
  assert.deepEqual(metricsOf(res2, 'valid'), metricsOf(resCopy, 'valid'));
  assert.deepEqual(metricsOf(res2, 'test'), metricsOf(resCopy, 'test'));

  // 3: SASRec with mHC, 4 streams (pre-LN), in ml-1m_mhc_test
  assert.equal(three.code, 0, three.stderr);
  assert.match(three.stderr, /SASRec: .*mHC 4 streams/);
  const model3 = JSON.parse(parseSafetensors(readFileSync(join(a, 'ml-1m_mhc_test', 'sasrec.safetensors'))).metadata.config) as Record<
    string,
    unknown
  >;
  assert.equal(model3.mhc, true);
  assert.equal(model3.mhc_expansion_rate, 4);
  assert.equal(model3.norm_first, true);

  // 4: TiSASRec on the timestamps, in ml-1m_tisasrec
  assert.equal(four.code, 0, four.stderr);
  assert.match(four.stderr, /TiSASRec: /);
  const run4 = join(c, 'ml-1m_tisasrec');
  assert.ok(existsSync(join(run4, 'tisasrec.safetensors')));
  assert.equal(readArgs(join(run4, 'args.txt')).get('use_time'), 'True');
  assert.equal(readFileSync(join(run4, 'log.txt'), 'utf8').split('\n').length, 3);
  // --inference_only without --model (or --use_time) takes the model the file holds
  const inference = await runCli(
    ['train', '--dataset=ml-1m', '--train_dir=inf', '--state_dict_path=ml-1m_tisasrec/tisasrec.safetensors', '--inference_only'],
    {
      cwd: c,
    },
  );
  assert.equal(inference.code, 0, inference.stderr);
  const res4 = JSON.parse(readFileSync(join(run4, 'results.json'), 'utf8')) as Results;
  const resInf = JSON.parse(readFileSync(join(c, 'ml-1m_inf', 'results.json'), 'utf8')) as Results & { model: string };
  assert.equal(resInf.model, 'tisasrec');
  assert.deepEqual(metricsOf(resInf, 'test'), metricsOf(res4, 'test'));
});

test('a resumed run keeps log.txt in step with its checkpoint; a folder holding log.txt is a run; --reference_log false writes none', async () => {
  const cwd = referenceFolder('resume');
  const tiny = ['--dataset=ml-1m', '--hidden_units=8', '--num_blocks=1', '--maxlen=10', '--eval_every=1'];
  const first = await runCli(['train', ...tiny, '--train_dir=r', '--num_epochs=2'], { cwd });
  assert.equal(first.code, 0, first.stderr);
  const again = await runCli(['train', ...tiny, '--train_dir=r', '--num_epochs=3', '--resume'], { cwd });
  assert.equal(again.code, 0, again.stderr);
  const lines = readFileSync(join(cwd, 'ml-1m_r', 'log.txt'), 'utf8')
    .trimEnd()
    .split('\n');
  assert.deepEqual(
    lines.map((l) => l.split(' ')[0]),
    ['epoch', '1', '2', '3'],
  );
  // the reference's own run folder (its log.txt, no seqrec files) is not replaced by accident
  mkdirSync(join(cwd, 'ml-1m_theirs'));
  writeFileSync(join(cwd, 'ml-1m_theirs', 'log.txt'), 'epoch (val_ndcg, val_hr) (test_ndcg, test_hr)\n20 (0.5, 0.7) (0.4, 0.6)\n');
  const refused = await runCli(['train', ...tiny, '--train_dir=theirs', '--num_epochs=1'], { cwd });
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /already holds a run \(log\.txt\)/);
  const none = await runCli(['train', ...tiny, '--train_dir=quiet', '--num_epochs=1', '--reference_log=false'], { cwd });
  assert.equal(none.code, 0, none.stderr);
  assert.ok(existsSync(join(cwd, 'ml-1m_quiet', 'args.txt')));
  assert.ok(!existsSync(join(cwd, 'ml-1m_quiet', 'log.txt')));
  assert.doesNotMatch(none.stderr, /; test NDCG/);
});

/** The raw option values commander gives `seqrec train` for these arguments, under snake_case names. */
async function trainOpts(args: string[]): Promise<Record<string, unknown>> {
  const program = buildProgram();
  const train = program.commands.find((c) => c.name() === 'train')!;
  let got: Record<string, unknown> = {};
  train.action((opts: Record<string, unknown>) => {
    got = opts;
  });
  await program.parseAsync(['node', 'seqrec', 'train', ...args]);
  return Object.fromEntries(Object.entries(got).map(([k, v]) => [snake(k), v]));
}

test('every train flag takes --flag=value and --flag value (and its kebab alias); booleans also bare, true and false', async () => {
  const seen = new Set<string>();
  for (const { group } of trainFlagGroups()) {
    for (const [name, option] of Object.entries(group.options)) {
      if (seen.has(name)) continue;
      seen.add(name);
      const value =
        option.kind === 'int'
          ? '3'
          : option.kind === 'number'
            ? '0.5'
            : option.kind === 'int-list'
              ? '5,10'
              : option.kind === 'choice'
                ? option.choices!.at(-1)!
                : 'x';
      const kebab = name.replace(/_/g, '-');
      if (option.kind === 'bool') {
        for (const v of ['true', 'false']) {
          for (const form of [[`--${name}=${v}`], [`--${name}`, v], [`--${kebab}=${v}`], [`--${kebab}`, v]]) {
            assert.deepEqual(await trainOpts(form), { [name]: v }, form.join(' '));
          }
        }
        assert.deepEqual(await trainOpts([`--${name}`]), { [name]: true }, `bare --${name}`);
        assert.deepEqual(await trainOpts([`--${kebab}`]), { [name]: true }, `bare --${kebab}`);
        // and typed: 'false' is false, a bare flag true
        assert.deepEqual(Object.values(group.pick(name).parse({ [name]: 'false' })), [false]);
        assert.deepEqual(Object.values(group.pick(name).parse({ [name]: true })), [true]);
      } else {
        for (const form of [[`--${name}=${value}`], [`--${name}`, value], [`--${kebab}=${value}`], [`--${kebab}`, value]]) {
          assert.deepEqual(await trainOpts(form), { [name]: value }, form.join(' '));
        }
      }
    }
  }
  // the reference's flags are among them
  for (const flag of [
    'dataset',
    'train_dir',
    'batch_size',
    'lr',
    'maxlen',
    'hidden_units',
    'num_blocks',
    'num_epochs',
    'num_heads',
    'dropout_rate',
  ]) {
    assert.ok(seen.has(flag), flag);
  }
  for (const flag of ['l2_emb', 'device', 'inference_only', 'state_dict_path', 'norm_first', 'use_time', 'no_time', 'no_mhc', 'mhc_expansion_rate']) {
    assert.ok(seen.has(flag), flag);
  }
  for (const flag of [
    'mhc_sinkhorn_iter',
    'mhc_init_gate',
    'time_span',
    'time_unit',
    'num_workers',
    'lr_decay_step',
    'lr_decay_rate',
    'warmup_steps',
  ]) {
    assert.ok(seen.has(flag), flag);
  }
});

test("the reference's switches: SASRec by default, --use_time TiSASRec, --no_time / --no_mhc their opposites; --device cpu|cuda", () => {
  const req = (raw: Record<string, unknown>) => parseTrainRequest(raw);
  assert.equal(req({}).spec.name, 'sasrec');
  assert.equal(req({ use_time: true }).spec.name, 'tisasrec');
  assert.equal(req({ use_time: 'true', model: 'tisasrec' }).spec.name, 'tisasrec');
  assert.equal(req({ no_time: 'true' }).spec.name, 'sasrec');
  assert.equal(req({ use_time: 'false' }).spec.name, 'sasrec');
  assert.equal(req({ model: 'bert4rec' }).spec.name, 'bert4rec');
  assert.ok(mhcConfig(req({ mhc_expansion_rate: '4' }).modelOptions));
  // --no_mhc: off whatever the mHC flags say (they always have values in the reference)
  assert.equal(mhcConfig(req({ no_mhc: true, mhc_expansion_rate: '4', mhc_sinkhorn_iter: '30' }).modelOptions), null);
  assert.equal(mhcConfig(req({ use_time: true, no_mhc: 'true', mhc_expansion_rate: '4' }).modelOptions), null);
  assert.equal(req({ device: 'cuda' }).run.device, 'cuda');
  assert.equal(req({ device: 'cuda:1' }).run.device, 'cuda:1');
  assert.equal(req({ time_unit: 'hour', use_time: true }).modelOptions.timeUnit, 'hour');
  const refuses = (raw: Record<string, unknown>, pattern: RegExp) =>
    assert.throws(
      () => req(raw),
      (e: unknown) => e instanceof UserError && pattern.test(e.message) && !e.message.includes('\n'),
    );
  refuses({ use_time: true, no_time: true }, /^--no_time: cannot be combined with --use_time$/);
  refuses({ model: 'sasrec', use_time: true }, /^--use_time: --model sasrec ignores time; use --model tisasrec/);
  refuses({ model: 'tisasrec', no_time: true }, /^--no_time contradicts --model tisasrec/);
  refuses({ model: 'tisasrec', use_time: 'false' }, /^--use_time false contradicts --model tisasrec/);
  refuses({ no_mhc: true, mhc: true }, /^--no_mhc: cannot be combined with --mhc true$/);
  refuses({ device: 'tpu' }, /^--device: expected cpu, cuda, cuda:N or mps, got "tpu"$/);
});

test('--dataset NAME: a file NAME, else data/NAME.txt, else the data fetch cache, else the bundled data, else one line naming the command', async () => {
  const cwd = join(base, 'lookup');
  const cache = join(base, 'cache');
  mkdirSync(join(cwd, 'data'), { recursive: true });
  mkdirSync(cache, { recursive: true });
  writeFileSync(join(cache, 'ml-1m.txt'), '1 1\n1 2\n1 3\n');
  writeFileSync(join(cache, 'local.txt'), '1 1\n');
  writeFileSync(join(cwd, 'data', 'local.txt'), '1 1\n');
  writeFileSync(join(cwd, 'plain'), '1 1\n');
  const home = process.cwd();
  process.chdir(cwd);
  try {
    assert.deepEqual(resolveDataset('plain', cache), { path: 'plain', name: 'plain' });
    assert.deepEqual(resolveDataset('local', cache), { path: join('data', 'local.txt'), name: 'local' });
    assert.deepEqual(resolveDataset('ml-1m', cache), { path: join(cache, 'ml-1m.txt'), name: 'ml-1m' });
    assert.deepEqual(resolveDataset('Video', cache), { path: bundledDatasetPath(), name: 'Video' });
    assert.deepEqual(resolveDataset('games', cache), { path: bundledDatasetPath(), name: 'games' });
    // a path with a folder is itself, even when missing (reading it says so)
    assert.deepEqual(resolveDataset('elsewhere/x.txt', cache), { path: 'elsewhere/x.txt', name: 'x' });
    assert.throws(
      () => resolveDataset('ml-100k', cache),
      (e: unknown) =>
        e instanceof UserError &&
        e.message ===
          `--dataset ml-100k: no file ml-100k, ${join('data', 'ml-100k.txt')} or ${join(cache, 'ml-100k.txt')}; get it with: seqrec data fetch ml-100k`,
    );
    assert.throws(() => resolveDataset('beauty', cache), /; make it from a raw log with: seqrec convert --input LOG --output data\/beauty\.txt$/);
  } finally {
    process.chdir(home);
  }
  // through the CLI, the cache is where `data fetch` puts it ($XDG_CACHE_HOME/seqrec)
  const env = { XDG_CACHE_HOME: base };
  mkdirSync(join(base, 'seqrec'), { recursive: true });
  copyFileSync(join(cache, 'ml-1m.txt'), join(base, 'seqrec', 'ml-1m.txt'));
  const empty = join(base, 'empty');
  mkdirSync(empty);
  const stats = await runCli(['data', 'stats', '--dataset=ml-1m', '--json'], { cwd: empty, env });
  assert.equal(stats.code, 0, stats.stderr);
  assert.equal(JSON.parse(stats.stdout).dataset, join(base, 'seqrec', 'ml-1m.txt'));
  const missing = await runCli(['train', '--dataset=ml-100k', '--train_dir=default'], { cwd: empty, env });
  assert.equal(missing.code, 2);
  assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);
  assert.match(missing.stderr, /^seqrec: --dataset ml-100k: no file ml-100k, .*; get it with: seqrec data fetch ml-100k$/m);
});

test("args.txt and log.txt print numbers as Python's str() does", () => {
  for (const [x, s] of [
    [0, '0.0'],
    [1, '1.0'],
    [0.2, '0.2'],
    [0.001, '0.001'],
    [0.0001, '0.0001'],
    [5e-5, '5e-05'],
    [1.5e-5, '1.5e-05'],
    [1 / 3, '0.3333333333333333'],
    [0.5124567326780001, '0.5124567326780001'],
    [123456.5, '123456.5'],
    [1e16, '1e+16'],
    [Number.NaN, 'nan'],
  ] as const) {
    assert.equal(pythonFloat(x), s, String(x));
  }
  assert.equal(
    referenceLogLine(20, { 'NDCG@10': 0.5, 'HR@10': 0.75 }, { 'NDCG@10': 1 / 3, 'HR@10': 1 }, 10),
    '20 (0.5, 0.75) (0.3333333333333333, 1.0)',
  );
});

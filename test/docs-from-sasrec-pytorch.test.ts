/**
 * docs/from-sasrec-pytorch.md against the code: its flag table maps every flag of the reference's
 * python/main.py and of its TiSASRec/mHC variant, each to a flag `seqrec train` reads (the same name
 * wherever seqrec has it) or to "not supported"; every seqrec flag it names exists; the reference's
 * files are covered (log.txt's header as the code writes it); the differences that change numbers are
 * there; every `seqrec …` command it shows parses as written; the README links it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { Command } from 'commander';
import { buildProgram } from '../src/cli/main.js';
import { REFERENCE_LOG_HEADER } from '../src/train/reference-files.js';
import { parseTrainRequest, trainOptionNames } from '../src/train/request.js';

const PAGE = 'docs/from-sasrec-pytorch.md';
const page = readFileSync(new URL(`../${PAGE}`, import.meta.url), 'utf8');

/** pmixer/SASRec.pytorch python/main.py's argparse flags. */
const MAIN_PY = [
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
  'l2_emb',
  'device',
  'inference_only',
  'state_dict_path',
  'norm_first',
];
/** The flags its TiSASRec/mHC variant adds. */
const VARIANT = [
  'use_time',
  'no_time',
  'no_mhc',
  'mhc_expansion_rate',
  'mhc_sinkhorn_iter',
  'mhc_init_gate',
  'time_span',
  'time_unit',
  'lr_decay_step',
  'lr_decay_rate',
  'warmup_steps',
  'num_workers',
  'early_stop_patience',
  'early_stop_threshold',
  'use_amp',
  'mhc_no_amp',
  'multi_gpu',
  'backend',
  'master_port',
];
const NOT_SUPPORTED = ['use_amp', 'mhc_no_amp', 'multi_gpu', 'backend', 'master_port'];
/** Variant flags with another seqrec flag as their nearest equivalent. */
const NEAREST: Record<string, string> = { early_stop_patience: 'patience', early_stop_threshold: 'min_delta' };

function section(title: string): string {
  const start = page.indexOf(`\n## ${title}\n`);
  assert.ok(start >= 0, `${PAGE} has a "## ${title}" section`);
  const end = page.indexOf('\n## ', start + 4);
  return page.slice(start, end < 0 ? undefined : end);
}

const cells = (row: string) =>
  row
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/ \| /)
    .map((c) => c.trim());

test('the flag table maps every reference flag to the flag seqrec reads, or says it is not supported', () => {
  const rows = section('Flags')
    .split('\n')
    .filter((l) => l.startsWith('| `--'))
    .map(cells);
  const mapped = new Map(rows.map((r) => [/^`--([a-z_0-9]+)`$/.exec(r[0])![1], r]));
  assert.equal(mapped.size, rows.length, 'one row per flag');
  assert.deepEqual([...mapped.keys()].sort(), [...MAIN_PY, ...VARIANT].sort());
  const seqrecFlags = new Set(trainOptionNames());
  for (const [flag, [, , seqrec]] of mapped) {
    if (NOT_SUPPORTED.includes(flag)) {
      assert.equal(seqrec, 'not supported', flag);
      assert.ok(!seqrecFlags.has(flag), `${flag} is said to be unsupported but seqrec train reads it`);
    } else {
      const to = NEAREST[flag] ?? flag;
      assert.equal(seqrec, `\`--${to}\``, `${flag} maps to --${to}`);
      assert.ok(seqrecFlags.has(to), `seqrec train reads --${to}`);
    }
  }
  // every flag the table names is one seqrec train reads, or a reference flag it does not
  for (const [, name] of section('Flags').matchAll(/`--([a-z_0-9]+)/g)) {
    assert.ok(seqrecFlags.has(name) || NOT_SUPPORTED.includes(name) || name in NEAREST, `--${name} in the table is no seqrec train flag`);
  }
});

test("the reference's files and the differences that change numbers are covered", () => {
  const files = section('Files');
  for (const name of ['data/NAME.txt', '`<dataset>_<train_dir>/`', '`args.txt`', '`log.txt`', '.pth', 'seqrec data fetch ml-1m']) {
    assert.ok(files.includes(name), `the Files section mentions ${name}`);
  }
  assert.ok(files.includes(`\`log.txt\` (\`${REFERENCE_LOG_HEADER}\``), "log.txt's header as the code writes it");
  const differences = section('What makes the numbers differ');
  for (const what of ['10,000', '`--eval_users 10000`', '`--min_interactions 4`', '`--user_sampling cycle`', '`--num_epochs`', 'Negatives']) {
    assert.ok(differences.includes(what), `the differences mention ${what}`);
  }
});

/** Splits a shell line into words (double quotes group; a `#` after a space starts a comment). */
function words(line: string): string[] {
  const out: string[] = [];
  for (const m of line.replace(/\s#.*$/, '').matchAll(/"([^"]*)"|(\S+)/g)) out.push(m[1] ?? m[2]);
  return out;
}

/** Parses `seqrec <command> …` with the command's action replaced: its options, or commander's error. */
async function parseCommand(argv: string[]): Promise<{ command: string; opts: Record<string, unknown> }> {
  const program = buildProgram();
  let got: { command: string; opts: Record<string, unknown> } | undefined;
  const capture = (cmd: Command) => {
    cmd.action((...args: unknown[]) => {
      got = { command: cmd.name(), opts: args.at(-2) as Record<string, unknown> };
    });
  };
  for (const cmd of program.commands) capture(cmd);
  await program.parseAsync(['node', ...argv]);
  assert.ok(got, `${argv.join(' ')} ran a command`);
  return got!;
}

test('every seqrec command the page shows parses as written; the reproduction commands ask for the reference settings', async () => {
  const lines = [...page.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1].split('\n')).filter((l) => l.startsWith('seqrec '));
  assert.ok(lines.length >= 8, `${PAGE} shows commands`);
  for (const line of lines) {
    const { command, opts } = await parseCommand(words(line));
    if (command === 'train') parseTrainRequest(opts);
  }
  const reproduce = [...page.matchAll(/<!-- reproduce -->\n```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1].trim().split('\n'));
  assert.equal(reproduce.length, 3);
  for (const line of reproduce.slice(0, 2)) {
    const req = parseTrainRequest((await parseCommand(words(line))).opts);
    assert.equal(req.dataset.minInteractions, 4, line);
    assert.equal(req.training.userSampling, 'cycle', line);
    assert.equal(req.evaluation.evalUsers, 10000, line);
  }
  assert.equal(parseTrainRequest((await parseCommand(words(reproduce[0]))).opts).training.numEpochs, 1000);
  const fromPth = parseTrainRequest((await parseCommand(words(reproduce[2]))).opts);
  assert.ok(fromPth.run.inferenceOnly && fromPth.run.stateDictPath?.endsWith('.pth'));
  assert.equal(fromPth.evaluation.evalProtocol, 'both');
});

test('the README links the page', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  assert.ok(readme.includes(`(${PAGE})`), `README.md links ${PAGE}`);
});

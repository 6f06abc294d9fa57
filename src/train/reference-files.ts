/**
 * The files a SASRec.pytorch user finds in a run directory, written beside seqrec's own so that their
 * scripts keep working:
 *
 * - `args.txt`: one `name,value` line per option, sorted by name, no final newline, values as Python's
 *   str() prints them (True / False / None, 0.2, 5e-05, [10]) — main.py's
 *   `'\n'.join(str(k) + ',' + str(v) for k, v in sorted(vars(args).items()))`;
 * - `log.txt`: the header `epoch (val_ndcg, val_hr) (test_ndcg, test_hr)`, then after every evaluation
 *   `<epoch> (<valid NDCG@10>, <valid HR@10>) (<test NDCG@10>, <test HR@10>)`, as main.py's
 *   `str(epoch) + ' ' + str(t_valid) + ' ' + str(t_test)`.
 */
import { readFile } from 'node:fs/promises';
import { camel, type OptionKind } from '../core/options.js';
import { writeFileAtomic } from '../io/atomic.js';
import { trainingOptions } from '../learn/options.js';
import { modelOption, TRAIN_COMMAND_GROUPS, type TrainRequest } from './request.js';

export const REFERENCE_LOG_HEADER = 'epoch (val_ndcg, val_hr) (test_ndcg, test_hr)';

/** A number as Python's repr() of a float prints it: 0.0, 0.2, 5e-05, 1e+16, nan, inf. */
export function pythonFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // toExponential() gives the shortest digits that round-trip, as Python's repr does
  const [mantissa, exp] = x.toExponential().split('e');
  const e = Number(exp);
  if (e < -4 || e >= 16) return `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  const s = String(x);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/**
 * How an option's value prints in args.txt: Python's str() of the value argparse would hold (an
 * absent flag of a boolean is False, as argparse's store_true gives).
 */
export function pythonStr(value: unknown, kind: OptionKind | 'other'): string {
  if ((value === undefined || value === null) && kind === 'bool') return 'False';
  if (value === undefined || value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') return kind === 'number' ? pythonFloat(value) : Number.isInteger(value) ? String(value) : pythonFloat(value);
  if (Array.isArray(value)) return `[${value.map((v) => (typeof v === 'string' ? `'${v}'` : pythonStr(v, 'other'))).join(', ')}]`;
  return String(value);
}

/**
 * args.txt's entries for a `seqrec train` request: every option it reads, as used (defaults applied,
 * the model's own and, for a gradient model, the loop's), under the reference's names, plus the
 * reference's own: `dataset` and `train_dir` as given, `device` (cpu unless given), `use_time` /
 * `no_time` as the model says.
 */
export function referenceArgs(req: TrainRequest, given: { readonly dataset: string; readonly trainDir: string }): Record<string, string> {
  const gradient = req.spec.learning.kind === 'gradient';
  const used: Record<string, unknown> = {
    ...req.dataset,
    ...req.evaluation,
    seed: req.seed,
    ...req.run,
    ...req.modelOptions,
    ...(gradient ? req.training : {}),
  };
  const groups = [...TRAIN_COMMAND_GROUPS.filter((g) => g !== modelOption && (gradient || g !== trainingOptions)), req.spec.options];
  const out: Record<string, string> = {};
  for (const group of groups) {
    for (const [name, option] of Object.entries(group.options)) out[name] = pythonStr(used[camel(name)], option.kind);
  }
  const timed = req.spec.name === 'tisasrec';
  Object.assign(out, {
    model: req.spec.name,
    use_time: pythonStr(timed, 'bool'),
    no_time: pythonStr(!timed, 'bool'),
    dataset: given.dataset,
    train_dir: given.trainDir,
    device: req.run.device ?? 'cpu',
  });
  return out;
}

/** args.txt's text from `name → printed value` entries. */
export function argsText(entries: Readonly<Record<string, string>>): string {
  return Object.keys(entries)
    .sort()
    .map((k) => `${k},${entries[k]}`)
    .join('\n');
}

/** One log.txt line: `20 (0.5012, 0.7654) (0.4876, 0.7321)` with the metrics at cut-off k. */
export function referenceLogLine(epoch: number, valid: Readonly<Record<string, number>>, test: Readonly<Record<string, number>>, k: number): string {
  const pair = (m: Readonly<Record<string, number>>) => `(${pythonFloat(m[`NDCG@${k}`])}, ${pythonFloat(m[`HR@${k}`] ?? m[`Hit@${k}`])})`;
  return `${epoch} ${pair(valid)} ${pair(test)}`;
}

/** Keeps log.txt's header and its lines of epochs ≤ `epoch` (what a resume checkpoint covers). */
export async function truncateReferenceLog(path: string, epoch: number): Promise<void> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    text = '';
  }
  const lines = text.split('\n').filter((l) => {
    const m = /^(\d+) \(/.exec(l);
    return m !== null && Number(m[1]) <= epoch;
  });
  await writeFileAtomic(path, [REFERENCE_LOG_HEADER, ...lines].map((l) => `${l}\n`).join(''));
}

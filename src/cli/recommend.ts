import type { Command } from 'commander';
import { UserError } from './errors.js';
import { addSnakeOption, intFlag, loadOptionsFrom, snakeValue } from './data.js';
import { addModelOption, type Opts } from './options.js';
import { addFormatOptions } from './data.js';
import { loadModelFile } from './train.js';
import { loadDataset } from '../data/index.js';
import { buildSingleBatch } from '../eval/history.js';
import { topK } from '../eval/protocols.js';
import type { TrainedModel } from '../models/registry.js';
import type { Scorer } from '../eval/types.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** Original item ids → the model's dense ids; an unknown id is a one-line UserError. */
export function mapItems(model: TrainedModel, raw: readonly string[], flag: string): Int32Array {
  const out = new Int32Array(raw.length);
  for (let j = 0; j < raw.length; j++) {
    const idx = model.items.toIndex.get(raw[j]);
    if (idx === undefined) throw new UserError(`${flag}: unknown item id "${raw[j]}" (not in the model's items)`);
    out[j] = idx;
  }
  return out;
}

export function parseHistory(text: string): string[] {
  return text.split(/[\s,]+/).filter((t) => t !== '');
}

/**
 * History tokens "item" or "item@time" (raw timestamps, in the dataset's unit, non-decreasing): all
 * with a time or none. Time-aware models (TiSASRec) use the times; without them such a model takes
 * the items as equally spaced. Other models ignore times.
 */
export function splitHistoryTimes(tokens: readonly string[]): { items: string[]; times?: number[] } {
  const timed = tokens.filter((t) => t.includes('@')).length;
  if (timed === 0) return { items: [...tokens] };
  if (timed !== tokens.length) throw new UserError('--history: give a time for every item ("item@time …") or for none');
  const items: string[] = [];
  const times: number[] = [];
  for (const tok of tokens) {
    const at = tok.lastIndexOf('@');
    const item = tok.slice(0, at);
    const time = tok.slice(at + 1);
    const t = Number(time);
    if (item === '' || time.trim() === '' || !Number.isFinite(t)) throw new UserError(`--history: "${tok}" is not item@time with a numeric time`);
    if (times.length > 0 && t < times[times.length - 1]) throw new UserError(`--history: times must not decrease ("${tok}" comes after time ${times[times.length - 1]})`);
    items.push(item);
    times.push(t);
  }
  return { items, times };
}

/**
 * The in-process recommendation `seqrec recommend` runs: scores of every item after one history
 * (dense item ids, time order; `user` = dense user id or 0), top `k` with the history's items excluded.
 */
export function recommendTopK(
  scorer: Scorer,
  history: ArrayLike<number>,
  k: number,
  user = 0,
  historyTimes?: ArrayLike<number>,
): Array<{ item: number; score: number }> {
  const batch = buildSingleBatch(history, scorer.maxlen, user, historyTimes);
  const scores = scorer.scoreAll(batch);
  return topK(scores, 0, scorer.itemNum, k, history);
}

export function register(program: Command): void {
  const cmd = program
    .command('recommend')
    .description(
      'top-K next items for a known user (--user) or for a history of item ids (--history "i1 i2 …", or ' +
        '--history - to read it from stdin); ids are the original ones; items already in the history are excluded. ' +
        'Time-aware models (tisasrec) read "i1@t1 i2@t2 …" with raw timestamps in the dataset\'s unit; without times ' +
        'they take the history as equally spaced',
    );
  addSnakeOption(cmd, 'state_dict_path', 'file', 'the model file (required)');
  addModelOption(cmd, false);
  cmd.option('--user <id>', "a user of the model's data: recommends after the user's whole known history");
  cmd.option('--history <items>', 'item ids in time order, separated by spaces or commas, each optionally item@time; "-" reads them from stdin');
  cmd.option('--k <n>', 'number of recommendations (default 10)');
  addSnakeOption(cmd, 'dataset', 'file', "with --user: take the user's history from this file instead of the model file");
  addFormatOptions(cmd);
  cmd.option('--json', 'print JSON: {"user", "history", "items": [{"item", "score"}]}');
  cmd.action(async (opts: Opts) => {
    const statePath = snakeValue(opts, 'state_dict_path');
    if (!statePath) throw new UserError('recommend: --state_dict_path is required');
    const userRaw = opts.user === undefined ? undefined : String(opts.user);
    const historyArg = opts.history === undefined ? undefined : String(opts.history);
    if ((userRaw === undefined) === (historyArg === undefined)) {
      throw new UserError('recommend: give exactly one of --user or --history');
    }
    const k = intFlag(opts, 'k', 1) ?? 10;
    const { model } = await loadModelFile(statePath, snakeValue(opts, 'model'));

    let user = 0;
    let history: Int32Array;
    let historyTimes: ArrayLike<number> | undefined;
    if (userRaw !== undefined) {
      const datasetPath = snakeValue(opts, 'dataset');
      if (datasetPath !== undefined) {
        const data = await loadDataset(datasetPath, loadOptionsFrom(opts));
        const du = data.users.toIndex.get(userRaw);
        if (du === undefined) throw new UserError(`--user: unknown user id "${userRaw}" (not in ${datasetPath})`);
        history = mapItems(model, Array.from(data.seqs[du], (i) => data.items.toRaw[i]), `--dataset ${datasetPath}`);
        historyTimes = data.times?.[du];
        user = model.users?.toIndex.get(userRaw) ?? 0;
      } else {
        if (!model.users || !model.histories) {
          throw new UserError(`--user: ${statePath} holds no user histories; pass --dataset FILE or --history`);
        }
        const u = model.users.toIndex.get(userRaw);
        if (u === undefined) throw new UserError(`--user: unknown user id "${userRaw}" (not in the model's users)`);
        user = u;
        history = model.histories[u];
        historyTimes = model.historyTimes?.[u];
      }
    } else {
      const text = historyArg === '-' ? await readStdin() : historyArg!;
      const raw = parseHistory(text);
      if (raw.length === 0) throw new UserError(`--history: no item ids given${historyArg === '-' ? ' on stdin' : ''}`);
      const { items: rawItems, times } = splitHistoryTimes(raw);
      history = mapItems(model, rawItems, '--history');
      historyTimes = times;
    }

    const best = recommendTopK(model.scorer, history, k, user, historyTimes);
    const items = best.map((b) => ({ item: model.items.toRaw[b.item], score: b.score }));
    if (opts.json) {
      const out = { user: userRaw ?? null, history: Array.from(history, (i) => model.items.toRaw[i]), items };
      process.stdout.write(`${JSON.stringify(out)}\n`);
    } else {
      process.stdout.write(items.map((x) => `${x.item}\t${x.score}`).join('\n') + (items.length ? '\n' : ''));
    }
  });
}

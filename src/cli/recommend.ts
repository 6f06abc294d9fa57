import type { Command } from 'commander';
import { UserError } from '../core/errors.js';
import { bool, defineOptions, int, str } from '../core/options.js';
import { datasetOptions, loadDatasetFrom } from '../data/options.js';
import { recommendTopK, shortfallNote, type Query } from '../eval/recommend.js';
import { foreignModelOptions, loadModelFile, modelFileOptions } from '../train/model-file.js';
import { queryForHistory, queryForUser, parseHistory } from '../train/query.js';
import { addOptions, commandGroups } from './flags.js';

const recommendOptions = defineOptions({
  user: str({ help: "a user of the model's data: recommends after the user's whole known history", arg: 'id' }),
  history: str({ help: 'item ids in time order, separated by spaces or commas, each optionally item@time; "-" reads them from stdin', arg: 'items' }),
  k: int({ help: 'number of recommendations', default: 10, min: 1 }),
  json: bool({ help: 'print JSON: {"user", "history", "items": [{"item", "score"}]}', default: false }),
});

/** --dataset and the reading options a --user's history may come from. */
const historySourceOptions = datasetOptions.pick('dataset', 'format', 'user_col', 'item_col', 'time_col');

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
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
  addOptions(cmd, commandGroups(modelFileOptions, foreignModelOptions, recommendOptions, historySourceOptions));
  cmd.action(async (opts: Record<string, unknown>) => {
    const file = modelFileOptions.parse(opts);
    if (file.stateDictPath === undefined) throw new UserError('recommend: --state_dict_path is required');
    const o = recommendOptions.parse(opts);
    const source = historySourceOptions.parse(opts);
    if ((o.user === undefined) === (o.history === undefined)) throw new UserError('recommend: give exactly one of --user or --history');
    const { model } = await loadModelFile(file.stateDictPath, file.model, foreignModelOptions.parse(opts));
    try {
      let query: Query;
      if (o.user !== undefined) {
        const from = source.dataset !== undefined ? await loadDatasetFrom(source) : undefined;
        query = queryForUser(model, o.user, from && { ...from.data, path: from.path }, file.stateDictPath);
      } else {
        const text = o.history === '-' ? await readStdin() : o.history!;
        const tokens = parseHistory(text);
        if (tokens.length === 0) throw new UserError(`--history: no item ids given${o.history === '-' ? ' on stdin' : ''}`);
        query = queryForHistory(model, tokens);
      }
      const items = recommendTopK(model.scorer, query, o.k).map((b) => ({ item: model.items.toRaw[b.item], score: b.score }));
      const shortfall = shortfallNote(model.scorer, query, o.k, items.length);
      if (shortfall) process.stderr.write(`note: recommend: ${shortfall}\n`);
      if (o.json) {
        const out = { user: o.user ?? null, history: Array.from(query.items, (i) => model.items.toRaw[i]), items };
        process.stdout.write(`${JSON.stringify(out)}\n`);
      } else {
        process.stdout.write(items.map((x) => `${x.item}\t${x.score}`).join('\n') + (items.length ? '\n' : ''));
      }
    } finally {
      model.dispose();
    }
  });
}

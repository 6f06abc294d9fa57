import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { UserError } from '../core/errors.js';
import { defineOptions, int, str } from '../core/options.js';
import { readFeatureFile } from '../data/feature-files.js';
import { datasetOptions, loadSplit, splitOptions } from '../data/options.js';
import { categoryFigure, readCategories, readRecency, recencyFigure } from '../experiments/attention-maps.js';
import { heatmapSvg } from '../experiments/heatmap-svg.js';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import { attentionSourceOf, type Model } from '../models/contract.js';
import { allModels } from '../models/registry.js';
import { checkSameItems, foreignModelOptions, loadModelFile, modelFileOptions } from '../train/model-file.js';
import { addOptions, commandGroups } from './flags.js';

const explainOptions = defineOptions({
  model_dir: str({ help: 'a run directory holding one model file (instead of --state_dict_path)', arg: 'dir' }),
  window: int({ help: 'Figure 4: the last positions whose attention is averaged', default: 15, min: 2 }),
  max_users: int({ help: 'the first users whose histories are analysed', default: 1000, min: 1 }),
  item_features: str({ help: 'Figure 5: the item feature file with a genres column (e.g. ml-100k/u.item)', arg: 'file' }),
  categories: str({ help: 'Figure 5: the categories compared, comma-separated', default: 'Action,Comedy,Drama,Thriller' }),
  svg_dir: str({ help: 'write the heatmaps as SVG files into this directory', arg: 'dir' }),
  output: str({ help: 'write the figures and readings as JSON to this file (atomically)', arg: 'file' }),
});

async function modelPath(dir: string): Promise<string> {
  let files: string[];
  try {
    const names = new Set(allModels().map((m) => m.fileName));
    files = (await readdir(dir)).filter((f) => names.has(f));
  } catch {
    throw new UserError(`--model_dir ${dir}: cannot read the directory`);
  }
  if (files.length !== 1) throw new UserError(`--model_dir ${dir}: expected one model file (e.g. sasrec.safetensors), found ${files.length}`);
  return join(dir, files[0]);
}

/** dense item id → indices of `categories` it belongs to, from the feature file's multi-valued genres column. */
async function itemCategories(model: Model, path: string, categories: readonly string[]): Promise<(item: number) => number[]> {
  const features = await readFeatureFile(path, '--item_features');
  const column = features.columns.findIndex((c) => c.kind === 'multi');
  if (column < 0) throw new UserError(`--item_features ${path}: no multi-valued (genres) column`);
  const byRaw = new Map(features.records.map((r) => [r.id, r.values[column].split('|')]));
  const known = new Set([...byRaw.values()].flat());
  for (const c of categories) if (!known.has(c)) throw new UserError(`--categories: ${c} is not a category of ${path}`);
  return (item) => {
    const cats = byRaw.get(model.items.toRaw[item]) ?? [];
    return categories.flatMap((c, i) => (cats.includes(c) ? [i] : []));
  };
}

/**
 * The users' histories (index = dense user id): the model file's, or, with --dataset (needed for a
 * file that carries none, such as a PyTorch state dict), the dataset's full sequences.
 */
async function userHistories(model: Model, path: string, opts: Record<string, unknown>): Promise<readonly Int32Array[]> {
  const dataset = datasetOptions.with(splitOptions).parse(opts);
  if (dataset.dataset === undefined) {
    if (!model.histories) throw new UserError(`${path}: the model file carries no user histories; give the --dataset it was trained on`);
    return model.histories;
  }
  const loaded = await loadSplit(dataset);
  checkSameItems(model, loaded);
  return loaded.data.seqs;
}

export function register(program: Command): void {
  const cmd = program
    .command('explain')
    .description(
      "a SASRec model's attention over its users' histories: the recent-item focus per layer (the paper's Figure 4) and, " +
        'with --item_features, the attention between categories (Figure 5); SVG heatmaps, JSON and a short reading',
    );
  addOptions(cmd, commandGroups(modelFileOptions, foreignModelOptions, datasetOptions, splitOptions, explainOptions));
  cmd.action(async (opts: Record<string, unknown>) => {
    const file = modelFileOptions.parse(opts);
    const o = explainOptions.parse(opts);
    if ((file.stateDictPath === undefined) === (o.modelDir === undefined))
      throw new UserError('explain: give one of --state_dict_path or --model_dir');
    const path = file.stateDictPath ?? (await modelPath(o.modelDir!));
    const { model } = await loadModelFile(path, file.model, foreignModelOptions.parse(opts));
    try {
      const source = attentionSourceOf(model);
      const histories = (await userHistories(model, path, opts)).slice(1, 1 + o.maxUsers).filter((h) => h.length > 0);
      const maps = source.attentionWeights(histories);
      const recency = recencyFigure(maps, o.window);
      const readings = readRecency(recency);
      const categoryNames = o.categories.split(',').map((c) => c.trim());
      const categories = o.itemFeatures
        ? categoryFigure(maps, histories, categoryNames, await itemCategories(model, o.itemFeatures, categoryNames))
        : undefined;
      if (categories) readings.push(...readCategories(categories));
      if (o.svgDir !== undefined) {
        await mkdir(o.svgDir, { recursive: true });
        const positions = Array.from({ length: o.window }, (_, i) => `t-${o.window - 1 - i}`);
        for (const [l, layer] of recency.layers.entries()) {
          const svg = heatmapSvg(layer.matrix, positions, positions, `layer ${l + 1}: attention over the last ${o.window} positions (query rows)`);
          await writeFileAtomic(join(o.svgDir, `recency-layer${l + 1}.svg`), svg);
        }
        for (const [l, layer] of (categories?.layers ?? []).entries()) {
          const svg = heatmapSvg(layer.matrix, categoryNames, categoryNames, `layer ${l + 1}: attention between categories (query rows)`);
          await writeFileAtomic(join(o.svgDir, `categories-layer${l + 1}.svg`), svg);
        }
      }
      if (o.output !== undefined) await writeJsonAtomic(o.output, { model: path, users: histories.length, recency, categories, readings });
      process.stdout.write(`${readings.join('\n')}\n`);
    } finally {
      model.dispose();
    }
  });
}

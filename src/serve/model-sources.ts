/** Which model files `serve` serves, by name: from --model_dir and --models. */
import { readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { UserError } from '../core/errors.js';
import { allModels } from '../models/registry.js';

/** A model to serve: its name in requests and its file. */
export interface ModelSource {
  readonly name: string;
  readonly path: string;
}

const modelFileNames = (): Set<string> => new Set(allModels().map((s) => s.fileName));

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    throw new UserError(`--model_dir: ${path}: no such file or directory`);
  }
}

/** The model file of a run directory, if it holds one. */
function modelFileIn(dir: string, names: Set<string>): string | undefined {
  const found = readdirSync(dir).filter((f) => names.has(f));
  if (found.length > 1) throw new UserError(`--model_dir: ${dir} holds several model files (${found.join(', ')}); name them with --models`);
  return found.length === 1 ? join(dir, found[0]) : undefined;
}

/** The models under `dir`: the file itself, the run directory's model, or one per run directory or model file inside. */
export function sourcesFromDir(dir: string): ModelSource[] {
  const names = modelFileNames();
  if (!isDir(dir)) return [{ name: basename(dir, extname(dir)), path: dir }];
  const own = modelFileIn(dir, names);
  if (own) return [{ name: basename(dir), path: own }];
  const out: ModelSource[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    const st = statSync(path);
    if (st.isDirectory()) {
      const file = modelFileIn(path, names);
      if (file) out.push({ name: entry, path: file });
    } else if (/\.(safetensors|json|pth)$/.test(entry) && !['config.json', 'results.json'].includes(entry)) {
      out.push({ name: basename(entry, extname(entry)), path });
    }
  }
  if (out.length === 0) throw new UserError(`--model_dir: no model file in ${dir}`);
  return out;
}

/** "name=path,name=path" pairs. */
export function sourcesFromList(list: string): ModelSource[] {
  return list
    .split(',')
    .filter((s) => s.trim() !== '')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq <= 0 || eq === pair.length - 1) throw new UserError(`--models: expected name=path, got "${pair}"`);
      return { name: pair.slice(0, eq).trim(), path: pair.slice(eq + 1).trim() };
    });
}

/** All sources, names unique. */
export function modelSources(modelDir: string | undefined, models: string | undefined): ModelSource[] {
  const all = [...(modelDir !== undefined ? sourcesFromDir(modelDir) : []), ...(models !== undefined ? sourcesFromList(models) : [])];
  if (all.length === 0) throw new UserError('serve: give --model_dir or --models');
  const seen = new Set<string>();
  for (const s of all) {
    if (seen.has(s.name)) throw new UserError(`serve: two models named "${s.name}"; name them with --models`);
    seen.add(s.name);
  }
  return all;
}

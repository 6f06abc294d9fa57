/**
 * The models a server answers for: every model file in a folder (or in its run folders), loaded through
 * the registry like `seqrec eval` does, each under a name. A model is replaced by loading the new file
 * first and swapping after: a request holds the model it started with (acquire/release), and the old one
 * is disposed only once the last request on it is done, so a reload never fails a request in flight.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { UserError } from '../core/errors.js';
import type { AnyModelSpec, Model } from '../models/contract.js';
import { loadModelFile } from '../train/model-file.js';

/** A model file's name in a run folder or a model folder: what `seqrec train` writes. */
const MODEL_FILE = /\.(safetensors|pth|json)$/;

export interface ServedModel {
  readonly name: string;
  readonly path: string;
  readonly spec: AnyModelSpec;
  readonly model: Model;
  readonly loadedAt: Date;
  readonly loadSeconds: number;
  /** the run's results.json (test metrics, settings), when the model came from a run folder */
  readonly results?: unknown;
}

interface Slot {
  current: ServedModel;
  /** requests using each model of this slot (the current one and any being retired) */
  inUse: Map<ServedModel, number>;
  retired: Set<ServedModel>;
}

/** The model files under `dir`: files directly in it, and the model file of each run folder in it. */
export function findModelFiles(dir: string): Array<{ name: string; path: string; results?: string }> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`--model_dir ${dir}: not a folder`);
  const found: Array<{ name: string; path: string; results?: string }> = [];
  for (const entry of readdirSync(dir).sort()) {
    const p = join(dir, entry);
    const st = statSync(p);
    if (st.isFile() && MODEL_FILE.test(entry) && entry !== 'results.json' && entry !== 'config.json') {
      found.push({ name: basename(entry, extname(entry)), path: p });
    } else if (st.isDirectory()) {
      const files = readdirSync(p).filter((f) => MODEL_FILE.test(f) && !['results.json', 'config.json', 'last.safetensors'].includes(f));
      if (files.length === 1) {
        const results = join(p, 'results.json');
        found.push({ name: entry, path: join(p, files[0]), ...(existsSync(results) ? { results } : {}) });
      }
    }
  }
  if (found.length === 0) throw new UserError(`--model_dir ${dir}: no model files in it or in its run folders`);
  return found;
}

async function loadServed(name: string, path: string, resultsPath?: string): Promise<ServedModel> {
  const t0 = performance.now();
  const { spec, model } = await loadModelFile(path, undefined, {}, `model ${name}`);
  let results: unknown;
  if (resultsPath) {
    try {
      results = JSON.parse(await readFile(resultsPath, 'utf8'));
    } catch {
      results = undefined; // a damaged results.json does not stop serving the model
    }
  }
  return { name, path, spec, model, loadedAt: new Date(), loadSeconds: (performance.now() - t0) / 1000, ...(results ? { results } : {}) };
}

export class ModelSet {
  private readonly slots = new Map<string, Slot>();
  private readonly sources = new Map<string, { path: string; results?: string }>();

  /** Loads every model file under `dir`; `onLoad` gets each model as it is loaded (for metrics). */
  static async fromDir(dir: string, onLoad?: (m: ServedModel) => void): Promise<ModelSet> {
    const set = new ModelSet(onLoad);
    for (const f of findModelFiles(dir)) await set.load(f.name, f.path, f.results);
    return set;
  }

  constructor(private readonly onLoad?: (m: ServedModel) => void) {}

  get names(): string[] {
    return [...this.slots.keys()];
  }

  /** The models being served, current ones only. */
  list(): ServedModel[] {
    return [...this.slots.values()].map((s) => s.current);
  }

  /** Loads (or reloads) a model under `name`; on failure the model being served stays. */
  async load(name: string, path: string, results?: string): Promise<ServedModel> {
    const fresh = await loadServed(name, path, results);
    this.sources.set(name, { path, ...(results ? { results } : {}) });
    const slot = this.slots.get(name);
    if (!slot) {
      this.slots.set(name, { current: fresh, inUse: new Map(), retired: new Set() });
    } else {
      const old = slot.current;
      slot.current = fresh;
      slot.retired.add(old);
      this.disposeIfIdle(slot, old);
    }
    this.onLoad?.(fresh);
    return fresh;
  }

  /** Reloads every model from its file; returns the names that failed, with why (they keep serving the old one). */
  async reloadAll(): Promise<Array<{ name: string; error: string }>> {
    const failed: Array<{ name: string; error: string }> = [];
    for (const [name, src] of this.sources) {
      try {
        await this.load(name, src.path, src.results);
      } catch (e) {
        failed.push({ name, error: e instanceof Error ? e.message : String(e) });
      }
    }
    return failed;
  }

  /** The model a request uses (the only one when `name` is absent and one is served); release it after. */
  acquire(name: string | undefined): ServedModel {
    let slot: Slot | undefined;
    if (name === undefined) {
      if (this.slots.size !== 1) throw new UserError(`model: ${this.slots.size} models are served (${this.names.join(', ')}); name one`);
      slot = [...this.slots.values()][0];
    } else {
      slot = this.slots.get(name);
      if (!slot) throw new UserError(`model: unknown model ${JSON.stringify(name)} (served: ${this.names.join(', ')})`);
    }
    const m = slot.current;
    slot.inUse.set(m, (slot.inUse.get(m) ?? 0) + 1);
    return m;
  }

  release(m: ServedModel): void {
    const slot = this.slots.get(m.name);
    if (!slot) return;
    const n = (slot.inUse.get(m) ?? 1) - 1;
    if (n <= 0) slot.inUse.delete(m);
    else slot.inUse.set(m, n);
    if (slot.retired.has(m)) this.disposeIfIdle(slot, m);
  }

  private disposeIfIdle(slot: Slot, m: ServedModel): void {
    if ((slot.inUse.get(m) ?? 0) > 0) return;
    slot.retired.delete(m);
    m.model.dispose();
  }

  /** Disposes every model (the server has stopped). */
  close(): void {
    for (const slot of this.slots.values()) {
      slot.current.model.dispose();
      for (const m of slot.retired) m.model.dispose();
    }
    this.slots.clear();
  }
}

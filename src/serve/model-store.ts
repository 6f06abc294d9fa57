/**
 * The served models by name. Each name holds its current generation (a loaded model and its batcher);
 * a reload loads the new file fully, then swaps the reference; the old generation is disposed once
 * the requests that hold it have finished.
 */
import { existsSync, readFileSync, unwatchFile, watchFile } from 'node:fs';
import { dirname, join } from 'node:path';
import { UserError } from '../core/errors.js';
import type { Model } from '../models/contract.js';
import { loadModelFile } from '../train/model-file.js';
import { Batcher } from './batcher.js';
import type { ModelSource } from './model-sources.js';

/** What GET /v1/models says about a model. */
export interface ModelInfo {
  readonly name: string;
  readonly type: string;
  readonly path: string;
  readonly items: number;
  readonly users: number | null;
  readonly dataset: unknown;
  readonly metrics: unknown;
  readonly config: unknown;
  readonly loadedAt: string;
}

/** One loaded version of a model file. */
export class Generation {
  private holders = 0;
  private retired = false;

  constructor(
    readonly model: Model,
    readonly batcher: Batcher,
    readonly info: ModelInfo,
  ) {}

  hold(): void {
    this.holders++;
  }

  release(): void {
    this.holders--;
    if (this.retired && this.holders === 0) this.dispose();
  }

  retire(): void {
    this.retired = true;
    if (this.holders === 0) this.dispose();
  }

  private dispose(): void {
    this.batcher.drain();
    this.model.dispose();
  }
}

function readJson(path: string): unknown {
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
}

export interface StoreOptions {
  readonly maxBatch: number;
  readonly maxWaitMs: number;
  readonly onBatch?: (model: string, size: number) => void;
  readonly onLoad?: (model: string, seconds: number) => void;
  readonly onReloadError?: (model: string, err: unknown) => void;
}

export class ModelStore {
  private readonly current = new Map<string, Generation>();
  private readonly sources: ModelSource[];
  private readonly reloading = new Map<string, Promise<void>>();

  constructor(
    sources: readonly ModelSource[],
    private readonly options: StoreOptions,
  ) {
    this.sources = [...sources];
  }

  /** Loads every model; a model that cannot be loaded is a UserError naming it. */
  async loadAll(): Promise<void> {
    for (const s of this.sources) this.current.set(s.name, await this.load(s));
  }

  private async load(source: ModelSource): Promise<Generation> {
    const start = performance.now();
    const { spec, model } = await loadModelFile(source.path, undefined, {}, `model ${source.name}`);
    const dir = dirname(source.path);
    const results = readJson(join(dir, 'results.json')) as { dataset?: unknown; results?: unknown } | null;
    const info: ModelInfo = {
      name: source.name,
      type: spec.name,
      path: source.path,
      items: model.scorer.itemNum,
      users: model.users ? model.users.toRaw.length - 1 : null,
      dataset: results?.dataset ?? null,
      metrics: results?.results ?? null,
      config: readJson(join(dir, 'config.json')),
      loadedAt: new Date().toISOString(),
    };
    const batcher = new Batcher(model.scorer, this.options.maxBatch, this.options.maxWaitMs, (n) => this.options.onBatch?.(source.name, n));
    this.options.onLoad?.(source.name, (performance.now() - start) / 1000);
    return new Generation(model, batcher, info);
  }

  get names(): string[] {
    return this.sources.map((s) => s.name);
  }

  get defaultName(): string {
    return this.sources[0].name;
  }

  infos(): ModelInfo[] {
    return this.names.map((n) => this.current.get(n)!.info);
  }

  /** The current generation of `name` (default: the first model), held until release(). */
  acquire(name: string | undefined): Generation {
    const gen = this.current.get(name ?? this.defaultName);
    if (!gen) throw new UserError(`model: unknown model "${name}" (served: ${this.names.join(', ')})`);
    gen.hold();
    return gen;
  }

  /** Loads `name`'s file again and swaps it in; a file that does not load leaves the old model serving. */
  reload(name: string): Promise<void> {
    const running = this.reloading.get(name);
    if (running) return running;
    const source = this.sources.find((s) => s.name === name)!;
    const job = (async () => {
      try {
        const next = await this.load(source);
        const old = this.current.get(name);
        this.current.set(name, next);
        old?.retire();
      } catch (err) {
        this.options.onReloadError?.(name, err);
      } finally {
        this.reloading.delete(name);
      }
    })();
    this.reloading.set(name, job);
    return job;
  }

  reloadAll(): Promise<void> {
    return Promise.all(this.names.map((n) => this.reload(n))).then(() => undefined);
  }

  /** Polls the model files; a replaced file (new mtime or size) is reloaded. */
  watch(intervalMs: number): void {
    for (const s of this.sources) {
      watchFile(s.path, { interval: intervalMs, persistent: false }, (now, before) => {
        if (now.mtimeMs !== before.mtimeMs || now.size !== before.size || now.ino !== before.ino) {
          if (now.nlink > 0 || existsSync(s.path)) void this.reload(s.name);
        }
      });
    }
  }

  close(): void {
    for (const s of this.sources) unwatchFile(s.path);
    for (const gen of this.current.values()) gen.retire();
    this.current.clear();
  }
}

/**
 * Where a training run keeps what it produces while it trains: the best model so far, one log line
 * per epoch, and the resume state after each epoch. A run directory on disk (run-dir.ts) for the
 * CLI; memory for a library call, which keeps the best model and the log and no resume state.
 */
export interface RunStore {
  /** where the best model is kept, for messages (its path) */
  readonly bestName: string;
  /** replaces the best model so far */
  saveBest(bytes: Uint8Array): Promise<void>;
  /** the best model saved (an error naming where it was expected when there is none) */
  loadBest(): Promise<Uint8Array>;
  /** one epoch's log line */
  appendLog(line: Readonly<Record<string, unknown>>): Promise<void>;
  /** the full training state after an epoch (resume checkpoint); the chunks view live buffers */
  saveLast(chunks: Uint8Array[]): Promise<void>;
  /**
   * When present, test is evaluated too at every valid evaluation (with the same protocol; never used
   * to pick the model) and both are handed here (the reference's log.txt), metrics at cut-off k
   */
  appendEvaluation?(epoch: number, valid: Readonly<Record<string, number>>, test: Readonly<Record<string, number>>, k: number): Promise<void>;
}

/** A run kept in memory: the best model's bytes and the log lines; no resume state. */
export class MemoryStore implements RunStore {
  readonly bestName = 'the best model';
  best: Uint8Array | undefined;
  readonly log: Array<Readonly<Record<string, unknown>>> = [];

  async saveBest(bytes: Uint8Array): Promise<void> {
    this.best = bytes;
  }

  async loadBest(): Promise<Uint8Array> {
    if (!this.best) throw new Error('no model was saved');
    return this.best;
  }

  async appendLog(line: Readonly<Record<string, unknown>>): Promise<void> {
    this.log.push(line);
  }

  async saveLast(): Promise<void> {}
}

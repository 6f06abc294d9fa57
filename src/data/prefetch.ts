/**
 * `--num_workers`: training batches sampled on a worker thread ahead of the compute.
 *
 * One producer: the worker (data/sampler-worker.ts) runs the very same TrainSampler code, rebuilt from
 * the main sampler's train data in flat arrays and RNG state, so the batches and their order are exactly those
 * of the main-thread sampler. The stream is inherently sequential (rejection-sampled negatives draw a
 * data-dependent number of RNG words), so a second producer would have to replay every draw of the
 * batches it skips; and one producer already samples many times faster than a step consumes
 * (bench/sampling-share.ts), so more never helps.
 *
 * Batches travel as transferred ArrayBuffers (no copy), at most `depth` ahead of the consumer: the
 * worker owns depth + 1 buffer sets, and a consumed batch's buffers go back to it when the next batch
 * is taken. Each batch comes with the sampler state just after it, so getState() is the state as of
 * the batches actually consumed (what a resume checkpoint stores), however far the worker has run ahead.
 *
 * next() takes a ready batch synchronously (receiveMessageOnPort); when none is ready it sleeps in
 * Atomics.wait on a shared counter the worker bumps after each message, turning the event loop every
 * 20 ms so a crashed worker is noticed. The worker is unref'd; close() terminates it.
 */
import { MessageChannel, receiveMessageOnPort, type Worker, type MessagePort } from 'node:worker_threads';
import { fromSource, spawnModuleWorker } from '../io/worker.js';
import type { FlatTrainData, SamplerState, TrainSampler } from './sampler.js';
import type { TrainBatch } from './types.js';

/** From the TypeScript sources (tsx) the worker is the .ts file next to this one; from dist/ the .js. */
const WORKER_URL = new URL(fromSource(import.meta.url) ? './sampler-worker.ts' : './sampler-worker.js', import.meta.url);

export interface PrefetchOptions {
  /** batches sampled ahead of the consumer (default 3) */
  depth?: number;
}

/**
 * The consumer's side: batches taken; after the first batch (which waits for the worker's start), how
 * many were not ready yet, the time waited for them and the time spent in next() in all.
 */
export interface PrefetchStats {
  batches: number;
  firstMs: number;
  waits: number;
  waitMs: number;
  takeMs: number;
}

interface BatchMessage {
  kind: 'batch';
  users: Int32Array;
  seqs: Int32Array;
  pos: Int32Array;
  neg: Int32Array;
  times?: Float64Array;
  state: SamplerState;
}
type Outgoing = BatchMessage | { kind: 'error'; message: string };

const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0];

export class PrefetchSampler {
  readonly stats: PrefetchStats = { batches: 0, firstMs: 0, waits: 0, waitMs: 0, takeMs: 0 };
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly sig: Int32Array;
  private state: SamplerState;
  private current: TrainBatch | undefined;
  private failure: Error | undefined;
  private closed = false;

  private constructor(
    worker: Worker,
    port: MessagePort,
    sig: Int32Array,
    state: SamplerState,
    private readonly negatives: number,
    private readonly sharedNegatives: boolean,
  ) {
    this.worker = worker;
    this.port = port;
    this.sig = sig;
    this.state = state;
  }

  /** Starts a worker that continues `sampler`'s stream from its current state (the sampler itself is not advanced). */
  static async start(sampler: TrainSampler, options: PrefetchOptions = {}): Promise<PrefetchSampler> {
    const depth = options.depth ?? 3;
    if (!(Number.isInteger(depth) && depth >= 1)) throw new RangeError(`PrefetchSampler: depth must be a positive integer, got ${depth}`);
    const state = sampler.getState();
    const flat: FlatTrainData = sampler.flatTrainData();
    const signal = new SharedArrayBuffer(4);
    const { port1, port2 } = new MessageChannel();
    let worker: Worker;
    try {
      worker = spawnModuleWorker(WORKER_URL, { workerData: { port: port2, signal }, transferList: [port2] });
    } catch (e) {
      port1.close();
      throw new Error(`sampler worker failed to start: ${firstLine(e)}`);
    }
    const transfer = [flat.offsets.buffer, flat.items.buffer] as ArrayBuffer[];
    if (flat.times) transfer.push(flat.times.buffer as ArrayBuffer);
    port1.postMessage({ kind: 'init', flat, state, slots: depth + 1 }, transfer);
    try {
      await new Promise<void>((resolve, reject) => {
        worker.once('message', (m) => (m === 'ready' ? resolve() : reject(new Error(`unexpected message ${String(m)}`))));
        worker.once('error', reject);
        worker.once('exit', (code) => reject(new Error(`it exited during start-up (code ${code})`)));
      });
    } catch (e) {
      port1.close();
      await worker.terminate();
      throw new Error(`sampler worker failed to start: ${firstLine(e)}`);
    }
    worker.removeAllListeners();
    const p = new PrefetchSampler(worker, port1, new Int32Array(signal), state, sampler.negatives, sampler.sharedNegatives);
    worker.on('error', (e) => {
      p.failure ??= new Error(`sampler worker: ${firstLine(e)}`);
    });
    worker.on('exit', (code) => {
      if (!p.closed) p.failure ??= new Error(`sampler worker exited unexpectedly (code ${code})`);
    });
    worker.unref();
    return p;
  }

  /**
   * The next batch of the stream. Its arrays belong to the caller until the next call of next() (or
   * close()), which hands them back to the worker (they become detached).
   */
  async next(): Promise<TrainBatch> {
    if (this.closed) throw new Error('PrefetchSampler: closed');
    const start = performance.now();
    this.recycle();
    let t0 = 0;
    for (;;) {
      const seen = Atomics.load(this.sig, 0);
      const got = receiveMessageOnPort(this.port);
      if (got) {
        const m = got.message as Outgoing;
        if (m.kind === 'error') {
          this.failure = new Error(`sampler worker: ${m.message}`);
          throw this.failure;
        }
        const now = performance.now();
        if (this.stats.batches++ === 0) this.stats.firstMs = now - start;
        else {
          if (t0 !== 0) this.stats.waitMs += now - t0;
          this.stats.takeMs += now - start;
        }
        this.state = m.state;
        const base = {
          batchSize: m.users.length,
          maxlen: m.seqs.length / m.users.length,
          users: m.users,
          seqs: m.seqs,
          pos: m.pos,
          neg: m.neg,
          negatives: this.negatives,
          sharedNegatives: this.sharedNegatives,
        };
        this.current = m.times ? { ...base, times: m.times } : base;
        return this.current;
      }
      if (this.failure) throw this.failure;
      if (t0 === 0) {
        t0 = performance.now();
        if (this.stats.batches > 0) this.stats.waits++;
      }
      if (Atomics.wait(this.sig, 0, seen, 20) === 'timed-out') await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** The sampler state as of the batches returned by next() so far (the start state before the first). */
  getState(): SamplerState {
    return { rng: this.state.rng.slice(), passRng: this.state.passRng.slice(), position: this.state.position };
  }

  /** Stops the worker (idempotent). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.current = undefined;
    try {
      this.port.postMessage({ kind: 'stop' });
    } catch {
      // the port may already be closed by the worker
    }
    this.port.close();
    await this.worker.terminate();
  }

  private recycle(): void {
    const b = this.current;
    if (!b) return;
    this.current = undefined;
    const transfer = [b.users.buffer, b.seqs.buffer, b.pos.buffer, b.neg.buffer] as ArrayBuffer[];
    if (b.times) transfer.push(b.times.buffer as ArrayBuffer);
    this.port.postMessage({ kind: 'recycle', users: b.users, seqs: b.seqs, pos: b.pos, neg: b.neg, times: b.times }, transfer);
  }
}

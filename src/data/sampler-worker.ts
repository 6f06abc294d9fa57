/**
 * Worker-thread entry of the prefetching sampler (data/prefetch.ts). It runs the very same
 * TrainSampler code as the main thread, rebuilt from the main sampler's train data in flat arrays and its
 * RNG state, so it draws exactly the batches the main thread would have drawn, in the same order.
 *
 * Protocol (on the MessagePort in workerData.port; every message posted is followed by a bump of the
 * shared counter workerData.signal, so the main thread can sleep in Atomics.wait instead of turning
 * its event loop):
 * - in: { kind: 'init', flat, state, slots } once (the flat arrays transferred); the worker answers
 *   'ready' on parentPort, then fills `slots` batch buffers ahead.
 * - out: { kind: 'batch', users, seqs, pos, neg, times?, state } with the arrays' buffers transferred;
 *   `state` is the sampler's state just after this batch (what a resume checkpoint must store when
 *   this batch is the last one consumed).
 * - in: { kind: 'recycle', users, seqs, pos, neg, times? }: a consumed batch's buffers handed back
 *   (transferred); each one lets the worker produce one more batch, which bounds the queue.
 * - out: { kind: 'error', message } when sampling throws; the worker then stops producing.
 * - in: { kind: 'stop' }.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { TrainSampler, type FlatTrainData, type SamplerState } from './sampler.js';
import type { TrainBatch } from './types.js';

interface Init {
  kind: 'init';
  flat: FlatTrainData;
  state: SamplerState;
  slots: number;
}
interface Arrays {
  users: Int32Array;
  seqs: Int32Array;
  pos: Int32Array;
  neg: Int32Array;
  times?: Float64Array;
}
type Incoming = Init | ({ kind: 'recycle' } & Arrays) | { kind: 'stop' };

const { port, signal } = workerData as { port: MessagePort; signal: SharedArrayBuffer };
const sig = new Int32Array(signal);
let sampler: TrainSampler | undefined;
let shape: { batchSize: number; maxlen: number; withTimes: boolean; negatives: number; sharedNegatives: boolean } | undefined;
const free: TrainBatch[] = [];
let stopped = false;
let scheduled = false;

function post(msg: unknown, transfer: ArrayBuffer[] = []): void {
  port.postMessage(msg, transfer);
  Atomics.add(sig, 0, 1);
  Atomics.notify(sig, 0);
}

function fail(e: unknown): void {
  stopped = true;
  const text = e instanceof Error ? e.message : String(e);
  post({ kind: 'error', message: text.split('\n')[0] });
}

function batchOf(a: Arrays): TrainBatch {
  const { batchSize, maxlen, negatives, sharedNegatives } = shape!;
  const base = { batchSize, maxlen, users: a.users, seqs: a.seqs, pos: a.pos, neg: a.neg, negatives, sharedNegatives };
  return a.times ? { ...base, times: a.times } : base;
}

function freshBatch(): TrainBatch {
  const { batchSize: B, maxlen: L, withTimes, negatives, sharedNegatives } = shape!;
  return batchOf({
    users: new Int32Array(B),
    seqs: new Int32Array(B * L),
    pos: new Int32Array(B * L),
    neg: new Int32Array(sharedNegatives ? negatives : B * L * negatives),
    times: withTimes ? new Float64Array(B * L) : undefined,
  });
}

/** Produces one batch per event-loop turn while there are free buffers (so 'recycle'/'stop' get in between). */
function pump(): void {
  if (scheduled || stopped || free.length === 0) return;
  scheduled = true;
  setImmediate(() => {
    scheduled = false;
    if (stopped || free.length === 0) return;
    let b: TrainBatch;
    let state: SamplerState;
    try {
      b = sampler!.nextBatch(free.pop());
      state = sampler!.getState();
    } catch (e) {
      fail(e);
      return;
    }
    const transfer = [b.users.buffer, b.seqs.buffer, b.pos.buffer, b.neg.buffer] as ArrayBuffer[];
    if (b.times) transfer.push(b.times.buffer as ArrayBuffer);
    post({ kind: 'batch', users: b.users, seqs: b.seqs, pos: b.pos, neg: b.neg, times: b.times, state }, transfer);
    pump();
  });
}

port.on('message', (m: Incoming) => {
  try {
    if (m.kind === 'init') {
      sampler = TrainSampler.fromFlat(m.flat, m.state);
      const { batchSize, maxlen, negatives, sharedNegatives } = m.flat;
      shape = { batchSize, maxlen, withTimes: m.flat.times !== undefined, negatives, sharedNegatives };
      for (let k = 0; k < m.slots; k++) free.push(freshBatch());
      parentPort!.postMessage('ready');
    } else if (m.kind === 'recycle') {
      free.push(batchOf(m));
    } else if (m.kind === 'stop') {
      stopped = true;
      port.close();
      return;
    }
  } catch (e) {
    fail(e);
    if (m.kind === 'init') parentPort!.postMessage('ready'); // the error is already queued on the port
    return;
  }
  pump();
});

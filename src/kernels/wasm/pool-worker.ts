/**
 * The wasm thread pool's worker thread (WORKER_SRC) and the control block through which pool.ts
 * hands it jobs: one 256-byte block per worker in the shared memory (job sequence number, op,
 * arguments as float64, done sequence number, error flag). A job is posted by writing the arguments
 * and bumping the sequence number (Atomics.store + notify); the worker spins briefly on it, then
 * sleeps in Atomics.wait. No postMessage per call.
 *
 * The worker's code is a plain-JavaScript string: no worker entry file to resolve, so the pool runs
 * the same from the TypeScript sources (tsx), the compiled dist/ and a browser bundle. Its body
 * (WORKER_BODY) is host-neutral: it gets its start-up data and a `post(message)` from a header,
 * NODE_WORKER_SRC's (worker_threads, an eval worker) or WEB_WORKER_SRC's (a Web Worker from a Blob
 * URL, started by one message).
 */
import { RANGE_KERNELS } from './parallel.js';

// control block layout (Int32 slots / Float64 slots)
export const CTL_BYTES = 256;
export const SEQ = 0; // job sequence number (caller writes)
export const DONE = 1; // finished sequence number (worker writes)
export const OP = 2;
export const ERR = 3;
export const ARGS = 4; // float64 index of the first argument (byte 32)
export const MAX_ARGS = 27;

export const OP_EXIT = 0;
export const OP_GEMM = 1;
export const OP_ATTN_FWD = 2;
export const OP_ATTN_BWD = 3;
export const OP_RANGE = 4;
export const OP_GATHER_DOT = 5;
export const OP_GATHER_DOT_BWD = 6;

/** What a pool worker starts from: the compiled kernels, the shared memory, its control block. */
export interface PoolWorkerData {
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  readonly ctl: number;
  readonly spin: number;
}

/** The worker's loop; a header puts `data` (PoolWorkerData) and `post` (a message to the pool) in scope. */
const WORKER_BODY = `
const { module, memory, ctl, spin } = data;
const ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
const rangeFns = ${JSON.stringify(RANGE_KERNELS.map(([name]) => name))}.map((name) => ex[name]);
const i32 = new Int32Array(memory.buffer, ctl, ${CTL_BYTES / 4});
const a = new Float64Array(memory.buffer, ctl, ${CTL_BYTES / 8});
post('ready');
let seen = 0;
for (;;) {
  let n = 0;
  while (Atomics.load(i32, ${SEQ}) === seen) {
    if (++n > spin) { Atomics.wait(i32, ${SEQ}, seen); n = 0; }
  }
  seen = Atomics.load(i32, ${SEQ});
  const op = i32[${OP}];
  if (op === ${OP_EXIT}) break;
  try {
    if (op === ${OP_GEMM}) {
      ex.gemmBatched(a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16],
                     a[17], a[18], a[19], a[20], a[21]);
    } else if (op === ${OP_ATTN_FWD}) {
      ex.packedAttnForward(a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16],
                           a[17], a[18], a[19], a[20]);
    } else if (op === ${OP_ATTN_BWD}) {
      ex.packedAttnBackwardPad(a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16],
                               a[17], a[18], a[19], a[20], a[21], a[22], a[23]);
    } else if (op === ${OP_RANGE}) {
      rangeFns[a[4]](a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15]);
    } else if (op === ${OP_GATHER_DOT}) {
      ex.rowGatherDot(a[4], a[5], a[6], a[7], a[8], a[9], a[10]);
    } else if (op === ${OP_GATHER_DOT_BWD}) {
      ex.rowGatherDotBackward(a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13]);
    } else {
      throw new Error('unknown op ' + op);
    }
  } catch (e) {
    i32[${ERR}] = 1;
    try { post({ error: String(e && e.stack || e) }); } catch {}
  }
  Atomics.store(i32, ${DONE}, seen);
  Atomics.notify(i32, ${DONE});
}
`;

/** Node: an eval worker (worker_threads) started with the PoolWorkerData as workerData. */
export const NODE_WORKER_SRC = `
const { workerData: data, parentPort } = require('node:worker_threads');
const post = (m) => parentPort.postMessage(m);
${WORKER_BODY}`;

/** Browser: a classic Web Worker whose first message is the PoolWorkerData. */
export const WEB_WORKER_SRC = `
self.onmessage = (event) => {
  self.onmessage = null;
  const data = event.data;
  const post = (m) => self.postMessage(m);
  try {
${WORKER_BODY}
  } catch (e) {
    post({ error: String(e && e.stack || e) });
  }
};`;

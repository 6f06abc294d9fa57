/**
 * SASRec trained on the wasm backend follows the reference backend: same initial weights, same
 * batches, dropout on (the wasm kernels draw the identical masks), packed path, 1 and 2 heads (head
 * dims 10 and 5), post- and pre-LN, l2_emb on: losses, every parameter after several Adam steps, and
 * predict agree to float32 rounding (except the attention key bias, whose gradient is only noise).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tape, setTape } from '../src/engine/tape.js';
import { referenceKernels, setKernels, type Kernels } from '../src/kernels/index.js';
import { createWasmKernelsSync } from '../src/kernels/wasm/index.js';
import type { SASRecConfig } from '../src/models/sasrec/sasrec.js';
import { trainSASRecAndPredict, type SASRecRun } from './helpers/sasrec-train.js';

const L = 12;
const ITEMS = 40;

function train(k: Kernels, cfg: SASRecConfig, steps: number): SASRecRun {
  setKernels(k);
  const prev = setTape(new Tape());
  try {
    return trainSASRecAndPredict(cfg, steps, [12, 1, 5, 0, 9, 3, 12, 7]);
  } finally {
    setTape(prev);
    setKernels(referenceKernels);
  }
}

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(a.length, b.length, what);
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < b.length; i++) {
    const err = Math.abs(a[i] - b[i]);
    if (!(err <= tol * (Math.abs(b[i]) + 0.1 * scale + 1e-6))) assert.fail(`${what}[${i}]: wasm ${a[i]}, reference ${b[i]}`);
  }
}

const wasm = createWasmKernelsSync();
for (const heads of [1, 2]) {
  for (const normFirst of [false, true]) {
    test(`SASRec on wasm kernels follows the reference kernels (dropout 0.3, ${heads} head(s), ${normFirst ? 'pre' : 'post'}-LN)`, () => {
      const cfg: SASRecConfig = {
        itemNum: ITEMS,
        maxlen: L,
        hiddenUnits: 10,
        numBlocks: 2,
        numHeads: heads,
        dropoutRate: 0.3,
        normFirst,
        l2Emb: 0.001,
      };
      const w = train(wasm, cfg, 4);
      const r = train(referenceKernels, cfg, 4);
      close(w.losses, r.losses, 1e-4, 'loss');
      for (const [name, p] of r.params) {
        const got = w.params.get(name)!;
        if (name.endsWith('in_proj_bias')) {
          // the key bias adds q·b_k to every score of a query: softmax ignores it, so its gradient is
          // rounding noise (~1e-9) that Adam normalises into ±lr steps on either backend alike
          const d = cfg.hiddenUnits;
          close(got.subarray(0, d), p.subarray(0, d), 1e-3, `${name} (q)`);
          close(got.subarray(2 * d), p.subarray(2 * d), 1e-3, `${name} (v)`);
          continue;
        }
        close(got, p, 1e-3, name);
      }
      close(w.scores, r.scores, 1e-3, 'predict');
    });
  }
}

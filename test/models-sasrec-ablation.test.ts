/**
 * SASRec's ablation switches (Table IV of the paper): each changes the network it should and nothing
 * else. Gradients by finite differences, packed = dense and wasm = reference scores, 0 blocks equal to
 * scoring the normed embedding, save → load scores the same, the options and the file say the switch.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ops from '../src/engine/ops.js';
import { Rng } from '../src/engine/rng.js';
import { encodeCheckpointBytes } from '../src/models/common/checkpoint-format.js';
import { sasrecMetadata } from '../src/models/sasrec/checkpoint.js';
import { networkConfig, sasrecOptions } from '../src/models/sasrec/options.js';
import { OUTPUT_ITEM_EMB, SASRec, type SASRecConfig } from '../src/models/sasrec/sasrec.js';
import { sasrec } from '../src/models/sasrec/spec.js';
import { referenceKernels, setKernels } from '../src/kernels/index.js';
import { createWasmKernelsSync } from '../src/kernels/wasm/index.js';
import { gradCheck } from './helpers/gradcheck.js';
import { DEFAULT_TRAINING_RECORD } from '../src/models/contract.js';

const SWITCHES = [{ noPositionEmb: true }, { unsharedItemEmb: true }, { noResidual: true }, { noResidual: true, normFirst: true }] as const;
const base: SASRecConfig = { itemNum: 12, maxlen: 5, hiddenUnits: 4, numBlocks: 2, numHeads: 2, dropoutRate: 0 };
const batch = {
  batchSize: 3,
  maxlen: 5,
  seqs: Int32Array.from([0, 0, 3, 4, 5, 1, 2, 3, 4, 5, 0, 0, 0, 0, 7]),
  pos: Int32Array.from([0, 0, 4, 5, 6, 2, 3, 4, 5, 6, 0, 0, 0, 0, 8]),
  neg: Int32Array.from([0, 0, 9, 10, 11, 12, 11, 10, 9, 8, 0, 0, 0, 0, 1]),
};
const history = { batchSize: 3, maxlen: 5, seqs: batch.seqs, users: Int32Array.from([1, 2, 3]) };

/** A model with the 1-D parameters moved off their init (see models-sasrec-gradcheck.test.ts why). */
function model(config: SASRecConfig, seed = 3): SASRec {
  const m = new SASRec(config, { seed });
  const r = new Rng(17);
  for (const [, p] of m.namedParameters()) if (p.shape.length === 1) for (let i = 0; i < p.size; i++) p.data[i] += 0.2 * r.normal();
  return m;
}

function close(a: Float32Array, b: Float32Array, tol: number, what: string): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol * (1 + Math.abs(b[i])), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

for (const sw of SWITCHES) {
  const name = JSON.stringify(sw);
  test(`ablation ${name}: loss gradient (dropout 0.3), packed = dense, wasm = reference`, () => {
    const m = model({ ...base, ...sw, dropoutRate: 0.3 });
    const named = m.namedParameters();
    const state = m.dropoutRng.getState();
    const res = gradCheck(
      () => m.loss(batch),
      named.map(([, p]) => p),
      {
        eps: 1e-3,
        rtol: 2e-2,
        atol: 2e-3,
        maxPerInput: 8,
        beforeEach: () => m.dropoutRng.setState(state),
        skip: (i, e) => /^(item_emb|pos_emb|output_item_emb)\.weight$/.test(named[i][0]) && e < 4,
      },
    );
    assert.ok(res.ok, `ratio ${res.worstRatio}: ${named[Number(res.worst.split(' ')[1])][0]} ${res.worst}`);

    const d = model({ ...base, ...sw });
    const packed = d.scoreAll(history);
    d.packed = false;
    const dense = d.scoreAll(history);
    close(packed, dense, 1e-5, 'packed vs dense');
    const lossDense = d.loss(batch).item();
    d.packed = true;
    assert.ok(Math.abs(d.loss(batch).item() - lossDense) < 1e-5);
    setKernels(createWasmKernelsSync());
    try {
      close(d.scoreAll(history), packed, 1e-4, 'wasm vs reference');
    } finally {
      setKernels(referenceKernels);
    }
  });
}

test('each switch changes the scores; off, the network is the default one (same tensors, same scores)', () => {
  const def = model(base);
  const off = model({ ...base, noPositionEmb: false, unsharedItemEmb: false, noResidual: false });
  assert.deepEqual(
    off.namedParameters().map(([n]) => n),
    def.namedParameters().map(([n]) => n),
  );
  assert.deepEqual(off.scoreAll(history), def.scoreAll(history));
  for (const sw of SWITCHES) {
    const s = model({ ...base, ...sw }).scoreAll(history);
    assert.notDeepEqual(s, def.scoreAll(history), JSON.stringify(sw));
  }
  const unshared = model({ ...base, unsharedItemEmb: true });
  assert.deepEqual(unshared.namedParameters().at(-1)?.[0], OUTPUT_ITEM_EMB);
  assert.deepEqual(unshared.outputEmb.weight.shape, [13, 4]);
});

test('unshared_item_emb: the logits score against output_item_emb, not item_emb', () => {
  const m = model({ ...base, unsharedItemEmb: true });
  const before = m.scoreAll(history);
  m.outputEmb.weight.data.fill(0);
  assert.ok(m.scoreAll(history).every((v) => v === 0));
  assert.ok(before.some((v) => v !== 0));
});

test('0 blocks: the scores are LN_last(item_emb·√d + pos_emb) · item_emb at the last position', () => {
  for (const noPositionEmb of [false, true]) {
    const m = model({ ...base, numBlocks: 0, noPositionEmb });
    const scores = m.scoreAll(history);
    const L = 5;
    const d = 4;
    const items = Int32Array.from([5, 5, 7]);
    const x = ops.scale(m.itemEmb.forward(items), Math.sqrt(d));
    const pos = Int32Array.from([L, L, L]); // the last position of each (left-padded) history
    const e = noPositionEmb ? x : ops.add(x, m.posEmb.forward(pos));
    const f = m.lastLayernorm.forward(e);
    const n = 13;
    const expected = new Float32Array(3 * n);
    for (let b = 0; b < 3; b++)
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let k = 0; k < d; k++) s += f.data[b * d + k] * m.itemEmb.weight.data[i * d + k];
        expected[b * n + i] = s;
      }
    close(scores, expected, 1e-5, `0 blocks, noPositionEmb ${noPositionEmb}`);
  }
});

test('the switches are options, saved in the file and read back: a saved ablated model scores the same', () => {
  const options = sasrecOptions.parse({
    no_position_emb: 'true',
    unshared_item_emb: 'true',
    no_residual: 'true',
    num_blocks: '1',
    hidden_units: '4',
  });
  const cfg = networkConfig(options, 12);
  assert.equal(cfg.noPositionEmb && cfg.unsharedItemEmb && cfg.noResidual, true);
  const m = model({ ...cfg, maxlen: 5 });
  const meta = sasrecMetadata({ ...cfg, maxlen: 5 }, options, { ...DEFAULT_TRAINING_RECORD, batchSize: 8, lr: 0.001, numEpochs: 1 });
  assert.equal(meta.no_position_emb, true);
  assert.equal(meta.unshared_item_emb, true);
  assert.equal(meta.no_residual, true);
  const loaded = sasrec.load(encodeCheckpointBytes({ tensors: m.stateDict(), config: meta }));
  assert.deepEqual(loaded.scorer.scoreAll(history), m.scoreAll(history));
  loaded.dispose();
  // a default model's file says nothing of them (its bytes are unchanged)
  const plain = sasrecMetadata(networkConfig(sasrecOptions.parse({}), 12), sasrecOptions.parse({}), {
    ...DEFAULT_TRAINING_RECORD,
    batchSize: 8,
    lr: 0.001,
    numEpochs: 1,
  });
  assert.equal(['no_position_emb', 'unshared_item_emb', 'no_residual'].filter((k) => k in plain).length, 0);
  // a file whose config and tensors disagree is refused in one line
  const withoutOut = new Map(m.stateDict());
  withoutOut.delete(OUTPUT_ITEM_EMB);
  assert.throws(() => sasrec.load(encodeCheckpointBytes({ tensors: withoutOut, config: meta })), { message: /output_item_emb\.weight is missing/ });
});

test('no_residual with mHC is refused naming the option', () => {
  assert.throws(() => sasrecOptions.parse({ no_residual: 'true', mhc: 'true' }), { message: /no_residual/ });
});

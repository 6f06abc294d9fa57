/**
 * The training losses against PyTorch: test/fixtures/losses/ holds the reference SASRec's weights,
 * one batch, and each loss's value and every parameter's gradient computed by autograd
 * (scripts/fixtures/losses.py). seqrec's SASRec with the same loss must give them to 1e-4, on the
 * dense and the packed (padding-skip) paths.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TrainBatch } from '../src/data/types.js';
import { parseSafetensors } from '../src/engine/safetensors.js';
import { getTape } from '../src/engine/tape.js';
import { lossFor, lossOptions } from '../src/losses/index.js';
import { SASRec } from '../src/models/sasrec/sasrec.js';
import { assertClose } from './helpers/fixtures.js';

const dir = resolve(import.meta.dirname, 'fixtures/losses');
const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, number>;
const inputs = JSON.parse(readFileSync(join(dir, 'inputs.json'), 'utf8')) as Record<string, unknown>;
const weights = parseSafetensors(new Uint8Array(readFileSync(join(dir, 'weights.safetensors')))).tensors;
const expected = parseSafetensors(new Uint8Array(readFileSync(join(dir, 'expected.safetensors')))).tensors;
const flat = (x: unknown) => Int32Array.from((x as number[]).flat(2));
const K = config.negatives;
const B = (inputs.log_seqs as number[][]).length;
const L = config.maxlen;

function batch(shared: boolean): TrainBatch {
  return {
    batchSize: B,
    maxlen: L,
    users: new Int32Array(B),
    seqs: flat(inputs.log_seqs),
    pos: flat(inputs.pos_seqs),
    neg: shared ? Int32Array.from(inputs.shared_negatives as number[]) : flat(inputs.neg_seqs),
    negatives: K,
    sharedNegatives: shared,
  };
}

const CASES: Array<[name: string, options: Record<string, unknown>]> = [
  ['bce_k', { loss: 'bce_k', trainNegatives: K }],
  ['gbce', { loss: 'gbce', trainNegatives: K, gbceT: config.gbce_t }],
  ['sampled_softmax', { loss: 'sampled_softmax', trainNegatives: K }],
  ['sampled_softmax_shared', { loss: 'sampled_softmax', trainNegatives: K, sharedNegatives: true }],
  ['bpr', { loss: 'bpr', trainNegatives: K }],
  ['ce', { loss: 'ce' }],
];

for (const packed of [false, true]) {
  test(`every loss matches PyTorch: value and all gradients (${packed ? 'packed' : 'dense'} path)`, () => {
    for (const [name, options] of CASES) {
      const loss = lossFor(lossOptions.parse(options), config.item_num);
      const model = new SASRec(
        {
          itemNum: config.item_num,
          maxlen: L,
          hiddenUnits: config.hidden_units,
          numBlocks: config.num_blocks,
          numHeads: config.num_heads,
          dropoutRate: 0,
        },
        { seed: 1, packed, loss },
      );
      model.loadStateDict(weights);
      model.train();
      const tape = getTape();
      tape.reset();
      const value = model.loss(batch(options.sharedNegatives === true));
      assertClose(`${name} loss`, [value.item()], expected.get(`loss.${name}`)!.data);
      tape.backward(value);
      for (const [pname, p] of model.namedParameters()) {
        const want = expected.get(`grad.${name}.${pname}`);
        assert.ok(want, `fixture has grad.${name}.${pname}`);
        assertClose(`${name} grad ${pname}`, p.grad ?? new Float32Array(p.size), want.data, 1e-4, 1e-6);
      }
      tape.reset();
      model.dispose();
    }
  });
}

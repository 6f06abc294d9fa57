/**
 * mHC (nn/mhc.ts) in SASRec: Sinkhorn gives doubly stochastic matrices; at gate 0 with identity
 * mappings the mHC model IS plain pre-LN SASRec with the same (shared-name) weights; packed == dense
 * with every mHC parameter active; parameter names and config handling.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sinkhorn } from '../src/engine/mhc-ops.js';
import { Rng } from '../src/engine/rng.js';
import { getTape, noGrad } from '../src/engine/tape.js';
import { Tensor } from '../src/engine/tensor.js';
import { SASRec, type SASRecConfig } from '../src/models/sasrec/sasrec.js';
import { HyperConnection, RES_OFF_DIAGONAL } from '../src/nn/mhc.js';
import { assertClose } from './helpers/fixtures.js';
import { leftPaddedBatch } from './helpers/batches.js';

const L = 6;
const ITEMS = 25;

const makeBatch = (lengths: number[], rng: Rng) => leftPaddedBatch(lengths, rng, L, ITEMS);

function sums(h: Float32Array, rows: number, n: number) {
  const out: { row: number[]; col: number[] } = { row: [], col: [] };
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < n; i++) {
      let rs = 0;
      let cs = 0;
      for (let j = 0; j < n; j++) {
        rs += h[r * n * n + i * n + j];
        cs += h[r * n * n + j * n + i];
      }
      out.row.push(rs);
      out.col.push(cs);
    }
  }
  return out;
}

// Sinkhorn-Knopp converges linearly at a rate set by the matrix, and the columns are exact after every
// iteration. 20 iterations reach 1e-5 on the rows for logits of spread 0.5 (standard deviation); wider
// logits converge more slowly (spread 2: up to ~2e-3, checked at 1e-2). Near a permutation (our
// near-identity initialisation: off-diagonals e⁻⁸ perturbed) convergence is slow too, but the
// row-sum error stays below the tiny off-diagonal mass (n−1)·e⁻⁸ (checked at that bound).
test('Sinkhorn-Knopp (20 iterations): rows and columns sum to 1 within 1e-5, entries positive', () => {
  const rng = new Rng(5);
  for (const n of [2, 4, 6]) {
    for (const spread of [0.5, 2, 'init'] as const) {
      const rows = 20;
      const logits = new Float32Array(rows * n * n).map((_, k) =>
        spread === 'init' ? (Math.floor(k / n) % n === k % n ? 0 : RES_OFF_DIAGONAL) + 0.05 * rng.normal() : spread * rng.normal(),
      );
      const h = noGrad(() => sinkhorn(new Tensor(logits, [rows, n, n]), 20)).data.slice();
      getTape().reset();
      const s = sums(h, rows, n);
      const tol = spread === 2 ? 1e-2 : spread === 'init' ? (n - 1) * Math.exp(RES_OFF_DIAGONAL) : 1e-5;
      for (const v of [...s.row, ...s.col]) assert.ok(Math.abs(v - 1) <= tol, `n ${n}, spread ${spread}: sum ${v}`);
      for (const v of s.col) assert.ok(Math.abs(v - 1) <= 1e-6);
      for (const v of h) assert.ok(v > 0);
    }
  }
});

test('mHC initial static biases: at gate 0 H_pre = 1/n, H_post = 1, H_res ≈ identity', () => {
  const n = 4;
  const hc = new HyperConnection(n, 3, { expansionRate: n, sinkhornIter: 20, initGate: 0 });
  const x = new Tensor(
    Float32Array.from({ length: 5 * n * 3 }, (_, i) => Math.sin(i)),
    [5, n, 3],
  );
  const { hPre, hPost, hRes } = noGrad(() => hc.mappings(x));
  assertClose('H_pre', hPre.data.subarray(0, hPre.size), new Array(5 * n).fill(1 / n), 1e-6);
  assertClose('H_post', hPost.data.subarray(0, hPost.size), new Array(5 * n).fill(1), 1e-6);
  const eye = Array.from({ length: 5 * n * n }, (_, k) => ((k % (n * n)) % (n + 1) === 0 ? 1 : 0));
  assertClose('H_res', hRes.data.subarray(0, hRes.size), eye, 0, (n - 1) * Math.exp(RES_OFF_DIAGONAL) * 1.01);
  getTape().reset();
});

/** Sets an mHC model's mappings to the exact identity residual: gates 0, H_pre = 1/n, H_post = 1, H_res = I. */
function identityMappings(model: SASRec): void {
  for (const block of model.mhcLayers!.items) {
    for (const hc of [block.attn, block.ffn]) {
      const n = hc.n;
      hc.alphaPre.data[0] = hc.alphaPost.data[0] = hc.alphaRes.data[0] = 0;
      hc.bPre.data.fill(-Math.log(n - 1));
      hc.bPost.data.fill(0);
      // exp(−1e4) underflows to exactly 0: H_res = I exactly
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) hc.bRes.data[i * n + j] = i === j ? 0 : -1e4;
    }
  }
}

for (const n of [2, 3]) {
  for (const packed of [false, true]) {
    test(`gate 0 + identity mappings: SASRec-mHC (n = ${n}) == plain pre-LN SASRec with the same weights (${packed ? 'packed' : 'dense'})`, () => {
      const base: SASRecConfig = { itemNum: ITEMS, maxlen: L, hiddenUnits: 8, numBlocks: 2, numHeads: 2, dropoutRate: 0, l2Emb: 0.01 };
      const mhcModel = new SASRec({ ...base, mhc: { expansionRate: n, sinkhornIter: 20, initGate: 0.01 } }, { seed: 11, packed });
      // the mHC model's other weights perturbed (1-D ones too) so nothing is trivially symmetric
      const rng = new Rng(3);
      for (const [name, p] of mhcModel.namedParameters()) {
        if (name.startsWith('mhc_layers.')) continue;
        if (p.shape.length === 1) for (let i = 0; i < p.size; i++) p.data[i] += 0.2 * rng.normal();
      }
      // random φ: they must not matter at gate 0
      for (const [name, p] of mhcModel.namedParameters()) if (name.includes('.phi_')) for (let i = 0; i < p.size; i++) p.data[i] = rng.normal();
      identityMappings(mhcModel);
      // "matching weights": the plain model gets every tensor of the mHC model whose name it has
      // (all but mhc_layers.*), i.e. identical embeddings, attention, FFN and LayerNorms
      const plain = new SASRec({ ...base, normFirst: true }, { seed: 99, packed });
      const sd = mhcModel.stateDict();
      plain.loadStateDict(new Map([...sd].filter(([k]) => !k.startsWith('mhc_layers.'))));
      assert.ok([...sd.keys()].some((k) => k.startsWith('mhc_layers.')));

      const batch = makeBatch([6, 1, 3, 0, 5], new Rng(8));
      const tape = getTape();
      tape.reset();
      const lm = mhcModel.loss(batch).item();
      tape.reset();
      const lp = plain.loss(batch).item();
      tape.reset();
      assertClose('loss', [lm], [lp], 1e-5, 1e-5);
      const fm = mhcModel.forward(batch);
      const fmPos = fm.posLogits.data.slice(0, fm.posLogits.size);
      tape.reset();
      const fp = plain.forward(batch);
      assertClose('pos logits', fmPos, fp.posLogits.data.subarray(0, fp.posLogits.size), 1e-5, 1e-5);
      tape.reset();
      const hb = { batchSize: 5, maxlen: L, users: new Int32Array(5), seqs: batch.seqs };
      assertClose('scoreAll', mhcModel.scoreAll(hb), plain.scoreAll(hb), 1e-5, 1e-5);
    });
  }
}

test('SASRec-mHC: packed == dense (loss and every gradient) with all mHC parameters active', () => {
  const cfg: SASRecConfig = {
    itemNum: ITEMS,
    maxlen: L,
    hiddenUnits: 8,
    numBlocks: 2,
    numHeads: 2,
    dropoutRate: 0,
    mhc: { expansionRate: 3, sinkhornIter: 10, initGate: 0.5 },
  };
  const dense = new SASRec(cfg, { seed: 4, packed: false });
  const rng = new Rng(6);
  for (const [name, p] of dense.namedParameters()) {
    if (p.shape.length === 1 || name.includes('.b_')) for (let i = 0; i < p.size; i++) p.data[i] += 0.2 * rng.normal();
  }
  const packed = new SASRec(cfg, { seed: 5, packed: true });
  packed.loadStateDict(dense.stateDict());
  const batch = makeBatch([6, 1, 4, 0, 3], new Rng(2));
  const tape = getTape();
  const grads = (m: SASRec) => {
    m.zeroGrad();
    tape.reset();
    const loss = m.loss(batch);
    const v = loss.item();
    tape.backward(loss);
    tape.reset();
    return { v, g: new Map(m.namedParameters().map(([n, p]) => [n, p.grad!.slice()])) };
  };
  const gd = grads(dense);
  const gp = grads(packed);
  assertClose('loss', [gp.v], [gd.v], 1e-5);
  for (const [n, g] of gd.g) {
    let max = 0;
    for (const x of g) max = Math.max(max, Math.abs(x));
    if (n.startsWith('mhc_layers.')) assert.ok(max > 0, `${n}: zero gradient`);
    assertClose(`grad ${n}`, gp.g.get(n)!, g, 1e-3, 1e-6 + 1e-4 * max);
  }
});

test('SASRec-mHC: parameter names, shapes, pre-LN implied, post-LN refused', () => {
  const m = new SASRec({
    itemNum: 10,
    maxlen: 4,
    hiddenUnits: 6,
    numBlocks: 2,
    numHeads: 1,
    dropoutRate: 0,
    mhc: { expansionRate: 4, sinkhornIter: 20, initGate: 0.01 },
  });
  assert.equal(m.config.normFirst, true);
  const shapes = new Map(m.namedParameters().map(([k, p]) => [k, [...p.shape]]));
  assert.deepEqual(shapes.get('mhc_layers.0.attn.phi_pre'), [4, 24]);
  assert.deepEqual(shapes.get('mhc_layers.0.attn.phi_post'), [4, 24]);
  assert.deepEqual(shapes.get('mhc_layers.1.ffn.phi_res'), [16, 24]);
  assert.deepEqual(shapes.get('mhc_layers.1.ffn.alpha_res'), [1]);
  assert.deepEqual(shapes.get('mhc_layers.0.attn.b_res'), [4, 4]);
  const mhcNames = [...shapes.keys()].filter((k) => k.startsWith('mhc_layers.'));
  assert.equal(mhcNames.length, 2 * 2 * 9);
  // the plain model's names are a prefix-free subset: no collision with the reference's keys
  const plain = new SASRec({ itemNum: 10, maxlen: 4, hiddenUnits: 6, numBlocks: 2, numHeads: 1, dropoutRate: 0, normFirst: true });
  assert.deepEqual(
    plain.namedParameters().map(([k]) => k),
    [...shapes.keys()].filter((k) => !k.startsWith('mhc_layers.')),
  );
  const hc = m.mhcLayers!.at(0).attn;
  assert.equal(hc.alphaPre.data[0], Math.fround(0.01));
  assert.ok(Math.abs(hc.bPre.data[0] + Math.log(3)) < 1e-6);
  assert.throws(
    () =>
      new SASRec({
        itemNum: 10,
        maxlen: 4,
        hiddenUnits: 6,
        numBlocks: 1,
        numHeads: 1,
        dropoutRate: 0,
        normFirst: false,
        mhc: { expansionRate: 2, sinkhornIter: 5, initGate: 0 },
      }),
    /pre-LN/,
  );
  assert.throws(
    () =>
      new SASRec({
        itemNum: 10,
        maxlen: 4,
        hiddenUnits: 6,
        numBlocks: 1,
        numHeads: 1,
        dropoutRate: 0,
        mhc: { expansionRate: 0, sinkhornIter: 5, initGate: 0 },
      }),
    /expansion/,
  );
});

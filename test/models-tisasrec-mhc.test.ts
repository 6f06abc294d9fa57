/**
 * TiSASRec-mHC: at gate 0 with identity mappings it equals the pre-LN TiSASRec variant with the same
 * (shared-name) weights; packed == dense with every mHC parameter active; finite differences of the
 * loss with dropout; CLI: train 2 epochs with --mhc_expansion_rate 2, recommend.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Rng } from '../src/engine/rng.js';
import { parseSafetensors } from '../src/engine/safetensors.js';
import { getTape } from '../src/engine/tape.js';
import { TiSASRec, type TiSASRecConfig } from '../src/models/tisasrec/tisasrec.js';
import { assertClose } from './helpers/fixtures.js';
import { gradCheck } from './helpers/gradcheck.js';
import { runCli } from './helpers/cli.js';

const L = 6;
const ITEMS = 20;

/** Left-padded rows of the given lengths with increasing scaled times (0 at padding). */
function makeBatch(lengths: number[], rng: Rng) {
  const B = lengths.length;
  const seqs = new Int32Array(B * L);
  const pos = new Int32Array(B * L);
  const neg = new Int32Array(B * L);
  const times = new Float64Array(B * L);
  lengths.forEach((n, b) => {
    let t = 1;
    for (let c = L - n; c < L; c++) {
      seqs[b * L + c] = 1 + rng.nextInt(ITEMS);
      pos[b * L + c] = 1 + rng.nextInt(ITEMS);
      neg[b * L + c] = 1 + rng.nextInt(ITEMS);
      times[b * L + c] = t;
      t += 1 + rng.nextInt(4);
    }
  });
  return { batchSize: B, maxlen: L, seqs, pos, neg, times };
}

function identityMappings(model: TiSASRec): void {
  for (const block of model.mhcLayers!.items) {
    for (const hc of [block.attn, block.ffn]) {
      const n = hc.n;
      hc.alphaPre.data[0] = hc.alphaPost.data[0] = hc.alphaRes.data[0] = 0;
      hc.bPre.data.fill(-Math.log(n - 1));
      hc.bPost.data.fill(0);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) hc.bRes.data[i * n + j] = i === j ? 0 : -1e4;
    }
  }
}

const base: TiSASRecConfig = { itemNum: ITEMS, maxlen: L, hiddenUnits: 8, numBlocks: 2, numHeads: 2, dropoutRate: 0, timeSpan: 5, l2Emb: 0.001 };

for (const n of [2, 3]) {
  for (const packed of [false, true]) {
    test(`gate 0 + identity mappings: TiSASRec-mHC (n = ${n}) == pre-LN TiSASRec with the same weights (${packed ? 'packed' : 'dense'})`, () => {
      const m = new TiSASRec({ ...base, mhc: { expansionRate: n, sinkhornIter: 20, initGate: 0.01 } }, { seed: 5, packed });
      const rng = new Rng(4);
      for (const [name, p] of m.namedParameters()) {
        if (name.startsWith('mhc_layers.')) {
          if (name.includes('.phi_')) for (let i = 0; i < p.size; i++) p.data[i] = rng.normal();
        } else if (p.shape.length === 1) for (let i = 0; i < p.size; i++) p.data[i] += 0.2 * rng.normal();
      }
      identityMappings(m);
      const plain = new TiSASRec({ ...base, normFirst: true }, { seed: 77, packed });
      plain.loadStateDict(new Map([...m.stateDict()].filter(([k]) => !k.startsWith('mhc_layers.'))));
      assert.equal(m.config.normFirst, true);
      const batch = makeBatch([6, 1, 3, 5], new Rng(8));
      const tape = getTape();
      tape.reset();
      const lm = m.loss(batch).item();
      tape.reset();
      const lp = plain.loss(batch).item();
      tape.reset();
      assertClose('loss', [lm], [lp], 1e-5, 1e-5);
      const cands = Int32Array.from({ length: 4 * 3 }, (_, i) => 1 + ((i * 5) % ITEMS));
      m.eval();
      plain.eval();
      assertClose('predict', m.predict(batch, cands, 3), plain.predict(batch, cands, 3), 1e-5, 1e-5);
    });
  }
}

test('TiSASRec-mHC: packed == dense (loss, every gradient) with all mHC parameters active', () => {
  const cfg: TiSASRecConfig = { ...base, mhc: { expansionRate: 3, sinkhornIter: 10, initGate: 0.5 } };
  const dense = new TiSASRec(cfg, { seed: 2, packed: false });
  const rng = new Rng(6);
  for (const [name, p] of dense.namedParameters()) {
    if (p.shape.length === 1 || name.includes('.b_')) for (let i = 0; i < p.size; i++) p.data[i] += 0.2 * rng.normal();
  }
  const packed = new TiSASRec(cfg, { seed: 3, packed: true });
  packed.loadStateDict(dense.stateDict());
  const batch = makeBatch([6, 2, 4, 1, 3], new Rng(2));
  const tape = getTape();
  const grads = (m: TiSASRec) => {
    m.zeroGrad();
    tape.reset();
    const loss = m.loss(batch);
    const v = loss.item();
    tape.backward(loss);
    tape.reset();
    return { v, g: new Map(m.namedParameters().map(([k, p]) => [k, p.grad ? p.grad.slice() : new Float32Array(p.size)])) };
  };
  const gd = grads(dense);
  const gp = grads(packed);
  assertClose('loss', [gp.v], [gd.v], 1e-5);
  for (const [k, g] of gd.g) {
    let max = 0;
    for (const x of g) max = Math.max(max, Math.abs(x));
    if (k.startsWith('mhc_layers.')) assert.ok(max > 0, `${k}: zero gradient`);
    assertClose(`grad ${k}`, gp.g.get(k)!, g, 1e-3, 1e-6 + 1e-4 * max);
  }
});

test('tiny TiSASRec-mHC loss gradient, dropout 0.3 (every mHC element)', () => {
  const model = new TiSASRec(
    {
      itemNum: 12,
      maxlen: 5,
      hiddenUnits: 4,
      numBlocks: 2,
      numHeads: 2,
      dropoutRate: 0.3,
      timeSpan: 4,
      l2Emb: 0.01,
      mhc: { expansionRate: 2, sinkhornIter: 6, initGate: 0.5 },
    },
    { seed: 3, packed: false },
  );
  const batch = {
    batchSize: 2,
    seqs: Int32Array.from([0, 0, 3, 4, 5, 1, 2, 3, 4, 5]),
    pos: Int32Array.from([0, 0, 4, 5, 6, 2, 3, 4, 5, 6]),
    neg: Int32Array.from([0, 0, 9, 10, 11, 12, 11, 10, 9, 8]),
    times: Float64Array.from([0, 0, 1, 2, 5, 1, 3, 4, 6, 9]),
  };
  const named = model.namedParameters();
  const init = new Rng(17);
  for (const [name, p] of named) if (p.shape.length === 1 || name.includes('.b_')) for (let i = 0; i < p.size; i++) p.data[i] += 0.2 * init.normal();
  const state = model.dropoutRng.getState();
  const res = gradCheck(
    () => model.loss(batch),
    named.map(([, p]) => p),
    {
      eps: 3e-3,
      rtol: 2e-2,
      atol: 2e-3,
      beforeEach: () => model.dropoutRng.setState(state),
      skip: (i, e) => !named[i][0].startsWith('mhc_layers.') && e % Math.max(1, Math.floor(named[i][1].size / 8)) !== 0,
    },
  );
  assert.ok(res.ok, `ratio ${res.worstRatio}: ${named[Number(res.worst.split(' ')[1])][0]} ${res.worst}`);
});

test('CLI: train --model tisasrec --mhc_expansion_rate 2 (2 epochs), recommend', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'seqrec-tisasrec-mhc-'));
  try {
    const dataset = join(dir, 'ring-ts.txt');
    const lines: string[] = [];
    for (let u = 1; u <= 40; u++) {
      let time = 1_600_000_000 + 3600 * u;
      for (let t = 0; t < 6 + (u % 5); t++) {
        lines.push(`u${u} ${1000 + 10 * ((u * 7 + t) % 20)} ${time}`);
        time += 60 * (1 + ((u + t) % 4));
      }
    }
    writeFileSync(dataset, `${lines.join('\n')}\n`);
    const runDir = join(dir, 'run');
    const r = await runCli([
      'train',
      '--model',
      'tisasrec',
      '--dataset',
      dataset,
      '--train_dir',
      runDir,
      '--num_epochs',
      '2',
      '--eval_every',
      '1',
      '--maxlen',
      '8',
      '--hidden_units',
      '8',
      '--num_blocks',
      '1',
      '--num_heads',
      '2',
      '--batch_size',
      '16',
      '--time_span',
      '16',
      '--mhc_expansion_rate',
      '2',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /mHC 2 streams/);
    const ckpt = join(runDir, 'tisasrec.safetensors');
    const { tensors, metadata } = parseSafetensors(readFileSync(ckpt));
    assert.deepEqual(tensors.get('mhc_layers.0.ffn.phi_res')?.shape, [4, 16]);
    assert.equal(JSON.parse(metadata.config).mhc_expansion_rate, 2);
    const rec = await runCli([
      'recommend',
      '--state_dict_path',
      ckpt,
      '--history',
      '1000@1600000000 1010@1600000060 1020@1600000180',
      '--k',
      '3',
      '--json',
    ]);
    assert.equal(rec.code, 0, rec.stderr);
    assert.equal(JSON.parse(rec.stdout).items.length, 3);
    const plainPreLN = await runCli([
      'train',
      '--model',
      'tisasrec',
      '--dataset',
      dataset,
      '--train_dir',
      join(dir, 'x'),
      '--num_epochs',
      '1',
      '--norm_first',
    ]);
    assert.equal(plainPreLN.code, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

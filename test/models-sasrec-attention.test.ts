/** Attention weights out of MultiheadAttention and SASRec (explain's input), and the contract's refusal. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../src/engine/rng.js';
import { withInferenceTape } from '../src/engine/tape.js';
import { Tensor } from '../src/engine/tensor.js';
import { UserError } from '../src/core/errors.js';
import { attentionSourceOf, type Model } from '../src/models/contract.js';
import { SASRec } from '../src/models/sasrec/sasrec.js';
import { MultiheadAttention } from '../src/nn/attention.js';

const close = (a: number, b: number, tol = 1e-5) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

function randomTensor(rows: number, d: number, rng: Rng): Tensor {
  const x = new Float32Array(rows * d);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  return new Tensor(x, [rows, d]);
}

test('MultiheadAttention weights are causal softmax rows that reproduce the layer output', () => {
  const rng = new Rng(3);
  const batch = 2;
  const len = 5;
  const d = 8;
  const heads = 2;
  const attn = new MultiheadAttention(d, heads, 0.5, rng, new Rng(4));
  attn.eval();
  const x = randomTensor(batch * len, d, rng);
  const w = attn.attentionWeights(x, batch, len);
  assert.equal(w.length, batch * heads * len * len);
  const y = withInferenceTape(() => attn.forward(x, batch, len).data.slice());

  // v = x·W_vᵀ + b_v; head output = Σ_s w[t, s] v_s; y = out_proj(heads)
  const W = attn.inProjWeight.data;
  const bias = attn.inProjBias.data;
  const v = new Float64Array(batch * len * d);
  for (let r = 0; r < batch * len; r++) {
    for (let o = 0; o < d; o++) {
      let s = bias[2 * d + o];
      for (let i = 0; i < d; i++) s += W[(2 * d + o) * d + i] * x.data[r * d + i];
      v[r * d + o] = s;
    }
  }
  const hd = d / heads;
  const mixed = new Float32Array(batch * len * d);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      for (let t = 0; t < len; t++) {
        const row = ((b * heads + h) * len + t) * len;
        let sum = 0;
        for (let s = 0; s < len; s++) {
          if (s > t) assert.equal(w[row + s], 0, 'no weight above the diagonal');
          sum += w[row + s];
        }
        assert.ok(close(sum, 1), `row sums to ${sum}`);
        for (let i = 0; i < hd; i++) {
          let acc = 0;
          for (let s = 0; s <= t; s++) acc += w[row + s] * v[(b * len + s) * d + h * hd + i];
          mixed[(b * len + t) * d + h * hd + i] = acc;
        }
      }
    }
  }
  const expected = withInferenceTape(() => attn.outProj.forward(new Tensor(mixed, [batch * len, d])).data.slice());
  for (let i = 0; i < y.length; i++) assert.ok(close(y[i], expected[i], 1e-4), `output ${i}: ${y[i]} vs ${expected[i]}`);
});

test('SASRec.attentionWeights: per layer and head, causal, rows (with the padding share) sum to 1, layer 1 = softmax(QKᵀ/√hd)', () => {
  const maxlen = 6;
  const d = 8;
  const heads = 2;
  const model = new SASRec({ itemNum: 20, maxlen, hiddenUnits: d, numBlocks: 2, numHeads: heads, dropoutRate: 0.3 }, { rng: new Rng(7) });
  const histories = [Int32Array.of(3, 5, 7), Int32Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9), Int32Array.of(11)];
  const maps = model.attentionWeights(histories);
  assert.equal(model.numLayers, 2);
  assert.equal(model.numHeads, heads);
  assert.deepEqual(
    maps.map((m) => m.length),
    [3, 6, 1],
  );
  for (const m of maps) {
    const n = m.length;
    assert.equal(m.items.length, 2);
    for (let l = 0; l < 2; l++) {
      assert.equal(m.items[l].length, heads);
      for (let h = 0; h < heads; h++) {
        for (let i = 0; i < n; i++) {
          let sum = m.padding[l][h][i];
          for (let j = 0; j < n; j++) {
            if (j > i) assert.equal(m.items[l][h][i * n + j], 0);
            sum += m.items[l][h][i * n + j];
          }
          assert.ok(close(sum, 1), `row sum ${sum}`);
          if (n === maxlen) assert.equal(m.padding[l][h][i], 0, 'a full window has no padding keys');
        }
      }
    }
  }
  // the padded history's queries do give the (unmasked, as in the reference) padding keys weight
  assert.ok(maps[0].padding[0][0][0] > 0);

  // layer 1 (post-LN: its input is the embedding) recomputed by hand for the long history's last 6 items
  const seq = histories[1].subarray(3);
  const emb = model.itemEmb.weight.data;
  const pos = model.posEmb.weight.data;
  const x = Array.from(seq, (item, t) => Array.from({ length: d }, (_, i) => emb[item * d + i] * Math.sqrt(d) + pos[(t + 1) * d + i]));
  const params = new Map(model.namedParameters());
  const W = params.get('attention_layers.0.in_proj_weight')!.data;
  const bias = params.get('attention_layers.0.in_proj_bias')!.data;
  const proj = (r: number, o: number) => x[r].reduce((s, xi, i) => s + W[o * d + i] * xi, bias[o]);
  const hd = d / heads;
  for (let h = 0; h < heads; h++) {
    for (let t = 0; t < maxlen; t++) {
      const scores = Array.from({ length: t + 1 }, (_, s) => {
        let dot = 0;
        for (let i = 0; i < hd; i++) dot += proj(t, h * hd + i) * proj(s, d + h * hd + i);
        return Math.exp(dot / Math.sqrt(hd));
      });
      const z = scores.reduce((a, b) => a + b, 0);
      for (let s = 0; s <= t; s++) {
        const got = maps[1].items[0][h][t * maxlen + s];
        assert.ok(close(got, scores[s] / z, 1e-4), `head ${h} query ${t} key ${s}: ${got} vs ${scores[s] / z}`);
      }
    }
  }

  // a history's weights do not depend on the other histories of its batch
  const alone = model.attentionWeights([histories[0]])[0];
  assert.deepEqual(alone.items[1][1], maps[0].items[1][1]);
  assert.ok(model.training, 'the model is left in the mode it was in');
});

test('attentionSourceOf refuses a model without self-attention in one line', () => {
  const pop = { name: 'pop', scorer: { scoreAll() {}, scoreCandidates() {} } } as unknown as Model;
  assert.throws(
    () => attentionSourceOf(pop),
    (e: Error) => e instanceof UserError && /pop/.test(e.message) && !e.message.includes('\n'),
  );
  const model = new SASRec({ itemNum: 5, maxlen: 4, hiddenUnits: 4, numBlocks: 1, numHeads: 1, dropoutRate: 0 });
  const sas = { name: 'sasrec', scorer: model } as unknown as Model;
  assert.equal(attentionSourceOf(sas), model);
});

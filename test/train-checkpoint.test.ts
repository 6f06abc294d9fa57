import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../src/core/errors.js';
import { Rng } from '../src/engine/rng.js';
import { parseSafetensors, serializeSafetensors } from '../src/engine/safetensors.js';
import {
  CHECKPOINT_FORMAT,
  loadCheckpoint,
  loadCheckpointSync,
  saveCheckpoint,
  saveCheckpointSync,
  type CheckpointData,
} from '../src/train/checkpoint.js';
import { SHARED_FIXTURES_URL, NEEDS_SHARED } from './helpers/shared.js';

const FIXTURES = SHARED_FIXTURES_URL;
const PKG_VERSION = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'seqrec-ckpt-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function bits(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Asserts a one-line UserError whose message names `path` and matches `re`. */
function isUserError(path: string, re: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof UserError, `expected UserError, got ${String(e)}`);
    assert.ok(e.message.includes(path), `message should name the path: ${e.message}`);
    assert.match(e.message, re);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  };
}

function sample(): CheckpointData {
  const rng = new Rng(7);
  rng.nextFloat();
  const w = new Float32Array([0.5, -1.25, 3, 1e-8, -0, 7]);
  return {
    tensors: new Map([
      ['item_emb.weight', { shape: [3, 2], data: w }],
      ['attention_layers.0.in_proj_weight', { shape: [6, 2], data: new Float32Array(12).map((_, i) => i / 7) }],
      ['forward_layers.0.conv1.weight', { shape: [2, 2, 1], data: new Float32Array([1, 2, 3, 4]) }],
      ['last_layernorm.bias', { shape: [2], data: new Float32Array([0.1, 0.2]) }],
    ]),
    config: { model: 'sasrec', maxlen: 50, hidden_units: 2, norm_first: false, adam_betas: [0.9, 0.98] },
    idMaps: { users: ['', 'u42', 'alice'], items: ['', 'B000123', '17'] },
    extra: { note: 'epoch 3\nbest', '10': 'numeric key' },
    optimizer: new Map([
      ['exp_avg.item_emb.weight', { shape: [3, 2], data: new Float32Array(6).fill(0.25) }],
      ['exp_avg_sq.item_emb.weight', { shape: [3, 2], data: new Float32Array(6).fill(0.5) }],
    ]),
    trainState: { step: 120, epoch: 3, rng: rng.getState() },
  };
}

test('round-trips tensors, config, id maps, extra metadata, optimizer and train state', async (t) => {
  const dir = tempDir(t);
  const p = join(dir, 'ckpt.safetensors');
  const ck = sample();
  await saveCheckpoint(p, ck);
  assert.deepEqual(readdirSync(dir), ['ckpt.safetensors']);
  const back = await loadCheckpoint(p);

  assert.deepEqual([...back.tensors.keys()].sort(), [...ck.tensors.keys()].sort());
  for (const [name, t0] of ck.tensors) {
    const t1 = back.tensors.get(name)!;
    assert.deepEqual(t1.shape, t0.shape, name);
    assert.equal(t1.dtype, 'F32');
    assert.deepEqual(bits(t1.data), bits(t0.data), name);
  }
  assert.ok(Object.is(back.tensors.get('item_emb.weight')!.data[4], -0));
  assert.deepEqual(back.config, ck.config);
  assert.deepEqual(back.idMaps, ck.idMaps);
  assert.deepEqual(back.extra, ck.extra);
  assert.deepEqual(back.trainState, ck.trainState);
  assert.deepEqual([...back.optimizer!.keys()].sort(), ['exp_avg.item_emb.weight', 'exp_avg_sq.item_emb.weight']);
  assert.deepEqual([...back.optimizer!.get('exp_avg_sq.item_emb.weight')!.data], new Array(6).fill(0.5));
  assert.equal(back.format, CHECKPOINT_FORMAT);
  assert.equal(back.seqrecVersion, PKG_VERSION);

  // The RNG state restores the stream.
  const a = new Rng(0);
  a.setState((back.trainState as { rng: number[] }).rng);
  const b = new Rng(7);
  b.nextFloat();
  assert.equal(a.nextFloat(), b.nextFloat());

  // The raw file, as PyTorch sees it: metadata strings and the state_dict names.
  const raw = parseSafetensors(new Uint8Array(readFileSync(p)));
  assert.equal(raw.metadata.format, 'seqrec-checkpoint-1');
  assert.equal(raw.metadata.seqrec_version, PKG_VERSION);
  assert.deepEqual(JSON.parse(raw.metadata.config), ck.config);
  assert.deepEqual(JSON.parse(raw.metadata.user_ids), ['', 'u42', 'alice']);
  assert.deepEqual(JSON.parse(raw.metadata.item_ids), ['', 'B000123', '17']);
  assert.deepEqual(JSON.parse(raw.metadata.train_state), ck.trainState);
  assert.equal(raw.metadata.note, 'epoch 3\nbest');
  assert.ok(raw.tensors.has('optim.exp_avg.item_emb.weight'));
  // `{k: v for k, v in sd.items() if not k.startswith("optim.")}` is exactly the model's state_dict.
  assert.deepEqual([...raw.tensors.keys()].filter((k) => !k.startsWith('optim.')).sort(), [...ck.tensors.keys()].sort());

  // Sync variants write the same bytes and read the same checkpoint.
  const q = join(dir, 'sync.safetensors');
  saveCheckpointSync(q, ck);
  assert.deepEqual(readFileSync(q), readFileSync(p));
  assert.deepEqual(loadCheckpointSync(q).config, ck.config);
});

test('the PyTorch fixture loads as a checkpoint; re-saving it keeps every tensor bit for bit', { skip: NEEDS_SHARED }, async (t) => {
  const dir = tempDir(t);
  const fixturePath = new URL('sasrec-postln/weights.safetensors', FIXTURES).pathname;
  const config = JSON.parse(readFileSync(new URL('sasrec-postln/config.json', FIXTURES), 'utf8'));
  const fx = await loadCheckpoint(fixturePath);
  assert.deepEqual(fx.config, config);
  assert.equal(fx.tensors.size, 28);
  assert.equal(fx.format, undefined);
  assert.equal(fx.optimizer, undefined);
  assert.equal(fx.idMaps, undefined);
  assert.deepEqual(fx.extra, {});
  assert.deepEqual(fx.tensors.get('attention_layers.0.in_proj_weight')!.shape, [48, 16]);

  const p = join(dir, 'resaved.safetensors');
  await saveCheckpoint(p, { tensors: fx.tensors, config: fx.config! });
  const back = await loadCheckpoint(p);
  assert.deepEqual(back.config, config);
  assert.equal(back.tensors.size, 28);
  for (const [name, t0] of fx.tensors) assert.deepEqual(bits(back.tensors.get(name)!.data), bits(t0.data), name);
});

test('a truncated or corrupt checkpoint is refused with a one-line UserError naming the path', async (t) => {
  const dir = tempDir(t);
  const good = join(dir, 'good.safetensors');
  await saveCheckpoint(good, sample());
  const bytes = readFileSync(good);
  for (const cut of [0, 5, 8, 40, bytes.length - 200, bytes.length - 1]) {
    const p = join(dir, `cut-${cut}.safetensors`);
    writeFileSync(p, bytes.subarray(0, cut));
    await assert.rejects(loadCheckpoint(p), isUserError(p, /not a valid safetensors checkpoint: (file too short|header length|truncated file)/));
    assert.throws(() => loadCheckpointSync(p), isUserError(p, /not a valid safetensors checkpoint/));
  }
  const garbage = join(dir, 'garbage.safetensors');
  writeFileSync(garbage, 'this is not a checkpoint at all');
  await assert.rejects(loadCheckpoint(garbage), isUserError(garbage, /not a valid safetensors checkpoint/));
});

test('a checkpoint holding NaN or ±Infinity is refused, naming the tensor (it would score as a perfect model)', async (t) => {
  const dir = tempDir(t);
  for (const bad of [NaN, Infinity, -Infinity]) {
    const data = sample();
    data.tensors.get('attention_layers.0.in_proj_weight')!.data[5] = bad;
    const p = join(dir, `bad-${bad}.safetensors`);
    await saveCheckpoint(p, data);
    await assert.rejects(loadCheckpoint(p), isUserError(p, new RegExp(`tensor "attention_layers.0.in_proj_weight" holds ${bad} \\(element 5\\)`)));
  }
});

test('missing files and directories are refused with a UserError naming the path', async (t) => {
  const dir = tempDir(t);
  const missing = join(dir, 'nope.safetensors');
  await assert.rejects(loadCheckpoint(missing), isUserError(missing, /^checkpoint not found: /));
  assert.throws(() => loadCheckpointSync(missing), isUserError(missing, /^checkpoint not found: /));
  await assert.rejects(loadCheckpoint(dir), isUserError(dir, /is a directory/));
});

test('a PyTorch state_dict without seqrec metadata loads with config undefined', async (t) => {
  const dir = tempDir(t);
  const tensors = new Map([
    ['item_emb.weight', { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }],
    ['optim.weird_but_foreign', { shape: [1], data: new Float32Array([5]) }],
  ]);
  const plain = join(dir, 'plain.safetensors');
  writeFileSync(plain, serializeSafetensors(tensors));
  const a = await loadCheckpoint(plain);
  assert.equal(a.config, undefined);
  assert.equal(a.format, undefined);
  assert.equal(a.optimizer, undefined);
  assert.deepEqual([...a.tensors.keys()].sort(), ['item_emb.weight', 'optim.weird_but_foreign']);
  assert.deepEqual([...a.tensors.get('item_emb.weight')!.data], [1, 2, 3, 4]);

  // What Hugging Face's save_file(..., metadata={"format": "pt"}) writes.
  const hf = join(dir, 'hf.safetensors');
  writeFileSync(hf, serializeSafetensors(tensors, { format: 'pt' }));
  const b = await loadCheckpoint(hf);
  assert.equal(b.config, undefined);
  assert.deepEqual(b.extra, { format: 'pt' });
  assert.equal(b.tensors.size, 2);
});

test('bad seqrec metadata is refused with a UserError', async (t) => {
  const dir = tempDir(t);
  const w = new Map([['w', { shape: [1], data: new Float32Array([1]) }]]);
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ format: CHECKPOINT_FORMAT, config: '{oops' }, /metadata "config" is not valid JSON/],
    [{ format: CHECKPOINT_FORMAT, config: '[1,2]' }, /"config" is not a JSON object/],
    [{ format: 'seqrec-checkpoint-2', config: '{}' }, /format "seqrec-checkpoint-2" is not supported/],
    [{ format: CHECKPOINT_FORMAT, config: '{}', item_ids: '["", "a"]' }, /only one of user_ids and item_ids/],
    [{ format: CHECKPOINT_FORMAT, config: '{}', item_ids: '["a"]', user_ids: '[""]' }, /item_ids\[0\] must be the padding entry/],
    [{ format: CHECKPOINT_FORMAT, config: '{}', item_ids: '["", "a", "a"]', user_ids: '[""]' }, /duplicate id "a"/],
    [{ format: CHECKPOINT_FORMAT, config: '{}', train_state: 'nan' }, /"train_state" is not valid JSON/],
  ];
  for (const [i, [meta, re]] of cases.entries()) {
    const p = join(dir, `bad-${i}.safetensors`);
    writeFileSync(p, serializeSafetensors(w, meta));
    await assert.rejects(loadCheckpoint(p), isUserError(p, re));
  }
});

test('saving into a missing directory is a UserError and creates nothing', async (t) => {
  const dir = tempDir(t);
  const p = join(dir, 'no-such-dir', 'ckpt.safetensors');
  await assert.rejects(saveCheckpoint(p, sample()), isUserError(p, /does not exist/));
  assert.throws(() => saveCheckpointSync(p, sample()), isUserError(p, /does not exist/));
  mkdirSync(join(dir, 'taken'));
  await assert.rejects(saveCheckpoint(join(dir, 'taken'), sample()), isUserError(join(dir, 'taken'), /is a directory/));
  assert.deepEqual(readdirSync(dir), ['taken']);
});

test('saveCheckpoint refuses inconsistent input (programming errors, not UserError)', async (t) => {
  const dir = tempDir(t);
  const p = join(dir, 'x.safetensors');
  const base = sample();
  const bad: Array<[CheckpointData, RegExp]> = [
    [{ ...base, extra: { config: 'x' } }, /extra metadata key "config" is reserved/],
    [{ ...base, tensors: new Map([['optim.x', { shape: [1], data: new Float32Array(1) }]]) }, /reserved prefix "optim\."/],
    [{ ...base, idMaps: { users: ['a'], items: [''] } }, /idMaps\.users\[0\] must be the padding entry/],
    [{ ...base, idMaps: { users: [''], items: ['', 'x', 'x'] } }, /duplicate id/],
    [{ ...base, config: [1] as unknown as object }, /config must be a plain object/],
    [{ ...base, tensors: new Map([['w', { shape: [2], data: new Float32Array(1) }]]) }, /shape \[2\] has 2 elements/],
  ];
  for (const [ck, re] of bad) {
    await assert.rejects(saveCheckpoint(p, ck), (e: unknown) => {
      assert.ok(!(e instanceof UserError));
      assert.match((e as Error).message, re);
      return true;
    });
  }
  assert.deepEqual(readdirSync(dir), []);
});

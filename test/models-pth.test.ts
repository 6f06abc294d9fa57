/**
 * PyTorch `.pth` state dicts (test/fixtures/pth/, written by scripts/fixtures/pth.py from the reference
 * code): read by the restricted unpickler they hold exactly the tensors of their safetensors copies,
 * and loaded as models (with the flags a state dict does not record) they predict what the copies
 * predict and what PyTorch predicted, for SASRec post-LN and pre-LN and for TiSASRec. Files that are
 * not state dicts — hostile pickles calling os.system / builtins.eval, a pickled module, the legacy
 * format, a checkpoint dict — are refused with one line and nothing runs, through the library and
 * through every command that reads a model file (eval, recommend, convert-model).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { zipSync } from 'fflate';
import { loadModel } from '../src/api/model-file.js';
import { UserError } from '../src/core/errors.js';
import { readTorchStateDict } from '../src/engine/pth.js';
import { parseSafetensors } from '../src/engine/safetensors.js';
import type { Model } from '../src/models/contract.js';
import type { SASRec } from '../src/models/sasrec/sasrec.js';
import type { TiSASRec } from '../src/models/tisasrec/tisasrec.js';
import { loadModelFile } from '../src/train/model-file.js';
import { runCli } from './helpers/cli.js';
import { assertClose, flatInts, loadFixture } from './helpers/fixtures.js';
import { NEEDS_SHARED_FIXTURES, sharedPath } from './helpers/shared.js';
import { testTempDir } from './helpers/tmp.js';

const FX = new URL('./fixtures/pth/', import.meta.url).pathname;
const fx = (name: string) => join(FX, name);
const dir = testTempDir('seqrec-pth-');

interface SasrecFixture {
  config: { item_num: number; maxlen: number; num_heads: number; norm_first: boolean };
  log_seqs: number[][];
  item_indices: number[][];
  predict_logits: number[][];
}
const fixtureOf = (name: string) => JSON.parse(readFileSync(fx(`${name}.json`), 'utf8')) as SasrecFixture;

function sameTensors(
  a: ReadonlyMap<string, { shape: number[]; data: Float32Array }>,
  b: ReadonlyMap<string, { shape: number[]; data: Float32Array }>,
): void {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  for (const [k, t] of b) {
    const x = a.get(k)!;
    assert.deepEqual(x.shape, t.shape, k);
    assert.deepEqual(x.data, t.data, k);
  }
}

/** SASRec's predict() on the fixture's histories and candidates. */
function sasrecPredict(model: Model, f: SasrecFixture): Float32Array {
  const seqs = flatInts(f.log_seqs);
  const cands = flatInts(f.item_indices);
  return (model.scorer as unknown as SASRec).predict(seqs, f.log_seqs.length, cands, f.item_indices[0].length);
}

for (const name of ['sasrec-postln', 'sasrec-preln']) {
  test(`${name}.pth: the tensors of its safetensors copy; loaded, PyTorch's predictions (1e-4) and the copy's (exactly)`, async () => {
    const f = fixtureOf(name);
    sameTensors(readTorchStateDict(readFileSync(fx(`${name}.pth`))), parseSafetensors(readFileSync(fx(`${name}.safetensors`))).tensors);
    // what a state dict does not record comes from the flags, as in the reference
    const flags = { numHeads: f.config.num_heads, normFirst: f.config.norm_first };
    const fromPth = (await loadModelFile(fx(`${name}.pth`), undefined, flags)).model;
    const fromCopy = (await loadModelFile(fx(`${name}.safetensors`), undefined, flags)).model;
    try {
      assert.equal(fromPth.name, 'sasrec');
      assert.equal(fromPth.describe().maxlen, f.config.maxlen);
      assert.equal(fromPth.describe().item_num, f.config.item_num);
      const p = sasrecPredict(fromPth, f);
      assertClose('predict_logits', p, f.predict_logits.flat());
      assert.deepEqual(p, sasrecPredict(fromCopy, f));
    } finally {
      fromPth.dispose();
      fromCopy.dispose();
    }
  });
}

test('the flags matter: sasrec-preln.pth read as 1 head, post-LN predicts something else', async () => {
  const f = fixtureOf('sasrec-preln');
  const wrong = (await loadModelFile(fx('sasrec-preln.pth'))).model;
  try {
    assert.throws(() => assertClose('predict_logits', sasrecPredict(wrong, f), f.predict_logits.flat()));
  } finally {
    wrong.dispose();
  }
});

test("a DataParallel state dict (keys prefixed 'module.') reads as the plain one; the library's loadModel reads .pth too", async () => {
  sameTensors(readTorchStateDict(readFileSync(fx('sasrec-preln-ddp.pth'))), readTorchStateDict(readFileSync(fx('sasrec-preln.pth'))));
  const f = fixtureOf('sasrec-preln');
  const model = await loadModel(fx('sasrec-preln-ddp.pth'), { overrides: { numHeads: 2, normFirst: true } });
  try {
    assertClose('predict_logits', sasrecPredict(model, f), f.predict_logits.flat());
  } finally {
    model.dispose();
  }
});

test('tisasrec.pth (the shared fixture saved with torch.save): its tensors; loaded, the reference predictions', {
  skip: NEEDS_SHARED_FIXTURES,
}, async () => {
  const shared = loadFixture('tisasrec');
  sameTensors(readTorchStateDict(readFileSync(fx('tisasrec.pth'))), shared.weights);
  const flags = { numHeads: shared.config.num_heads };
  const fromPth = (await loadModelFile(fx('tisasrec.pth'), undefined, flags)).model;
  const fromCopy = (await loadModelFile(sharedPath('fixtures', 'tisasrec', 'weights.safetensors'), undefined, flags)).model;
  try {
    assert.equal(fromPth.name, 'tisasrec');
    const input = {
      batchSize: (shared.inputs.log_seqs as number[][]).length,
      seqs: flatInts(shared.inputs.log_seqs),
      relations: Int32Array.from((shared.inputs.time_matrices as number[][][]).flat(2)),
    };
    const cands = flatInts(shared.inputs.item_indices);
    const C = cands.length / input.batchSize;
    const p = (fromPth.scorer as unknown as TiSASRec).predict(input, cands, C);
    assertClose('predict_logits', p, shared.expected.get('predict_logits')!.data);
    assert.deepEqual(p, (fromCopy.scorer as unknown as TiSASRec).predict(input, cands, C));
  } finally {
    fromPth.dispose();
    fromCopy.dispose();
  }
});

/** A torch-layout zip holding `data.pkl` (and storages). */
function torchZip(pkl: Uint8Array, extra: Record<string, Uint8Array> = {}): Uint8Array {
  const files: Record<string, [Uint8Array, { level: 0 }]> = { 'archive/data.pkl': [pkl, { level: 0 }] };
  for (const [k, v] of Object.entries(extra)) files[`archive/${k}`] = [v, { level: 0 }];
  return zipSync(files);
}
const bytesOf = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

const REFUSED: Array<[string, RegExp]> = [
  ['hostile-os-system.pth', /refused: the pickle asks for the Python global posix\.system; seqrec reads state dicts only/],
  ['hostile-eval.pth', /refused: the pickle asks for the Python global builtins\.eval/],
  [
    'whole-module.pth',
    /refused: the pickle asks for the Python global model\.SASRec; seqrec reads state dicts only \(torch\.save\(model\.state_dict\(\), path\)\)/,
  ],
  ['legacy.pth', /legacy format of torch < 1\.6/],
];

test('files that are not state dicts are refused with one line naming the file, and nothing runs', async () => {
  // {'epoch': 3}: a checkpoint dict, not a state dict; a storage the archive lacks; a zip of something else
  writeFileSync(join(dir, 'checkpoint-dict.pth'), torchZip(bytesOf('\x80\x02}q\x00X\x05\x00\x00\x00epochq\x01K\x03s.')));
  const missingStorage =
    '\x80\x02ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x009X\x03\x00\x00\x00cpuK\x02tQK\x00K\x02\x85K\x01\x85\x89NtR.';
  writeFileSync(join(dir, 'missing-storage.pth'), torchZip(bytesOf(`\x80\x02}X\x01\x00\x00\x00w${missingStorage.slice(2, -1)}s.`)));
  writeFileSync(join(dir, 'not-torch.pth'), zipSync({ 'readme.txt': bytesOf('hello') }));
  writeFileSync(
    join(dir, 'short-storage.pth'),
    torchZip(bytesOf(`\x80\x02}X\x01\x00\x00\x00w${missingStorage.slice(2, -1).replace('X\x01\x00\x00\x009', 'X\x01\x00\x00\x000')}s.`), {
      'data/0': new Uint8Array(4),
    }),
  );
  // a broadcast view: a million elements read from a storage of 2 (stride 0)
  const tensorOf = (key: string, shapeAndStride: string) =>
    missingStorage.slice(2, -1).replace('X\x01\x00\x00\x009', `X\x01\x00\x00\x00${key}`).replace('K\x02\x85K\x01\x85', shapeAndStride);
  writeFileSync(
    join(dir, 'broadcast.pth'),
    torchZip(bytesOf(`\x80\x02}X\x01\x00\x00\x00w${tensorOf('0', 'J\x40\x42\x0f\x00\x85K\x00\x85')}s.`), { 'data/0': new Uint8Array(8) }),
  );
  // and a real, 2-element tensor read back: the crafted pickles are well-formed up to what is refused
  writeFileSync(
    join(dir, 'two.pth'),
    torchZip(bytesOf(`\x80\x02}X\x01\x00\x00\x00w${tensorOf('0', 'K\x02\x85K\x01\x85')}s.`), {
      'data/0': new Uint8Array(new Float32Array([1.5, -2]).buffer),
    }),
  );
  assert.deepEqual(
    [...readTorchStateDict(readFileSync(join(dir, 'two.pth')))],
    [['w', { dtype: 'F32', shape: [2], data: new Float32Array([1.5, -2]) }]],
  );
  const cases: Array<[string, RegExp]> = [
    [join(dir, 'broadcast.pth'), /a tensor of 1000000 elements on a storage of 2: not a saved parameter/],
    ...REFUSED.map(([f, re]): [string, RegExp] => [fx(f), re]),
    [join(dir, 'checkpoint-dict.pth'), /its entry "epoch" is not a tensor: seqrec reads a bare state dict/],
    [join(dir, 'missing-storage.pth'), /storage "9" is missing from the archive/],
    [join(dir, 'not-torch.pth'), /without <name>\/data\.pkl: not a PyTorch checkpoint/],
    [join(dir, 'short-storage.pth'), /storage 0 holds 4 bytes, 2 elements of torch\.FloatStorage need 8/],
  ];
  for (const [path, pattern] of cases) {
    await assert.rejects(loadModelFile(path), (err: unknown) => {
      assert.ok(err instanceof UserError, `${path}: a UserError, got ${String(err)}`);
      assert.ok(err.message.startsWith(`${path}: `), err.message);
      assert.match(err.message, pattern);
      assert.ok(!err.message.includes('\n'));
      return true;
    });
  }
  assert.ok(!existsSync('SEQREC_PWNED'), 'the hostile payload never ran');
});

// 60 users on a ring of items 1..30: the item ids of the fixtures' state dicts
const ring = join(dir, 'ring.txt');
{
  const lines: string[] = [];
  for (let u = 1; u <= 60; u++) for (let t = 0; t < 6 + (u % 7); t++) lines.push(`${u} ${((u * 7 + t) % 30) + 1}`);
  writeFileSync(ring, `${lines.join('\n')}\n`);
}

test('seqrec eval / recommend / convert-model read a .pth as its safetensors copy; hostile ones are one line, exit 2, nothing runs', async () => {
  const evalOf = (model: string, ...flags: string[]) =>
    runCli(['eval', '--state_dict_path', model, '--dataset', ring, '--json', ...flags], { cwd: dir });
  const preln = ['--num_heads', '2', '--norm_first'];
  const [pth, copy] = await Promise.all([evalOf(fx('sasrec-preln.pth'), ...preln), evalOf(fx('sasrec-preln.safetensors'), ...preln)]);
  assert.equal(pth.code, 0, pth.stderr);
  assert.equal(copy.code, 0, copy.stderr);
  const metrics = (r: { stdout: string }) => (JSON.parse(r.stdout) as { results: Array<{ metrics: unknown }> }).results.map((x) => x.metrics);
  assert.deepEqual(metrics(pth), metrics(copy));

  // convert-model records the flags: the converted file then evaluates alone to the same numbers
  const out = join(dir, 'preln.safetensors');
  const conv = await runCli(['convert-model', fx('sasrec-preln.pth'), out, ...preln], { cwd: dir });
  assert.equal(conv.code, 0, conv.stderr);
  assert.match(conv.stderr, /wrote .*preln\.safetensors: sasrec \(30 items, maxlen 10, d 8, 1 blocks, 2 heads, pre-LN\)/);
  const converted = await evalOf(out);
  assert.equal(converted.code, 0, converted.stderr);
  assert.deepEqual(metrics(converted), metrics(pth));
  const meta = JSON.parse(parseSafetensors(readFileSync(out)).metadata.config) as Record<string, unknown>;
  assert.equal(meta.num_heads, 2);
  assert.equal(meta.norm_first, true);
  const again = await runCli(['convert-model', out, join(dir, 'x.pth')], { cwd: dir });
  assert.equal(again.code, 2);
  assert.match(again.stderr, /seqrec writes safetensors model files; name the output \*\.safetensors/);

  // recommend from a .pth, then the hostile files through each command
  const rec = await runCli(['recommend', '--state_dict_path', fx('sasrec-postln.pth'), '--history', '1 2 3', '--k', '3'], { cwd: dir });
  assert.equal(rec.code, 0, rec.stderr);
  assert.equal(rec.stdout.trim().split('\n').length, 3);
  for (const [file, pattern] of REFUSED.slice(0, 2)) {
    const runs = await Promise.all([
      runCli(['recommend', '--state_dict_path', fx(file), '--history', '1 2'], { cwd: dir }),
      runCli(['eval', '--state_dict_path', fx(file), '--dataset', ring], { cwd: dir }),
      runCli(['convert-model', fx(file), join(dir, 'never.safetensors')], { cwd: dir }),
    ]);
    for (const r of runs) {
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, pattern);
    }
  }
  assert.ok(!existsSync(join(dir, 'SEQREC_PWNED')), 'the hostile payload never ran');
  assert.ok(!existsSync(join(dir, 'never.safetensors')));
});

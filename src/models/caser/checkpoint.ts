/**
 * Caser's model file: caser_pytorch's state_dict tensor names (caser.ts), the options in the
 * `config` metadata, and the sizes its tensors fix. Only seqrec checkpoints are read: a converted
 * caser_pytorch state_dict numbers its users from 0 with no row for an unknown user, so its user
 * rows would be off by one here.
 */
import type { TrainingRecord } from '../contract.js';
import { optionsFromCheckpoint, sniffCheckpoint, trainingRecordMetadata } from '../common/checkpoint-config.js';
import { CheckpointError, type LoadedCheckpoint } from '../common/checkpoint-format.js';
import type { CaserConfig } from './caser.js';
import { caserOptions, type CaserOptions } from './options.js';

/** The checkpoint's `config` metadata (the option names). */
export function caserMetadata(cfg: CaserConfig, record: TrainingRecord): Record<string, unknown> {
  return {
    model: 'caser',
    item_num: cfg.itemNum,
    user_num: cfg.userNum,
    maxlen: cfg.L,
    targets: cfg.T,
    hidden_units: cfg.hiddenUnits,
    n_v: cfg.nV,
    n_h: cfg.nH,
    dropout_rate: cfg.dropoutRate,
    l2: cfg.l2,
    neg_samples: cfg.negSamples,
    ...trainingRecordMetadata(record),
  };
}

/** The options of the Caser in `ckpt`, with its item count N and user count U. */
export function caserOptionsOf(ckpt: LoadedCheckpoint): { options: CaserOptions; itemNum: number; userNum: number } {
  if (!ckpt.config) {
    throw new CheckpointError(
      'not a seqrec Caser checkpoint (no "config" metadata); converted caser_pytorch state_dicts are not read: their users have no unknown-user row',
    );
  }
  const { tensors } = ckpt;
  const item = tensors.get('item_embeddings.weight');
  const user = tensors.get('user_embeddings.weight');
  const convV = tensors.get('conv_v.weight');
  const convH = tensors.get('conv_h.0.weight');
  if (
    !item ||
    !user ||
    !convV ||
    !convH ||
    item.shape.length !== 2 ||
    user.shape.length !== 2 ||
    convV.shape.length !== 4 ||
    convH.shape.length !== 4
  ) {
    throw new CheckpointError('not a Caser checkpoint: item_embeddings / user_embeddings / conv_v / conv_h.0 weights missing or of the wrong rank');
  }
  const shapes = { maxlen: convV.shape[2], hidden_units: item.shape[1], n_v: convV.shape[0], n_h: convH.shape[0] };
  const options = optionsFromCheckpoint(caserOptions, ckpt, shapes, {}, []);
  const userNum = user.shape[0] - 1;
  const users = ckpt.idMaps?.users.length;
  if (users !== undefined && users !== userNum + 1) {
    throw new CheckpointError(`metadata "user_ids" lists ${users - 1} users but user_embeddings.weight has ${userNum}`);
  }
  return { options, itemNum: item.shape[0] - 1, userNum };
}

export function looksLikeCaser(bytes: Uint8Array): boolean {
  return sniffCheckpoint(bytes, 'caser', (t) => t.has('conv_v.weight') && t.has('W2.weight') && t.has('b2.weight'));
}

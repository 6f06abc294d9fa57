/**
 * The model registry: `--model <name>` → its ModelSpec (contract.ts). Adding a model is one folder
 * beside these and one line in MODELS.
 */
import type { AnyModelSpec } from './contract.js';
import { pop } from './pop/spec.js';
import { content } from './content/spec.js';
import { ffm } from './ffm/spec.js';
import { fm } from './fm/spec.js';
import { sasrec } from './sasrec/spec.js';
import { tisasrec } from './tisasrec/spec.js';
import { bert4rec } from './bert4rec/spec.js';
import { bpr } from './bpr/spec.js';
import { fmc } from './fmc/spec.js';
import { fpmc } from './fpmc/spec.js';
import { transrec } from './transrec/spec.js';
import { gru4rec, gru4recPlus } from './gru4rec/spec.js';
import { caser } from './caser/spec.js';
import { ease } from './ease/spec.js';
import { slim } from './slim/spec.js';
import { ials } from './ials/spec.js';
import { mf } from './mf/spec.js';
import { neumf } from './neumf/spec.js';
import { twoTower } from './two-tower/spec.js';

const MODELS: readonly AnyModelSpec[] = [
  pop,
  sasrec,
  tisasrec,
  bert4rec,
  bpr,
  fmc,
  fpmc,
  transrec,
  gru4rec,
  gru4recPlus,
  caser,
  ease,
  slim,
  ials,
  mf,
  neumf,
  content,
  fm,
  ffm,
  twoTower,
];

const registry = new Map<string, AnyModelSpec>(MODELS.map((spec) => [spec.name, spec]));

/** The registered models' names (the values of `--model`). */
export function modelNames(): string[] {
  return [...registry.keys()];
}

/** The spec named `name`, or undefined. */
export function getModel(name: string): AnyModelSpec | undefined {
  return registry.get(name);
}

/** Every registered spec, in registration order. */
export function allModels(): AnyModelSpec[] {
  return [...registry.values()];
}

/** The spec whose sniff() accepts the file, or undefined. */
export function detectModel(bytes: Uint8Array): AnyModelSpec | undefined {
  for (const spec of registry.values()) if (spec.sniff(bytes)) return spec;
  return undefined;
}

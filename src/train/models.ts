/** Registers the neural models (their training loops live in src/train) with the model registry. */
import { registerModel } from '../models/registry.js';
import { sasrecSpec } from './sasrec-spec.js';
import { tisasrecSpec } from './tisasrec-spec.js';

registerModel(sasrecSpec);
registerModel(tisasrecSpec);

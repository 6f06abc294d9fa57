export { Tensor, Parameter, shapeSize, sameShape } from './tensor.js';
export { Tape, getTape, setTape, noGrad, backward, resetTape } from './tape.js';
export * as ops from './ops.js';
export * as init from './init.js';
export { Rng } from './rng.js';
export { PackedBatch } from './packing.js';
export * as mhcOps from './mhc-ops.js';

export { Module, ModuleList } from './module.js';
export { Embedding, Linear, PointwiseConv1d, LayerNorm, Dropout } from './layers.js';
export { MultiheadAttention } from './attention.js';
export { PointWiseFeedForward } from './feedforward.js';
export { HyperConnection, MHCBlock, MHC_DEFAULTS, expandStreams, collapseStreams, type MHCConfig } from './mhc.js';

// The non-GEMM kernels, re-exported by gemm.entry.ts so that everything lives in ONE wasm module
// (two AssemblyScript modules on one imported memory would collide in their static data).
export * from './attention';
export * from './elementwise';
export * from './time';
export * from './mhc';

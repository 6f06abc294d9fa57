// The WebAssembly kernel module: scripts/build-wasm.mjs compiles this entry, and with it every kernel
// group, into src/kernels/wasm/generated/kernels.ts. ONE module: two AssemblyScript modules on one
// imported memory would collide in their static data.
export * from './gemm';
export * from './attention';
export * from './elementwise';
export * from './time';
export * from './mhc';
export * from './softmax';

// Bundles src/browser/index.ts into one ESM file for browsers (wasm kernels embedded as base64).
import { build } from 'esbuild';

await build({
  entryPoints: ['src/browser/index.ts'],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  outfile: 'dist/browser/seqrec.js',
  sourcemap: true,
  logLevel: 'warning',
});

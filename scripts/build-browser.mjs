// Bundles src/browser/index.ts into one ESM file for browsers (wasm kernels embedded as base64),
// and the demo page (src/browser/demo/) with its model into dist/demo/ as static files.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const common = { bundle: true, format: 'esm', platform: 'browser', target: 'es2022', sourcemap: true, logLevel: 'warning' };

await build({ ...common, entryPoints: ['src/browser/index.ts'], outfile: 'dist/browser/seqrec.js' });
await build({ ...common, entryPoints: ['src/browser/train-worker.ts'], outfile: 'dist/browser/train-worker.js' });

await build({ ...common, entryPoints: ['src/browser/demo/main.ts'], outfile: 'dist/demo/demo.js' });
await build({ ...common, entryPoints: ['src/browser/train-worker.ts'], outfile: 'dist/demo/train-worker.js' });
mkdirSync('dist/demo', { recursive: true });
copyFileSync('src/browser/demo/index.html', 'dist/demo/index.html');
copyFileSync('demo/games-sasrec.safetensors', 'dist/demo/games-sasrec.safetensors');
// the page is threaded only when cross-origin isolated: the headers for static hosts that read _headers
writeFileSync('dist/demo/_headers', '/*\n  Cross-Origin-Opener-Policy: same-origin\n  Cross-Origin-Embedder-Policy: require-corp\n');

/**
 * Per-history recommend time, Node vs headless Chromium, for one model file:
 * node --import tsx bench/browser-recommend.ts <model.safetensors> [repeats]
 * Both sides run the same top-10 for the same histories (the catalogue's first items, length maxlen).
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';
import { launchBrowser } from '../test/helpers/browser.js';
import { loadModel } from '../src/api/model-file.js';
import { recommendTopK } from '../src/eval/recommend.js';

const [path, repeatsArg] = process.argv.slice(2);
if (!path) throw new Error('usage: bench/browser-recommend.ts <model.safetensors> [repeats]');
const repeats = Number(repeatsArg ?? 200);
const bytes = readFileSync(path);

const model = await loadModel(new Uint8Array(bytes));
const history = model.items.toRaw.slice(1, 1 + Math.min(50, model.items.toRaw.length - 1));
const dense = history.map((id) => model.items.toIndex.get(id) as number);
for (let i = 0; i < 10; i++) recommendTopK(model.scorer, { items: dense }, 10);
let t = performance.now();
for (let i = 0; i < repeats; i++) recommendTopK(model.scorer, { items: dense }, 10);
const nodeMs = (performance.now() - t) / repeats;

const bundle = await build({ entryPoints: ['src/browser/index.ts'], bundle: true, format: 'esm', platform: 'browser', write: false });
const page = `<!doctype html><script type="module">
  import { loadModel, recommend } from '/seqrec.js';
  window.bench = async (history, repeats) => {
    const model = await loadModel(new Uint8Array(await (await fetch('/model')).arrayBuffer()));
    for (let i = 0; i < 10; i++) recommend(model, history, 10);
    const t = performance.now();
    for (let i = 0; i < repeats; i++) recommend(model, history, 10);
    return (performance.now() - t) / repeats;
  };
  window.ready = true;
</script>`;
const server = createServer((req, res) => {
  if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(page);
  else if (req.url === '/seqrec.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle.outputFiles[0].contents);
  else if (req.url === '/model') res.writeHead(200).end(bytes);
  else res.writeHead(404).end();
});
await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
const browser = await launchBrowser();
try {
  const tab = await browser.newPage();
  await tab.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  await tab.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
  t = performance.now();
  const chromeMs = await tab.evaluate(([h, n]) => (window as unknown as { bench(h: string[], n: number): Promise<number> }).bench(h, n), [
    history,
    repeats,
  ] as [string[], number]);
  console.log(`recommend top-10, history of ${history.length}, ${model.items.toRaw.length - 1} items, ${repeats} repeats`);
  console.log(`node ${nodeMs.toFixed(3)} ms/history   chromium ${chromeMs.toFixed(3)} ms/history`);
} finally {
  await browser.close();
  server.close();
}

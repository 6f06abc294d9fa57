/**
 * The demo page's screenshot in the docs (docs/images/demo-page.png): the bundled demo model, a
 * history of eight Games items clicked in, the top-10 and the attention maps for it.
 * Run by hand: `node --import tsx scripts/demo-screenshots.ts`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../src/api/model-file.js';
import { startDemoServer } from '../src/cli/demo.js';
import { launchBrowser } from '../test/helpers/browser.js';
import { buildDemoPage, clickHistory, demoModelPath, openDemo } from '../test/helpers/demo-page.js';

const output = 'docs/images/demo-page.png';
const ids = (await loadModel(new Uint8Array(readFileSync(demoModelPath)))).items.toRaw;
const history = [123, 4567, 89, 2000, 31, 777, 1500, 42].map((i) => ids[i]);
const work = mkdtempSync(join(tmpdir(), 'seqrec-shots-'));
const { server, url } = await startDemoServer(await buildDemoPage(join(work, 'page')), 0, '127.0.0.1');
const browser = await launchBrowser();
try {
  const { tab, errors } = await openDemo(browser, url);
  await clickHistory(tab, history);
  await tab.screenshot({ path: output, fullPage: true });
  if (errors.length > 0) throw new Error(`console errors: ${errors.join('; ')}`);
  console.log(`wrote ${output}`);
} finally {
  await browser.close();
  server.close();
  rmSync(work, { recursive: true, force: true });
}

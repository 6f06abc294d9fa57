/**
 * The demo page's attention heatmaps as pixels: a screenshot of them for a fixed history equals the
 * committed image (test/fixtures/demo-heatmaps.png, looked at and described in README's "The demo page")
 * within a tolerance that a different history exceeds. Also: the loaded page keeps working offline, and
 * every control has an accessible name. SEQREC_UPDATE_SCREENSHOTS=1 rewrites the expected image.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchBrowser } from './helpers/browser.js';
import { testTempDir } from './helpers/tmp.js';
import { buildDemoPage, clickHistory, comparePngs, demoModelPath, openDemo } from './helpers/demo-page.js';
import { startDemoServer } from '../src/cli/demo.js';
import { loadModel } from '../src/api/model-file.js';

const expectedPath = 'test/fixtures/demo-heatmaps.png';
const within = { meanAbsolute: 2, changedShare: 0.01 };

test('the attention heatmaps look as the committed image for a fixed history (and not for another); offline after loading; every control named', async () => {
  const ids = (await loadModel(new Uint8Array(readFileSync(demoModelPath)))).items.toRaw;
  const history = [ids[123], ids[4567], ids[89], ids[2000], ids[31], ids[777]];
  const { server, url } = await startDemoServer(await buildDemoPage(join(testTempDir('seqrec-heatmap-'), 'page')), 0, '127.0.0.1');
  const browser = await launchBrowser();
  try {
    const { tab, errors } = await openDemo(browser, url);
    await clickHistory(tab, history);
    const shot = await tab.locator('#heatmaps').screenshot();
    if (process.env.SEQREC_UPDATE_SCREENSHOTS === '1') writeFileSync(expectedPath, shot);
    assert.ok(existsSync(expectedPath), `${expectedPath} is missing: SEQREC_UPDATE_SCREENSHOTS=1 writes it`);
    const same = await comparePngs(tab, shot, readFileSync(expectedPath));
    assert.deepEqual([same.width[0], same.height[0]], [same.width[1], same.height[1]], 'screenshot size');
    assert.ok(same.meanAbsolute <= within.meanAbsolute, `mean absolute difference ${same.meanAbsolute.toFixed(3)}`);
    assert.ok(same.changedShare <= within.changedShare, `changed pixels ${(100 * same.changedShare).toFixed(2)} %`);

    // the tolerance means something: the same items in the opposite order draw other maps
    await tab.click('#clear');
    await clickHistory(tab, [...history].reverse());
    const other = await comparePngs(tab, await tab.locator('#heatmaps').screenshot(), readFileSync(expectedPath));
    console.log(`heatmaps vs expected: same history ${JSON.stringify(same)}; reversed ${JSON.stringify(other)}`);
    assert.ok(
      other.meanAbsolute > within.meanAbsolute || other.changedShare > within.changedShare,
      `reversed history within tolerance: ${JSON.stringify(other)}`,
    );

    // offline once loaded: the model is in the page, so clicks still rank and draw
    await tab.context().setOffline(true);
    const before = await tab.$$eval('#top li button', (bs) => bs.map((b) => (b as HTMLElement).dataset.item));
    await clickHistory(tab, [ids[5]]);
    const after = await tab.$$eval('#top li button', (bs) => bs.map((b) => (b as HTMLElement).dataset.item));
    assert.equal(after.length, 10);
    assert.notDeepEqual(after, before, 'the top-10 follows the new click offline');
    assert.equal(await tab.locator('#history button').count(), history.length + 1);
    assert.ok((await tab.locator('#heatmaps figure').count()) > 0);

    const unnamed = await tab.evaluate(() =>
      Array.from(document.querySelectorAll('input, button, select, textarea, progress, ol, ul, svg'))
        .filter((el) => {
          const labelled = (el as HTMLInputElement).labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
          const text = el.tagName === 'BUTTON' && el.textContent?.trim();
          const inFigure = el.tagName.toLowerCase() === 'svg' && el.closest('figure')?.querySelector('figcaption');
          return !(labelled || text || inFigure);
        })
        .map((el) => el.outerHTML.slice(0, 80)),
    );
    assert.deepEqual(unnamed, [], 'controls without an accessible name');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    server.close();
  }
});

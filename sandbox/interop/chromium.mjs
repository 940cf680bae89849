// Headless Chromium for the browser checks (Playwright driving Debian's /usr/bin/chromium): the
// browser, and `flow`, one named check in a fresh context that leaves a screenshot when it fails.
import path from 'node:path';
import { chromium } from 'playwright-core';
import { check, WORK } from './lib.mjs';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const TIMEOUT = 15000;

export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
      '--disable-quic',
    ],
  });
}

/** Runs `fn(page)` as check `name` of `part` in a fresh context of `browser`; a failing flow
 * leaves a screenshot in .work/. */
export async function flow(browser, part, name, fn) {
  await check(part, name, async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(TIMEOUT);
    page.setDefaultNavigationTimeout(TIMEOUT);
    try {
      await fn(page);
    } catch (e) {
      const shot = path.join(WORK, `${part}-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.png`);
      await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
      if (e && e.message) e.message += ` (page ${page.url()}; screenshot ${path.relative(process.cwd(), shot)})`;
      throw e;
    } finally {
      await context.close();
    }
  });
}

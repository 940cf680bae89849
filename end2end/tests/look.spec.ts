import { mkdirSync } from 'node:fs';
import { type Page, type TestInfo } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { ADMIN_EMAIL, ADMIN_PASSWORD, expect, open, submitLogIn, subscribedCustomer, test } from './helpers';

/**
 * Look and feel, once per page: a screenshot at a laptop's and a phone's width (kept under
 * test-results/, not compared pixel by pixel), axe-core's accessibility rules with no serious or
 * critical violation, no horizontal scrolling on a phone, (JavaScript on) no layout shift as the
 * page hydrates, and axe again on every page in the dark theme. `README_SCREENSHOTS=1` also writes
 * docs/screenshots/{pricing,account}.png.
 */

const WIDTHS = [1280, 375];

/** What the visitor and the subscriber see. */
const ANONYMOUS = ['/', '/pricing', '/signup', '/login', '/forgot-password', '/store'];
const CUSTOMER = [
  '/pricing?interval=year',
  '/account',
  '/account/plan',
  '/account/plan/preview?plan=pro&interval=month',
  '/account/cancel',
  '/account/pause',
  '/account/password',
  '/projects',
  '/library',
  '/creator',
];
const ADMIN = [
  '/admin',
  '/admin/subscriptions',
  '/admin/payments',
  '/admin/disputes',
  '/admin/marketplace',
  '/admin/orders',
  '/admin/events',
  '/admin/usage',
  '/admin/mail',
  '/admin/migrations',
  '/admin/status',
];

type Finding = string;

/**
 * The page axe reads. axe runs in the page, so with JavaScript off it reads a twin: a context
 * with the same cookies and viewport where the app's own scripts are blocked (the same
 * server-rendered page a browser without JavaScript shows).
 */
async function axePageFor(page: Page, javaScriptEnabled: boolean): Promise<Page> {
  if (javaScriptEnabled) return page;
  const browser = page.context().browser()!;
  const twin = await browser.newContext({
    javaScriptEnabled: true,
    storageState: await page.context().storageState(),
    viewport: page.viewportSize(),
    baseURL: process.env.BASE_URL ?? 'http://127.0.0.1:3000',
  });
  await twin.route(/\.(js|wasm)(\?.*)?$/, (route) => route.abort());
  return twin.newPage();
}

/** axe-core's serious and critical violations on the page, one line each. */
async function axeFindings(page: Page, path: string): Promise<Finding[]> {
  const results = await new AxeBuilder({ page }).analyze();
  expect(results.passes.length, `axe ran its rules on ${path}`).toBeGreaterThan(10);
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${path}: ${v.id} (${v.impact}) at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** The layout shift accumulated since the page started loading (hydration included). */
async function layoutShift(page: Page): Promise<number> {
  return page.evaluate(
    () =>
      new Promise<number>((resolve) => {
        let total = 0;
        new PerformanceObserver((list) => {
          for (const entry of list.getEntries() as unknown as { value: number; hadRecentInput: boolean }[]) {
            if (!entry.hadRecentInput) total += entry.value;
          }
        }).observe({ type: 'layout-shift', buffered: true });
        setTimeout(() => resolve(total), 100);
      }),
  );
}

function fileName(path: string): string {
  return path.replace(/^\//, '').replace(/[^a-z0-9]+/gi, '-').replace(/-$/, '') || 'home';
}

/** axe on each path in the dark theme (`prefers-color-scheme: dark`), at 1280 px. */
async function darkFindings(page: Page, paths: string[], javaScriptEnabled: boolean): Promise<Finding[]> {
  const findings: Finding[] = [];
  await page.setViewportSize({ width: 1280, height: 900 });
  const axePage = await axePageFor(page, javaScriptEnabled);
  await axePage.emulateMedia({ colorScheme: 'dark' });
  for (const path of paths) {
    if (axePage === page) await open(page, path, javaScriptEnabled);
    else await axePage.goto(path);
    findings.push(...(await axeFindings(axePage, `${path} (dark)`)));
  }
  if (axePage !== page) await axePage.context().close();
  else await page.emulateMedia({ colorScheme: 'light' });
  return findings;
}

/**
 * Visits each path at each width: screenshots (when asked), axe, fits-the-phone, no shift; then
 * axe on each in the dark theme.
 */
async function checkPages(
  page: Page,
  paths: string[],
  javaScriptEnabled: boolean,
  testInfo: TestInfo,
  screenshots: boolean,
): Promise<Finding[]> {
  const findings: Finding[] = [];
  const project = testInfo.project.name;
  for (const width of screenshots ? WIDTHS : [1280]) {
    await page.setViewportSize({ width, height: 900 });
    const axePage = await axePageFor(page, javaScriptEnabled);
    for (const path of paths) {
      const response = await open(page, path, javaScriptEnabled);
      expect(response?.status(), `GET ${path}`).toBeLessThan(400);
      if (screenshots) {
        await page.screenshot({ path: testInfo.outputPath(`${fileName(path)}-${width}-${project}.png`), fullPage: true });
      }
      if (axePage !== page) await axePage.goto(path);
      findings.push(...(await axeFindings(axePage, `${path} @${width}`)));
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      if (overflow > 1) findings.push(`${path} @${width}: ${overflow}px wider than the screen`);
      if (javaScriptEnabled) {
        const shift = await layoutShift(page);
        if (shift > 0.02) findings.push(`${path} @${width}: layout shift ${shift.toFixed(3)}`);
      }
    }
    if (axePage !== page) await axePage.context().close();
  }
  findings.push(...(await darkFindings(page, paths, javaScriptEnabled)));
  return findings;
}

test.describe('look and feel', () => {
  test('every customer-facing page: screenshots at 1280 and 375 px, axe in both themes, no overflow, no shift', async ({
    page,
    javaScriptEnabled,
  }, testInfo) => {
    test.setTimeout(360_000);
    const findings = await checkPages(page, ANONYMOUS, javaScriptEnabled, testInfo, true);
    await subscribedCustomer(page, 'look', 'business', 'Business', javaScriptEnabled);
    findings.push(...(await checkPages(page, CUSTOMER, javaScriptEnabled, testInfo, true)));

    if (process.env.README_SCREENSHOTS && javaScriptEnabled) {
      mkdirSync('../docs/screenshots', { recursive: true });
      await page.setViewportSize({ width: 1280, height: 900 });
      for (const [path, name] of [
        ['/pricing?interval=year', 'pricing'],
        ['/account', 'account'],
      ]) {
        await open(page, path, javaScriptEnabled);
        await page.screenshot({ path: `../docs/screenshots/${name}.png`, fullPage: true });
      }
    }
    expect(findings).toEqual([]);
  });

  test('every admin page passes axe, in both themes', async ({ page, javaScriptEnabled }, testInfo) => {
    test.setTimeout(240_000);
    await submitLogIn(page, ADMIN_EMAIL, ADMIN_PASSWORD, javaScriptEnabled);
    await expect(page.getByRole('link', { name: 'Admin', exact: true })).toBeVisible();
    expect(await checkPages(page, ADMIN, javaScriptEnabled, testInfo, false)).toEqual([]);
  });

  test('the billing period switches from the keyboard alone', async ({ page, javaScriptEnabled }) => {
    await open(page, '/pricing', javaScriptEnabled);
    const yearly = page.getByRole('link', { name: /^Yearly/ });
    // Tab from the top of the page until the Yearly segment has focus, then press Enter.
    for (let i = 0; i < 20 && !(await yearly.evaluate((el) => el === document.activeElement)); i++) {
      await page.keyboard.press('Tab');
    }
    await expect(yearly).toBeFocused();
    await page.keyboard.press('Enter');
    await expect(page).toHaveURL(/interval=year/);
    await expect(page.getByRole('link', { name: /^Yearly/ })).toHaveAttribute('aria-current', 'page');
  });
});

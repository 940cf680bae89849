import { randomBytes } from 'node:crypto';
import { test as base, expect, type Browser, type Page, type Response } from '@playwright/test';

/**
 * Playwright's `test`, plus a check around every test: the page raises no uncaught error (a panic
 * in the WebAssembly app, a failed hydration), logs no console error, and every asset it loads
 * (script, stylesheet, WebAssembly, image, font) loads. Documents and fetches may answer 4xx/5xx:
 * a 403 page or a refused form is what some tests expect. Tests import `test` and `expect` here.
 */
export const test = base.extend<{ pageErrors: void }>({
  pageErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
      page.on('console', (message) => {
        // Chromium logs every >= 400 response as "Failed to load resource"; those are judged
        // by the response handler below instead.
        if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
          errors.push(`console.error: ${message.text()}`);
        }
      });
      page.on('response', (response) => {
        const kind = response.request().resourceType();
        if (response.status() >= 400 && !['document', 'fetch', 'xhr'].includes(kind)) {
          errors.push(`${response.status()} for ${kind} ${response.url()}`);
        }
      });
      await use();
      expect(errors, 'errors in the browser').toEqual([]);
    },
    { auto: true },
  ],
});
export { expect };

/** The generic log-in error (the same for a wrong password and an unknown email). */
export const LOGIN_ERROR = 'Invalid email or password.';

/** A password that satisfies the 8–128 character rule. */
export const PASSWORD = 'correct horse battery staple';

/** scripts/test passes the admin it created; these are scripts/run's printed defaults. */
export const ADMIN_EMAIL = process.env.ADMIN_EMAIL ?? 'admin@tollgate.local';
export const ADMIN_PASSWORD = process.env.ADMIN_PASSWORD ?? 'tollgate-dev-admin';

const RUN = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

/** An address no other test (nor an earlier run against the same database) has used. */
export function uniqueEmail(tag: string): string {
  return `${tag}-${RUN}-${randomBytes(4).toString('hex')}@example.com`;
}

/**
 * Opens a page. With JavaScript on, also waits until the WebAssembly bundle has loaded and the
 * network has gone quiet, so the test drives the hydrated app rather than racing it.
 */
export async function open(page: Page, path: string, javaScriptEnabled: boolean): Promise<Response | null> {
  const response = await page.goto(path);
  if (javaScriptEnabled) {
    await page.waitForLoadState('networkidle');
    // The app's WebAssembly really loaded (so this run tests the hydrated app).
    const wasmLoaded = await page.evaluate(() =>
      performance.getEntriesByType('resource').some((entry) => /\.wasm(\?|$)/.test(entry.name)),
    );
    expect(wasmLoaded, `the WebAssembly bundle loaded on ${path}`).toBe(true);
  }
  return response;
}

/**
 * Turns off the browser's own constraint validation (type="email", minlength, required) on the
 * form holding `button`, so the server's validation is what gets tested.
 */
export async function skipBrowserValidation(page: Page, buttonName: string): Promise<void> {
  await page
    .getByRole('button', { name: buttonName, exact: true })
    .evaluate((button) => (button as HTMLButtonElement).setAttribute('formnovalidate', ''));
}

async function fillCredentials(page: Page, email: string, password: string): Promise<void> {
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
}

export async function submitSignUp(
  page: Page,
  email: string,
  password: string,
  javaScriptEnabled: boolean,
  options: { validateInBrowser?: boolean } = {},
): Promise<void> {
  await open(page, '/signup', javaScriptEnabled);
  await fillCredentials(page, email, password);
  if (options.validateInBrowser === false) {
    await skipBrowserValidation(page, 'Sign up');
  }
  await page.getByRole('button', { name: 'Sign up', exact: true }).click();
}

export async function submitLogIn(
  page: Page,
  email: string,
  password: string,
  javaScriptEnabled: boolean,
): Promise<void> {
  await open(page, '/login', javaScriptEnabled);
  await fillCredentials(page, email, password);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
}

/** What sign-up says for every address, new or taken (it logs no one in). */
export const SIGNED_UP = 'Check your inbox: we sent a message to confirm your address.';

/**
 * Signs up, logs in, and confirms the address through the link mailed to it (read from the dev
 * mailbox, as the admin sees it): the user ends on /account, allowed to pay.
 */
export async function signUp(page: Page, email: string, javaScriptEnabled: boolean): Promise<void> {
  await submitSignUp(page, email, PASSWORD, javaScriptEnabled);
  await expectSignedUp(page);
  await submitLogIn(page, email, PASSWORD, javaScriptEnabled);
  await expectOnAccount(page, email);
  await open(page, await mailedLink(page, email, '/verify-email'), javaScriptEnabled);
  await expect(page.getByRole('status')).toContainText('Your email address is confirmed.');
  await open(page, '/account', javaScriptEnabled);
  await expectOnAccount(page, email);
}

/** The sign-up form's answer: /login with the same notice for every address. */
export async function expectSignedUp(page: Page): Promise<void> {
  await expectOnLogin(page);
  await expect(page.getByRole('status')).toContainText(SIGNED_UP);
}

/** The newest one-time link (`/verify-email`, `/reset-password`) mailed to `email`, as a path. */
export async function mailedLink(page: Page, email: string, path: string): Promise<string> {
  const context = await page.context().browser()!.newContext();
  try {
    const admin = await context.newPage();
    await submitLogIn(admin, ADMIN_EMAIL, ADMIN_PASSWORD, false);
    // Let the log-in finish: navigating away at once would abort it.
    await expect(admin).toHaveURL(/\/(account|admin)/);
    // The mail sender stores queued mail every couple of seconds: reload until it is there.
    const mail = admin.locator('ul.mailbox li', { hasText: email }).locator('pre.admin-mail-body');
    for (let attempt = 0; attempt < 40; attempt++) {
      await admin.goto('/admin/mail');
      if ((await mail.count()) > 0) break;
      await admin.waitForTimeout(250);
    }
    const body = await mail.first().textContent();
    const link = body?.match(new RegExp(`${path}\\?token=[A-Za-z0-9_-]+`))?.[0];
    expect(link, `a ${path} link mailed to ${email}`).toBeTruthy();
    return link!;
  } finally {
    await context.close();
  }
}

export async function expectOnAccount(page: Page, email: string): Promise<void> {
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByRole('main').getByText(email)).toBeVisible();
}

export async function expectOnLogin(page: Page): Promise<void> {
  await expect(page).toHaveURL(/\/login(\?.*)?$/);
  await expect(page.getByRole('button', { name: 'Log in', exact: true })).toBeVisible();
}

export function nav(page: Page) {
  return page.getByRole('navigation');
}

export function navLink(page: Page, name: string) {
  return nav(page).getByRole('link', { name, exact: true });
}

/** The embedded sandbox's base URL: scripts/test reads it from the server's log. */
export function sandboxUrl(): string {
  const url = process.env.SANDBOX_URL;
  if (!url) {
    throw new Error('SANDBOX_URL is not set: run the browser tests through scripts/test');
  }
  return url;
}

/** Pays on the sandbox's hosted Checkout page (Stripe's 4242 test card) with `button`. */
export async function payOnCheckout(page: Page, button: string): Promise<void> {
  await expect(page.getByLabel('Card number')).toBeVisible();
  await page.getByLabel('Card number').fill('4242 4242 4242 4242');
  await page.getByLabel('Expiry').fill('12 / 34');
  await page.getByLabel('CVC').fill('123');
  await page.getByRole('button', { name: button, exact: true }).click();
}

/** Issues a platform API key on /admin/usage as `admin` (signed in) and reads it from the notice. */
export async function issuePlatformKey(admin: Page, label: string, javaScriptEnabled: boolean): Promise<string> {
  await open(admin, '/admin/usage', javaScriptEnabled);
  await admin.getByLabel('Label').fill(label);
  await admin.getByRole('button', { name: 'Issue key', exact: true }).click();
  const notice = admin.getByRole('status').filter({ hasText: 'tg_' });
  await expect(notice).toBeVisible();
  const key = /(tg_\w+_[0-9a-f]{16}_[\w-]+)/.exec((await notice.textContent()) ?? '')?.[1];
  expect(key, 'the key in the notice').toBeTruthy();
  return key as string;
}

/** Signs up a new customer and subscribes them to `plan` (its card's name `name`) through Checkout. */
export async function subscribedCustomer(page: Page, tag: string, plan: string, name: string, javaScriptEnabled: boolean): Promise<string> {
  const email = uniqueEmail(tag);
  await signUp(page, email, javaScriptEnabled);
  await open(page, '/pricing', javaScriptEnabled);
  await page.locator(`article[data-plan="${plan}"]`).getByRole('button', { name: `Subscribe to ${name}` }).click();
  await payOnCheckout(page, 'Subscribe');
  await expect(page.locator('.notice')).toHaveText(`Your ${name} plan is active.`);
  return email;
}

/** A new page in its own browser context (its own log-in). */
export async function newPage(browser: Browser, javaScriptEnabled: boolean): Promise<Page> {
  const context = await browser.newContext({ javaScriptEnabled });
  return context.newPage();
}

/**
 * Signs a new user up, makes them a creator through Stripe's hosted onboarding, and publishes
 * `title` at $25.00; returns their email.
 */
export async function creatorSelling(page: Page, title: string, javaScriptEnabled: boolean): Promise<string> {
  const email = uniqueEmail('seller');
  await signUp(page, email, javaScriptEnabled);
  await open(page, '/creator', javaScriptEnabled);
  await page.getByRole('button', { name: 'Become a creator', exact: true }).click();
  await expect(page.getByRole('heading', { name: /Set up payouts for/ })).toBeVisible();
  await page.getByRole('button', { name: 'Agree and submit', exact: true }).click();
  await expect(page).toHaveURL(/\/creator$/);
  await expect(page.locator('[data-creator-state]')).toHaveAttribute('data-creator-state', 'enabled');

  await page.getByLabel('Title').fill(title);
  await page.getByLabel('Description').fill('A field guide.');
  await page.getByLabel('Price (USD)').fill('25.00');
  await page.getByLabel('What buyers get').fill(`The secret of ${title}.`);
  await page.getByRole('button', { name: 'Save draft', exact: true }).click();
  const product = page.locator('.creator-product').filter({ hasText: title });
  await expect(product).toHaveAttribute('data-published', 'false');
  await product.getByRole('button', { name: 'Publish', exact: true }).click();
  await expect(page.locator('.creator-product').filter({ hasText: title })).toHaveAttribute('data-published', 'true');
  return email;
}

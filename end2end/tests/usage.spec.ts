import { type Page } from '@playwright/test';
import { expect, test, open, signUp, submitLogIn, uniqueEmail, ADMIN_EMAIL, ADMIN_PASSWORD } from './helpers';

/** Pays on the sandbox's hosted Checkout page (Stripe's 4242 test card). */
async function payOnCheckout(page: Page): Promise<void> {
  await expect(page.getByLabel('Card number')).toBeVisible();
  await page.getByLabel('Card number').fill('4242 4242 4242 4242');
  await page.getByLabel('Expiry').fill('12 / 34');
  await page.getByLabel('CVC').fill('123');
  await page.getByRole('button', { name: 'Subscribe', exact: true }).click();
}

test.describe('usage-based billing', () => {
  test('subscribe to the hybrid plan, report usage through the API, see it on /account', async ({
    page,
    browser,
    request,
    javaScriptEnabled,
  }) => {
    const email = uniqueEmail('usage');
    await signUp(page, email, javaScriptEnabled);
    await open(page, '/pricing', javaScriptEnabled);
    await page.locator('article[data-plan="scale"]').getByRole('button', { name: 'Subscribe to Scale' }).click();
    await payOnCheckout(page);
    await expect(page.locator('.notice')).toHaveText('Your Scale plan is active.');

    // The admin issues a platform key (in a context of its own); it is shown once.
    const adminContext = await browser.newContext({ javaScriptEnabled });
    const admin = await adminContext.newPage();
    await submitLogIn(admin, ADMIN_EMAIL, ADMIN_PASSWORD, javaScriptEnabled);
    await open(admin, '/admin/usage', javaScriptEnabled);
    await admin.getByLabel('Label').fill(`e2e ${email}`);
    await admin.getByRole('button', { name: 'Issue key', exact: true }).click();
    const notice = admin.getByRole('status').filter({ hasText: 'tg_' });
    await expect(notice).toBeVisible();
    const key = /(tg_\w+_[0-9a-f]{16}_[\w-]+)/.exec((await notice.textContent()) ?? '')?.[1];
    expect(key, 'the key in the notice').toBeTruthy();

    const body = { meter: 'api-calls', value: 10_500, identifier: `e2e-${email}`, customer: email };
    const first = await request.post('/api/v1/usage', { headers: { authorization: `Bearer ${key}` }, data: body });
    expect(first.status()).toBe(202);
    const again = await request.post('/api/v1/usage', { headers: { authorization: `Bearer ${key}` }, data: body });
    expect(again.status()).toBe(200);
    expect((await again.json()).status).toBe('duplicate');
    const anonymous = await request.post('/api/v1/usage', { data: body });
    expect(anonymous.status()).toBe(401);

    await open(page, '/account', javaScriptEnabled);
    await expect(page.getByRole('heading', { name: 'Usage this period' })).toBeVisible();
    await expect(page.locator('tr[data-meter="api-calls"] .usage-used')).toHaveText('10500');
    await expect(page.locator('tr[data-meter="api-calls"] .usage-overage')).toHaveText('$5.00');
    await expect(page.locator('.usage-projected')).toHaveText('$54.00');

    // The admin page shows the customer among the consumers.
    await open(admin, '/admin/usage', javaScriptEnabled);
    await expect(admin.getByRole('link', { name: email })).toBeVisible();
    await adminContext.close();
  });
});

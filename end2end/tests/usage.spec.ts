import { expect, test, open, subscribedCustomer, issuePlatformKey, submitLogIn, expectOnAccount, ADMIN_EMAIL, ADMIN_PASSWORD } from './helpers';

test.describe('usage-based billing', () => {
  test('subscribe to the hybrid plan, report usage through the API, see it on /account', async ({
    page,
    browser,
    request,
    javaScriptEnabled,
  }) => {
    const email = await subscribedCustomer(page, 'usage', 'scale', 'Scale', javaScriptEnabled);

    // The admin issues a platform key (in a context of its own); it is shown once.
    const adminContext = await browser.newContext({ javaScriptEnabled });
    const admin = await adminContext.newPage();
    await submitLogIn(admin, ADMIN_EMAIL, ADMIN_PASSWORD, javaScriptEnabled);
    await expectOnAccount(admin, ADMIN_EMAIL);
    const key = await issuePlatformKey(admin, `e2e ${email}`, javaScriptEnabled);

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
    // The projection is Stripe's preview: it has the overage once the worker has sent the event.
    await expect(async () => {
      await open(page, '/account', javaScriptEnabled);
      await expect(page.locator('.usage-projected')).toHaveText('$54.00', { timeout: 1_000 });
    }).toPass({ timeout: 30_000 });

    // The admin page shows the customer among the consumers.
    await open(admin, '/admin/usage', javaScriptEnabled);
    await expect(admin.getByRole('link', { name: email })).toBeVisible();
    await adminContext.close();
  });
});

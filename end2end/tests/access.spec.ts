import {
  expect,
  test,
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  expectOnAccount,
  expectOnLogin,
  navLink,
  open,
  signUp,
  submitLogIn,
  uniqueEmail,
} from './helpers';

test.describe('public pages', () => {
  for (const path of ['/', '/pricing', '/signup', '/login']) {
    test(`${path} renders with the navigation for a visitor`, async ({ page, javaScriptEnabled }) => {
      const response = await open(page, path, javaScriptEnabled);
      expect(response?.status()).toBe(200);
      await expect(navLink(page, 'Pricing')).toBeVisible();
      await expect(navLink(page, 'Log in')).toBeVisible();
      await expect(navLink(page, 'Admin')).toHaveCount(0);
    });
  }

  test('/healthz answers 200', async ({ request }) => {
    const response = await request.get('/healthz');
    expect(response.status()).toBe(200);
  });
});

test.describe('anonymous visitors are sent to /login', () => {
  for (const path of ['/account', '/admin']) {
    test(`${path} redirects to /login`, async ({ page, request, javaScriptEnabled }) => {
      // A real HTTP redirect, so it works with no JavaScript and for any client.
      const raw = await request.get(path, { maxRedirects: 0 });
      expect(raw.status(), `status of GET ${path}`).toBeGreaterThanOrEqual(300);
      expect(raw.status(), `status of GET ${path}`).toBeLessThan(400);
      expect(raw.headers()['location'] ?? '').toMatch(/\/login/);

      await open(page, path, javaScriptEnabled);
      await expectOnLogin(page);
    });
  }
});

test.describe('the admin area', () => {
  test('a customer gets 403 Forbidden on /admin and sees no Admin link', async ({
    page,
    javaScriptEnabled,
  }) => {
    const email = uniqueEmail('customer');
    await signUp(page, email, javaScriptEnabled);
    await expect(navLink(page, 'Account')).toBeVisible();
    await expect(navLink(page, 'Admin')).toHaveCount(0);

    const response = await open(page, '/admin', javaScriptEnabled);
    expect(response?.status()).toBe(403);
    await expect(page).toHaveURL(/\/admin$/);
    await expect(page.getByRole('heading', { level: 1 })).toContainText(/forbidden/i);
    await expect(navLink(page, 'Admin')).toHaveCount(0);
  });

  test('the admin logs in, sees the Admin link and reaches /admin', async ({
    page,
    javaScriptEnabled,
  }) => {
    await submitLogIn(page, ADMIN_EMAIL, ADMIN_PASSWORD, javaScriptEnabled);
    await expectOnAccount(page, ADMIN_EMAIL);

    const adminLink = navLink(page, 'Admin');
    await expect(adminLink).toBeVisible();
    await adminLink.click();
    await expect(page).toHaveURL(/\/admin$/);
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    await expect(page.getByRole('heading', { level: 1 })).not.toContainText(/forbidden/i);

    // And on a full page load, the server answers 200 (not 403, not a redirect).
    const response = await open(page, '/admin', javaScriptEnabled);
    expect(response?.status()).toBe(200);
    await expect(page).toHaveURL(/\/admin$/);
    await expect(page.getByRole('heading', { level: 1 })).not.toContainText(/forbidden/i);
  });
});

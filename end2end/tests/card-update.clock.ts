// Runs in the `clock` project (it moves the shared sandbox's clock past a trial): the first
// renewal fails on a card that declines, the account's banner leads to /billing/card, where a new
// card saved with a SetupIntent (the Payment Element in setup mode) pays the open invoice at once.
import { expect, test, open, sandboxUrl, signUp, uniqueEmail } from './helpers';

test('a new card saved on the app\u2019s page pays the invoice a failed renewal left open', async ({ browser, request }) => {
  test.setTimeout(120_000);
  const context = await browser.newContext({ javaScriptEnabled: true });
  const page = await context.newPage();
  await signUp(page, uniqueEmail('card-update'), true);
  await open(page, '/pricing', true);
  // Pro's trial: Checkout saves the card without charging it; it declines the first renewal.
  await page.locator('article[data-plan="pro"]').getByRole('button', { name: 'Subscribe to Pro' }).click();
  await expect(page.getByLabel('Card number')).toBeVisible();
  await page.getByLabel('Card number').fill('4000 0000 0000 0341');
  await page.getByLabel('Expiry').fill('12 / 34');
  await page.getByLabel('CVC').fill('123');
  await page.getByRole('button', { name: /^(Start trial|Subscribe)$/ }).click();
  await expect(page.locator('.notice')).toHaveText('Your Pro trial has started.');

  const advanced = await request.post(`${sandboxUrl()}/_sandbox/clock/advance`, { data: { days: 15 } });
  expect(advanced.ok()).toBe(true);
  const update = page.getByRole('link', { name: 'Update your card' });
  await expect(async () => {
    await open(page, '/account', true);
    await expect(update).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 30_000 });
  await update.click();
  await expect(page.getByText('Your new card pays your open invoice of $29.00 now')).toBeVisible();
  await page.getByLabel('Card number').fill('4242 4242 4242 4242');
  await page.getByLabel('Expiration').fill('12 / 34');
  await page.getByLabel('CVC').fill('123');
  await page.getByLabel('ZIP').fill('10001');
  await page.getByRole('button', { name: 'Save card' }).click();
  await expect(page.getByText('Your card is saved and your open invoice of $29.00 is paid.')).toBeVisible({
    timeout: 15_000,
  });
  // The subscription is active again once the webhooks are applied: the banner goes.
  await expect(async () => {
    await open(page, '/account', true);
    await expect(page.getByRole('link', { name: 'Update your card' })).toHaveCount(0, { timeout: 1_000 });
  }).toPass({ timeout: 30_000 });
  await context.close();
});

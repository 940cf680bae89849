// Paying on the app's own pages with Stripe.js (the sandbox's stand-in): a one-time item with the
// Payment Element (4242, a decline then a retry, 3-D Secure completed and failed), a plan with the
// Payment Element and with embedded Checkout, a creator's product with the Payment Element;
// without JavaScript the pages say the form needs it and offer Stripe's hosted page instead.
import { randomBytes } from 'node:crypto';
import { expect, test, creatorSelling, newPage, open, signUp, uniqueEmail } from './helpers';
import type { Page } from '@playwright/test';

async function typeCard(page: Page, number: string): Promise<void> {
  await page.getByLabel('Card number').fill(number);
  await page.getByLabel('Expiration').fill('12 / 34');
  await page.getByLabel('CVC').fill('123');
  await page.getByLabel('ZIP').fill('10001');
}

test.describe('with JavaScript', () => {
  test.skip(({ javaScriptEnabled }) => !javaScriptEnabled, 'Stripe.js needs JavaScript');

  test('a one-time item is paid with the Payment Element, after a declined card', async ({ page }) => {
    await signUp(page, uniqueEmail('element-buy'), true);
    await open(page, '/buy/onboarding', true);
    await expect(page.getByText('Paying on this page needs JavaScript.')).toBeHidden();
    await typeCard(page, '4000 0000 0000 0002');
    await page.getByRole('button', { name: 'Pay $199.00' }).click();
    await expect(page.locator('#payment-form .alert')).toHaveText('Your card was declined.');
    await expect(page).toHaveURL(/\/buy\/onboarding$/);
    await typeCard(page, '4242 4242 4242 4242');
    await page.getByRole('button', { name: 'Pay $199.00' }).click();
    await expect(page.getByText('Thank you: your purchase is complete ($199.00).')).toBeVisible({ timeout: 15_000 });
    await open(page, '/pricing', true);
    await expect(page.locator('article[data-item="onboarding"]').getByText('Purchased')).toBeVisible();
  });

  for (const [answer, outcome] of [
    ['Complete', 'Thank you: your purchase is complete ($199.00).'],
    ['Fail', 'Nothing was charged.'],
  ] as const) {
    test(`3-D Secure on the Payment Element: ${answer}`, async ({ page }) => {
      await signUp(page, uniqueEmail(`element-3ds-${answer.toLowerCase()}`), true);
      await open(page, '/buy/onboarding', true);
      await typeCard(page, '4000 0027 6000 3184');
      await page.getByRole('button', { name: 'Pay $199.00' }).click();
      await page.getByRole('button', { name: answer }).click();
      await expect(page.getByText(outcome)).toBeVisible({ timeout: 15_000 });
      await open(page, '/pricing', true);
      const purchased = page.locator('article[data-item="onboarding"]').getByText('Purchased');
      await expect(purchased).toHaveCount(answer === 'Complete' ? 1 : 0);
    });
  }

  test('a plan is bought with the Payment Element', async ({ page }) => {
    await signUp(page, uniqueEmail('element-plan'), true);
    // Business has no trial: the first invoice is paid now.
    await open(page, '/subscribe/business?interval=month&ui=elements', true);
    await typeCard(page, '4242 4242 4242 4242');
    await page.getByRole('button', { name: /^Subscribe for / }).click();
    await expect(page.getByText('Your Business plan is active.')).toBeVisible({ timeout: 15_000 });
  });

  test('a creator\u2019s product is paid on the app\u2019s page and lands in the library', async ({ page, browser }) => {
    test.setTimeout(120_000);
    const title = `Element guide ${randomBytes(3).toString('hex')}`;
    await creatorSelling(page, title, true);
    const buyer = await newPage(browser, true);
    await signUp(buyer, uniqueEmail('element-product'), true);
    await open(buyer, '/store', true);
    const slug = await buyer.locator('li.product-card').filter({ hasText: title }).getAttribute('data-product');
    await open(buyer, `/p/${slug}/pay`, true);
    await typeCard(buyer, '4242 4242 4242 4242');
    await buyer.getByRole('button', { name: 'Pay $25.00' }).click();
    await expect(buyer).toHaveURL(/\/library\?payment_intent=pi_/, { timeout: 15_000 });
    await expect(buyer.locator('.notice')).toHaveText('Thank you: your purchase is in your library.');
    await expect(buyer.getByText(`The secret of ${title}.`)).toBeVisible();
  });

  test('a plan is bought with embedded Checkout', async ({ page }) => {
    await signUp(page, uniqueEmail('embedded-plan'), true);
    await open(page, '/subscribe/business?interval=month&ui=embedded', true);
    const frame = page.frameLocator('iframe[title="Embedded Checkout"]');
    await frame.getByLabel('Card number').fill('4242 4242 4242 4242');
    await frame.getByLabel('Expiry').fill('12 / 34');
    await frame.getByLabel('CVC').fill('123');
    await frame.getByRole('button', { name: 'Subscribe', exact: true }).click();
    await expect(page).toHaveURL(/\/checkout\/success\?session_id=cs_/, { timeout: 15_000 });
    await expect(page.getByText('Your Business plan is active.')).toBeVisible();
  });
});

test.describe('without JavaScript', () => {
  test.skip(({ javaScriptEnabled }) => javaScriptEnabled, 'the page as plain HTML');

  test('the payment pages offer Stripe\u2019s hosted page instead', async ({ page }) => {
    await signUp(page, uniqueEmail('element-nojs'), false);
    await open(page, '/buy/onboarding', false);
    await expect(page.getByText('Paying on this page needs JavaScript.')).toBeVisible();
    await expect(page.getByRole('button', { name: 'Pay $199.00' })).toBeHidden();
    await open(page, '/subscribe/business?interval=month&ui=elements', false);
    await expect(page.getByText('Paying on this page needs JavaScript.')).toBeVisible();
    await open(page, '/buy/onboarding', false);
    await page.getByRole('button', { name: 'Pay on Stripe\u2019s page' }).click();
    await expect(page.getByLabel('Card number')).toBeVisible();
    await page.getByLabel('Card number').fill('4242 4242 4242 4242');
    await page.getByLabel('Expiry').fill('12 / 34');
    await page.getByLabel('CVC').fill('123');
    await page.getByRole('button', { name: 'Pay', exact: true }).click();
    await expect(page.getByText('Thank you: your purchase is complete.')).toBeVisible();
  });
});

import {
  expect,
  test,
  LOGIN_ERROR,
  PASSWORD,
  expectOnAccount,
  expectOnLogin,
  expectSignedUp,
  navLink,
  nav,
  open,
  signUp,
  submitLogIn,
  submitSignUp,
  uniqueEmail,
} from './helpers';

test.describe('sign up, log out, log in', () => {
  test('a new customer signs up, lands on /account, logs out and logs back in', async ({
    page,
    javaScriptEnabled,
  }) => {
    const email = uniqueEmail('journey');

    await signUp(page, email, javaScriptEnabled);
    await expect(navLink(page, 'Account')).toBeVisible();
    await expect(nav(page).getByRole('button', { name: 'Log out', exact: true })).toBeVisible();
    await expect(navLink(page, 'Log in')).toHaveCount(0);

    await nav(page).getByRole('button', { name: 'Log out', exact: true }).click();
    await expect(navLink(page, 'Log in')).toBeVisible();
    await expect(nav(page).getByRole('button', { name: 'Log out', exact: true })).toHaveCount(0);
    // The session is really gone, not just hidden.
    await open(page, '/account', javaScriptEnabled);
    await expectOnLogin(page);

    await submitLogIn(page, email, PASSWORD, javaScriptEnabled);
    await expectOnAccount(page, email);
  });

  test('log in treats the email case-insensitively', async ({ page, context, javaScriptEnabled }) => {
    const email = uniqueEmail('case');
    await signUp(page, email, javaScriptEnabled);
    await context.clearCookies();

    await submitLogIn(page, email.toUpperCase(), PASSWORD, javaScriptEnabled);
    await expectOnAccount(page, email);
  });

  test('a password of exactly 8 characters is accepted', async ({ page, javaScriptEnabled }) => {
    const email = uniqueEmail('eight');
    await submitSignUp(page, email, '8chars!!', javaScriptEnabled);
    await expectSignedUp(page);
    await submitLogIn(page, email, '8chars!!', javaScriptEnabled);
    await expectOnAccount(page, email);
  });
});

test.describe('log-in errors', () => {
  test('a wrong password shows the generic error', async ({ page, context, javaScriptEnabled }) => {
    const email = uniqueEmail('wrongpw');
    await signUp(page, email, javaScriptEnabled);
    await context.clearCookies();

    await submitLogIn(page, email, 'not the right password', javaScriptEnabled);
    await expect(page.getByRole('alert')).toContainText(LOGIN_ERROR);
    await expect(page).toHaveURL(/\/login/);
    await open(page, '/account', javaScriptEnabled);
    await expectOnLogin(page);
  });

  test('an unknown email shows the same message as a wrong password', async ({
    page,
    context,
    javaScriptEnabled,
  }) => {
    const known = uniqueEmail('known');
    await signUp(page, known, javaScriptEnabled);
    await context.clearCookies();

    await submitLogIn(page, known, 'not the right password', javaScriptEnabled);
    const alert = page.getByRole('alert');
    await expect(alert).toContainText(LOGIN_ERROR);
    const wrongPasswordText = (await alert.innerText()).trim();

    await submitLogIn(page, uniqueEmail('nobody'), PASSWORD, javaScriptEnabled);
    await expect(page.getByRole('alert')).toContainText(LOGIN_ERROR);
    // Word for word the same: the page must not tell whether an account exists.
    expect((await page.getByRole('alert').innerText()).trim()).toBe(wrongPasswordText);
    await expect(page).toHaveURL(/\/login/);
  });
});

test.describe('bad sign-ups are refused', () => {
  // The browser's own checks (type="email", minlength) are switched off for these submissions,
  // so what is tested is the server refusing them.
  test('an invalid email', async ({ page, javaScriptEnabled }) => {
    await submitSignUp(page, `not-an-email-${Date.now()}`, PASSWORD, javaScriptEnabled, {
      validateInBrowser: false,
    });
    await expect(page.getByRole('alert')).toBeVisible();
    await expect(page.getByRole('alert')).toContainText(/email/i);
    await expect(page).not.toHaveURL(/\/account/);
  });

  test('a password shorter than 8 characters', async ({ page, javaScriptEnabled }) => {
    const email = uniqueEmail('shortpw');
    await submitSignUp(page, email, '7chars!', javaScriptEnabled, { validateInBrowser: false });
    await expect(page.getByRole('alert')).toBeVisible();
    await expect(page.getByRole('alert')).toContainText(/password/i);
    await expect(page).not.toHaveURL(/\/account/);
    // No account was made: logging in with that password fails.
    await submitLogIn(page, email, '7chars!', javaScriptEnabled);
    await expect(page.getByRole('alert')).toContainText(LOGIN_ERROR);
  });

  test('an email that is already registered, in any letter case', async ({
    page,
    context,
    javaScriptEnabled,
  }) => {
    const email = uniqueEmail('dup');
    await signUp(page, email, javaScriptEnabled);
    await context.clearCookies();

    // The answer a new address gets: nothing tells the address is taken, no one is logged in.
    await submitSignUp(page, email, 'another password', javaScriptEnabled);
    await expectSignedUp(page);
    await expect(page.getByRole('alert')).toHaveCount(0);

    await submitSignUp(page, email.toUpperCase(), 'another password', javaScriptEnabled);
    await expectSignedUp(page);
    await open(page, '/account', javaScriptEnabled);
    await expectOnLogin(page);

    // The original password still works; the sign-ups changed nothing.
    await submitLogIn(page, email, PASSWORD, javaScriptEnabled);
    await expectOnAccount(page, email);
  });
});

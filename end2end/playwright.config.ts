import { defineConfig, devices } from '@playwright/test';

// Browser tests run against an already-running `tollgate serve` (scripts/test starts one with a
// fresh SQLite database and sets BASE_URL, ADMIN_EMAIL and ADMIN_PASSWORD). Playwright never
// downloads a browser here: it drives Debian's chromium (override with CHROMIUM_PATH).
const baseURL = process.env.BASE_URL ?? 'http://127.0.0.1:3000';
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const isCI = !!process.env.CI;

const chromium = {
  ...devices['Desktop Chrome'],
  launchOptions: {
    executablePath,
    // --headless etc.: the machine has no display and no network but loopback; without the
    // background-networking flags Chromium keeps trying (and failing) to reach Google.
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
  },
};

export default defineConfig({
  testDir: './tests',
  forbidOnly: isCI,
  // scripts/test allows one retry (E2E_RETRIES=1) and names every test that needed it under its
  // summary: a flaky test is reported, not hidden, and does not turn main red on its own.
  retries: Number(process.env.E2E_RETRIES ?? 0),
  // Two cores: the server, Chromium and the test runner share them.
  workers: 2,
  fullyParallel: true,
  // A flow with two browser contexts (a customer and the admin) and Checkout takes 20–35 s
  // when both workers run such flows on the two cores at once.
  timeout: 60_000,
  expect: { timeout: 10_000 },
  // scripts/test asks for a JSON report too, to count results.
  reporter: process.env.E2E_JSON_REPORT
    ? [['list'], ['json', { outputFile: process.env.E2E_JSON_REPORT }]]
    : [['list']],
  outputDir: './test-results',
  use: {
    baseURL,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    actionTimeout: 10_000,
    navigationTimeout: 15_000,
  },
  projects: [
    // The hydrated app: Leptos' WebAssembly takes over the server-rendered page.
    { name: 'js', use: { ...chromium, javaScriptEnabled: true } },
    // Plain HTML: every form must work as an ordinary POST with no JavaScript at all.
    { name: 'no-js', use: { ...chromium, javaScriptEnabled: false } },
    // Tests that move the shared sandbox's clock (`*.clock.ts`) run last, one at a time, once the
    // others are done: a month on renews every other test's subscriptions. Each test sets its
    // contexts' JavaScript itself.
    {
      name: 'clock',
      testMatch: /.*\.clock\.ts/,
      dependencies: ['js', 'no-js'],
      fullyParallel: false,
      // One clock test file at a time: each moves the one sandbox's clock under the others.
      workers: 1,
      use: { ...chromium },
    },
  ],
});

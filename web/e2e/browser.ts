// What the browser tests share: Debian's Chromium (never a downloaded browser) through
// playwright-core, the built web/dist they need, screenshots to test-artifacts/web/ and
// the login form. Not a *.test.ts file, so importing it runs no tests.
import { existsSync, mkdirSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.LIUKE_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
const DIST = new URL('../dist/index.html', import.meta.url);
const ARTIFACTS = new URL('../../test-artifacts/web/', import.meta.url);
/** The password the tests give the users they create. */
export const PASSWORD = 'correct horse battery';

/** Why the browser tests cannot run here, or false when they can. */
export function skipReason(): string | false {
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM}: apt-get install -y chromium (as .ci/run does)`;
  if (!existsSync(DIST)) return 'web/dist is not built: run `npm run build:web` (npm test does it first)';
  return false;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** A fresh context (its own cookies) at 1440×900 in the given locale, and a page in it. */
export async function openPage(browser: Browser, locale: string, timeoutMs: number): Promise<{ ctx: BrowserContext; page: Page }> {
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale });
  const page = await ctx.newPage();
  page.setDefaultTimeout(timeoutMs);
  return { ctx, page };
}

export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: new URL(`${name}.png`, ARTIFACTS).pathname, fullPage: true });
}

const LOGIN_FORM = {
  zh: { email: '邮箱', password: '密码', submit: '登录' },
  en: { email: 'Email', password: 'Password', submit: 'Sign in' },
} as const;

/** Opens the login page and submits it (labels in the page's language); the caller waits for where it lands. */
export async function signIn(page: Page, baseUrl: string, email: string, password: string, lang: keyof typeof LOGIN_FORM = 'zh'): Promise<void> {
  const form = LOGIN_FORM[lang];
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel(form.email).fill(email);
  await page.getByLabel(form.password).fill(password);
  await page.getByRole('button', { name: form.submit }).click();
}

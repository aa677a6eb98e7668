// First page load of the built web app on loopback, in Debian's Chromium:
// navigation timing (responseEnd, DOMContentLoaded, load) for the login page
// with an empty cache, and the signed-in dashboard (first paint of data).
// Target (issue "Product shell"): first load < 1 s.
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { createUser } from '../src/core/users/users.service.ts';
import { openTestStore } from '../src/db/testing.ts';
import { startTestServer } from '../src/server/testing.ts';

const CHROMIUM = process.env.LIUKE_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
const RUNS = 7;

if (!existsSync(new URL('../web/dist/index.html', import.meta.url))) {
  console.error('web/dist is missing: run `npm run build` first');
  process.exit(1);
}
if (!existsSync(CHROMIUM)) {
  console.error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium`);
  process.exit(1);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const store = await openTestStore('pglite');
const srv = await startTestServer(store);
await createUser(store.db, { workspaceId: 1, email: 'bench@example.com', role: 'admin', password: 'bench password 1', actor: 'bench', now: new Date() });
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
try {
  const nav: { ttfb: number; dcl: number; load: number }[] = [];
  const dash: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    // A fresh context each time: empty cache, no cookies — a true first load.
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${srv.url}/login`, { waitUntil: 'load' });
    await page.locator('form input[type=email]').waitFor();
    const t = await page.evaluate(() => {
      const n = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      return { ttfb: n.responseStart, dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd };
    });
    nav.push(t);
    await page.locator('input[type=email]').fill('bench@example.com');
    await page.locator('input[type=password]').fill('bench password 1');
    const t0 = Date.now();
    await page.locator('button[type=submit]').click();
    await page.locator('[data-testid=count-customers]').waitFor();
    dash.push(Date.now() - t0);
    await ctx.close();
  }
  const dcl = median(nav.map((n) => n.dcl));
  const load = median(nav.map((n) => n.load));
  console.log(`web first load (login page, empty cache), median of ${RUNS}:`);
  console.log(`  time to first byte  ${median(nav.map((n) => n.ttfb)).toFixed(1)} ms`);
  console.log(`  DOMContentLoaded    ${dcl.toFixed(1)} ms`);
  console.log(`  load event          ${load.toFixed(1)} ms   (target < 1000 ms: ${load < 1000 ? 'met' : 'MISSED'})`);
  console.log(`sign-in to dashboard with counts, median of ${RUNS}: ${median(dash)} ms`);
} finally {
  await browser.close();
  await srv.close();
  await store.close();
}

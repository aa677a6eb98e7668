// Browser tests: Debian's Chromium (never a downloaded browser) driven by
// playwright-core against a real server on a PGlite store with a few
// customers, serving the built web/dist. Each step saves a screenshot to
// test-artifacts/web/. `npm test` builds the web app before running these.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { openTestStore, type TestStore } from '../../src/db/testing.ts';
import { startTestServer, type TestServer } from '../../src/server/testing.ts';
import { launchChromium, openPage, PASSWORD, shot, signIn, skipReason } from './browser.ts';

/** Three customers; Wang Fang has 61 events and 3 orders so her timeline pages. */
async function seed(store: TestStore): Promise<void> {
  const db = store.db;
  const c = (id: string, name: string, phone: string, email: string, city: string, level: string | null, registered: string) => ({
    workspace_id: 1,
    id,
    name,
    phone,
    email,
    city,
    membership_level: level,
    owner: 'csm_li',
    registered_at: new Date(registered),
    consent: JSON.stringify({ sms: { marketing: true, service: true }, email: { marketing: false, service: true } }),
    attributes: JSON.stringify({ favourite_store: '静安店' }),
  });
  await db
    .insertInto('customers')
    .values([
      c('C1001', '王芳', '13800001111', 'wang.fang@example.com', '上海', '金卡', '2023-03-04T02:00:00Z'),
      c('C1002', '李雷', '13900002222', 'li.lei@example.com', '北京', '银卡', '2023-06-10T02:00:00Z'),
      c('C1003', 'Han Meimei', '13700003333', 'han@example.com', '杭州', null, '2024-01-15T02:00:00Z'),
    ] as never)
    .execute();
  await db
    .insertInto('orders')
    .values(
      [1, 2, 3].map((i) => ({
        workspace_id: 1,
        id: `O-${i}`,
        customer_id: 'C1001',
        ordered_at: new Date(Date.UTC(2024, 0, i * 10, 4)),
        amount: 199 * i,
        store: '静安店',
        channel: 'pos',
      })) as never,
    )
    .execute();
  await db
    .insertInto('events')
    .values(
      Array.from({ length: 61 }, (_, i) => ({
        workspace_id: 1,
        message_id: `m-${i}`,
        customer_id: 'C1001',
        type: i % 2 ? 'page_view' : 'app_open',
        occurred_at: new Date(Date.UTC(2024, 2, 1, 0, i)),
        properties: JSON.stringify({ page: `/p/${i}` }),
      })) as never,
    )
    .execute();
  const stats = await import('../../src/core/customers/customers.stats.ts').catch(() => null);
  await stats?.refreshCustomerStats(db, 1);
}

const reason = skipReason();

describe('web app in Chromium', { skip: reason }, () => {
  let store: TestStore;
  let srv: TestServer;
  let browser: Browser;
  let page: Page;
  let hasCustomers = false;
  let createUser: ((db: TestStore['db'], input: Record<string, unknown>) => Promise<unknown>) | null = null;

  before(async () => {
    store = await openTestStore('pglite');
    await seed(store);
    srv = await startTestServer(store);
    hasCustomers = srv.app.hasRoute({ method: 'GET', url: '/api/customers' });
    const users = await import('../../src/core/users/users.service.ts').catch(() => null);
    if (users && srv.app.hasRoute({ method: 'POST', url: '/api/auth/login' })) {
      createUser = users.createUser as never;
      for (const [email, role] of [
        ['admin@example.com', 'admin'],
        ['viewer@example.com', 'viewer'],
      ] as const) {
        await users.createUser(store.db, { workspaceId: 1, email, role, name: role === 'admin' ? '管理员' : 'Viewer', locale: role === 'admin' ? 'zh-CN' : 'en', password: PASSWORD, actor: 'test', now: new Date() });
      }
    }
    browser = await launchChromium();
    ({ page } = await openPage(browser, 'zh-CN', 10_000));
  });

  after(async () => {
    await browser?.close();
    await srv?.close();
    await store?.close();
  });

  const needAuth = (t: { skip(m: string): void }) => {
    if (!createUser) t.skip('the auth routes (/api/auth/login) and users service are not in this build yet');
    return !createUser;
  };
  const needCustomers = (t: { skip(m: string): void }) => {
    if (needAuth(t)) return true;
    if (!hasCustomers) t.skip('the customer routes (/api/customers) are not in this build yet');
    return !hasCustomers;
  };

  it('sends a signed-out visitor to the login page', async () => {
    await page.goto(`${srv.url}/customers`);
    await page.getByRole('heading', { name: '登录' }).waitFor();
    assert.match(page.url(), /\/login$/);
    await shot(page, '01-login');
  });

  it('says so when the password is wrong, then signs in', async (t) => {
    if (needAuth(t)) return;
    await page.getByLabel('邮箱').fill('admin@example.com');
    await page.getByLabel('密码').fill('wrong password');
    await page.getByRole('button', { name: '登录' }).click();
    await page.getByRole('alert').filter({ hasText: '邮箱或密码错误' }).waitFor();
    await shot(page, '02-login-error');
    await page.getByLabel('密码').fill(PASSWORD);
    await page.getByRole('button', { name: '登录' }).click();
    // Back to the page first asked for.
    await page.getByRole('heading', { name: '客户', exact: true }).waitFor();
    await page.goto(`${srv.url}/`);
    await page.getByRole('heading', { name: '仪表盘' }).waitFor();
    await page.getByTestId('count-customers').filter({ hasText: '3' }).waitFor();
    await page.locator('.chart canvas').waitFor();
    await shot(page, '03-dashboard-zh');
  });

  it('switches between 中文 and English', async (t) => {
    if (needAuth(t)) return;
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'Customers', exact: true }).count(), 1);
    await shot(page, '04-dashboard-en');
    await page.getByRole('button', { name: '中文' }).click();
    await page.getByRole('heading', { name: '仪表盘' }).waitFor();
  });

  it('searches customers and opens one from the keyboard', async (t) => {
    if (needCustomers(t)) return;
    await page.getByRole('link', { name: '客户', exact: true }).click();
    await page.locator('tr[data-id]').first().waitFor();
    assert.equal(await page.locator('tr[data-id]').count(), 3);
    await shot(page, '05-customers');
    await page.getByLabel('搜索客户').fill('王');
    await page.waitForFunction(() => document.querySelectorAll('tr[data-id]').length === 1);
    const row = page.locator('tr[data-id="C1001"]');
    await row.waitFor();
    await shot(page, '06-customers-search');
    await row.focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/customers\/C1001$/);
    await page.getByRole('heading', { name: '王芳' }).waitFor();
    await page.getByTestId('figures').getByText('¥1,194.00').waitFor();
  });

  it('pages the customer timeline with "load more"', async (t) => {
    if (needCustomers(t)) return;
    const items = page.getByTestId('timeline').locator('li');
    await items.first().waitFor();
    assert.equal(await items.count(), 50);
    await shot(page, '07-customer-360');
    await page.getByRole('button', { name: '加载更多' }).click();
    await page.getByText('已显示全部 64 条').waitFor();
    assert.equal(await items.count(), 64);
    // Only orders.
    for (const ty of ['事件', '工单', '问卷']) await page.getByLabel(ty, { exact: true }).uncheck();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=timeline] li').length === 3);
    await shot(page, '08-customer-360-orders');
  });

  it('shows settings to an admin', async (t) => {
    if (needAuth(t)) return;
    await page.goto(`${srv.url}/settings`);
    await page.getByLabel('工作区名称').waitFor();
    await page.getByRole('tab', { name: '用户' }).click();
    await page.getByRole('cell', { name: 'viewer@example.com' }).waitFor();
    await shot(page, '09-settings-users');
  });

  it('shows a viewer the forbidden page for settings', async (t) => {
    if (needAuth(t)) return;
    const { ctx, page: p } = await openPage(browser, 'en-US', 10_000);
    await signIn(p, srv.url, 'viewer@example.com', PASSWORD, 'en');
    await p.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await p.goto(`${srv.url}/settings`);
    await p.getByTestId('forbidden').getByText('Not allowed for your role').waitFor();
    await shot(p, '10-forbidden-viewer');
    await p.goto(`${srv.url}/automations`);
    await p.getByTestId('coming-soon').waitFor();
    await shot(p, '11-coming-soon');
    await ctx.close();
  });

  it('makes a user with a one-time password choose their own first', async (t) => {
    if (needAuth(t)) return;
    const r = (await createUser!(store.db, { workspaceId: 1, email: 'new@example.com', role: 'analyst', actor: 'test', now: new Date() })) as {
      oneTimePassword: string;
    };
    const { ctx, page: p } = await openPage(browser, 'zh-CN', 10_000);
    await signIn(p, srv.url, 'new@example.com', r.oneTimePassword);
    await p.getByRole('heading', { name: '修改密码' }).waitFor();
    await shot(p, '12-must-change-password');
    await p.getByLabel('当前密码').fill(r.oneTimePassword);
    await p.getByLabel('新密码', { exact: true }).fill('my own password 1');
    await p.getByLabel('再次输入新密码').fill('my own password 1');
    await p.getByRole('button', { name: '修改密码' }).click();
    await p.getByRole('heading', { name: '仪表盘' }).waitFor();
    await ctx.close();
  });
});

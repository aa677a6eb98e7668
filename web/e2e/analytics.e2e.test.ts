// Browser tests of the analytics pages: a small demo business, a full
// pipeline run, then the dashboard's KPI board and tiers, the RFM and cohort
// heatmaps, a segment preview from a typed rule, the Run pipeline button (with
// a worker taking the job), Risk, Models and the Customer 360 additions, and the
// churn and scorecard settings taking effect at the next scoring.
// Debian's Chromium through playwright-core; screenshots to test-artifacts/web/.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page, Route } from 'playwright-core';
import { scoreAll } from '../../src/core/churn/scoring.ts';
import { trainChurn } from '../../src/core/churn/training.ts';
import { createDemoBusiness } from '../../src/core/demo/demo.service.ts';
import type { Worker } from '../../src/core/jobs/queue.ts';
import { emptyUnlogged } from '../../src/core/analytics/crash.testing.ts';
import { queueRunsForLostFigures, startWorker } from '../../src/core/pipeline/pipeline.job.ts';
import { runPipeline } from '../../src/core/pipeline/pipeline.ts';
import { PIPELINE_STEPS } from '../../src/core/pipeline/steps.ts';
import { createUser } from '../../src/core/users/users.service.ts';
import { openTestStore, type TestStore } from '../../src/db/testing.ts';
import { startTestServer, type TestServer } from '../../src/server/testing.ts';
import { launchChromium, openPage, PASSWORD, shot, signIn, skipReason } from './browser.ts';

const NOW = new Date();

describe('analytics pages in Chromium', { skip: skipReason() }, () => {
  let store: TestStore;
  let srv: TestServer;
  let browser: Browser;
  let page: Page;
  let worker: Worker | null = null;
  const api = async <T>(path: string): Promise<T> => {
    const r = await page.request.get(`${srv.url}${path}`);
    assert.equal(r.status(), 200, `${path}: ${r.status()}`);
    return (await r.json()) as T;
  };
  /** The newest pipeline job, once it has finished; if it does not, how it ended is said rather than a timeout on the page. */
  const pipelineJobDone = async (): Promise<void> => {
    type Job = { id: number; status: string; last_error: string | null };
    let job: Job | undefined;
    for (const t0 = Date.now(); Date.now() - t0 < 120_000; await new Promise((r) => setTimeout(r, 500))) {
      job = (await api<{ jobs: Job[] }>('/api/jobs?task=pipeline')).jobs[0];
      if (job && (job.status === 'done' || job.status === 'failed')) break;
    }
    assert.equal(job?.status, 'done', `the pipeline job: ${JSON.stringify(job)}`);
  };

  before(async () => {
    store = await openTestStore('pglite');
    await createDemoBusiness(store, { customers: 400, seed: 11, industry: 'retail', now: NOW, actor: 'test' });
    const run = await runPipeline(store, { workspaceId: 1, now: NOW, steps: PIPELINE_STEPS, mode: 'full' });
    assert.equal(run.status, 'done', run.error);
    await createUser(store.db, { workspaceId: 1, email: 'analyst@example.com', role: 'admin', name: '分析员', locale: 'zh-CN', password: PASSWORD, actor: 'test', now: NOW });
    srv = await startTestServer(store);
    browser = await launchChromium();
    ({ page } = await openPage(browser, 'zh-CN', 15_000));
    await signIn(page, srv.url, 'analyst@example.com', PASSWORD);
    await page.getByRole('heading', { name: '仪表盘' }).waitFor();
  });

  after(async () => {
    await worker?.stop();
    await browser?.close();
    await srv?.close();
    await store?.close();
  });

  it('shows the KPI board with real values and the tier counts of /api/reports/tiers', async () => {
    await page.goto(`${srv.url}/`);
    const board = page.getByTestId('kpi-board');
    await board.getByText('整体客户流失率（30 天）').waitFor();
    const kpis = await api<{ rows: { key: string; value: number | null }[] }>('/api/reports/kpis');
    const churn = kpis.rows.find((k) => k.key === 'churn_rate');
    assert.ok(churn && churn.value !== null, 'the churn rate has a value');
    const shown = await page.getByTestId('kpi-churn_rate').getByTestId('kpi-value').innerText();
    assert.match(shown, /^\d+(\.\d)?%$/, `churn rate shows as a percentage: ${shown}`);
    assert.equal(shown, new Intl.NumberFormat('zh-CN', { style: 'percent', maximumFractionDigits: 1 }).format(churn.value));
    // Trend sparklines are drawn.
    assert.ok((await board.locator('svg.sparkline').count()) > 0);

    const tiers = await api<{ rows: { tier: string; customers: number }[] }>('/api/reports/tiers');
    for (const row of tiers.rows) {
      const cell = page.getByTestId(`tier-row-${row.tier}`).getByTestId('tier-count');
      assert.equal((await cell.innerText()).replace(/,/g, ''), String(row.customers), `tier ${row.tier}`);
    }
    await page.getByTestId('pipeline-status').getByText('已完成').waitFor();
    await shot(page, 'a01-dashboard-zh');
  });

  it('renders the RFM and cohort heatmaps with their figures, and switches the cohort basis', async () => {
    await page.goto(`${srv.url}/reports`);
    await page.getByTestId('rfm-heatmap').locator('canvas').first().waitFor();
    await page.getByTestId('cohort-heatmap').locator('canvas').first().waitFor();
    // The segments table and the cohort table show figures.
    const segRows = await page.getByTestId('rfm-segments').locator('tbody tr').count();
    assert.ok(segRows > 3, `named segments listed: ${segRows}`);
    const firstCohort = page.getByTestId('cohort-table').locator('tbody tr').last();
    assert.match(await firstCohort.innerText(), /\d+%/);
    // CSV export links carry the language.
    const href = await page.getByTestId('report-tiers').getByTestId('export-csv').getAttribute('href');
    assert.equal(href, '/api/reports/tiers?format=csv&lang=zh-CN');
    const csv = await page.request.get(`${srv.url}${href}`);
    assert.equal(csv.status(), 200);
    assert.match(await csv.text(), /层级/);
    await page.getByRole('button', { name: '任意活跃' }).click();
    await page.getByTestId('report-cohorts').getByText('有购买或任意行为的比例').waitFor();
    await shot(page, 'a02-reports-zh');
  });

  it('validates a typed rule with its position, then previews a count', async () => {
    await page.goto(`${srv.url}/segments?new=1`);
    const editor = page.getByLabel('规则');
    await editor.fill('tier = "D" and\n  tierr = 3');
    await page.getByTestId('rule-status').getByText('第 2 行，第 3 列').waitFor();
    await shot(page, 'a03-segment-error');
    await editor.fill('tier = "D" and orders_total >= 2');
    await page.getByTestId('rule-status').getByText('规则有效').waitFor();
    await page.getByTestId('preview-rule').click();
    const count = await page.getByTestId('preview-count').innerText();
    const expected = await page.request.post(`${srv.url}/api/segments/preview`, { data: { rule: 'tier = "D" and orders_total >= 2' } });
    assert.equal(count.replace(/,/g, ''), String(((await expected.json()) as { count: number }).count));
    await shot(page, 'a04-segment-preview');
    await page.goto(`${srv.url}/segments?id=stage_at_risk`);
    await page.getByTestId('segment-detail').waitFor();
    await shot(page, 'a05-segment-members');
  });

  it('starts a pipeline run from the button and shows its status', async () => {
    worker = await startWorker(store, () => {});
    await page.goto(`${srv.url}/`);
    const before = await api<{ runs: { id: number }[] }>('/api/pipeline/runs?limit=1');
    await page.getByTestId('run-pipeline').click();
    // An incremental run over the small demo can finish within one poll, so the
    // "running" label is only photographed when it is caught; what must hold is below.
    const caught = await page
      .getByTestId('run-pipeline')
      .filter({ hasText: '分析运行中' })
      .waitFor({ timeout: 3_000 })
      .then(() => true, () => false);
    if (caught) await shot(page, 'a06-pipeline-running');
    // The job the button queued finishes.
    await pipelineJobDone();
    const after = await api<{ runs: { id: number; kind: string; status: string }[] }>('/api/pipeline/runs?limit=5');
    const run = after.runs.find((r) => !r.kind.startsWith('backfill'));
    assert.ok(run && run.id > (before.runs[0]?.id ?? 0), `a new run: ${JSON.stringify(after.runs)}`);
    // The page shows that run, finished, and the button is ready again.
    await page.getByTestId('pipeline-status').getByText(`第 ${run.id} 次运行`).waitFor({ timeout: 30_000 });
    await page.getByTestId('run-pipeline').filter({ hasText: '立即运行分析' }).waitFor({ timeout: 30_000 });
    await page.getByTestId('pipeline-status').getByText('已完成').waitFor();
    await shot(page, 'a07-pipeline-done');
  });

  it('shows the risk list, the models page and the Customer 360 analytics, in English too', async () => {
    await page.goto(`${srv.url}/risk`);
    await page.getByTestId('risk-table').waitFor();
    await shot(page, 'a08-risk-zh');
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { name: 'Risk' }).waitFor();
    await shot(page, 'a09-risk-en');
    const first = page.getByTestId('risk-table').locator('tbody tr').first().getByRole('link');
    await first.click();
    await page.getByTestId('customer-analytics').getByText('Value and lifecycle').waitFor();
    await page.getByTestId('c360-indicators').waitFor();
    // CLV, cluster and next-best products from the prediction steps, with the API's figures.
    const id = decodeURIComponent(page.url().split('/customers/')[1]!);
    const clv = await api<{ clv: { clv_12m: number } | null }>(`/api/customers/${encodeURIComponent(id)}/clv`);
    assert.ok(clv.clv, `customer ${id} has a CLV`);
    const shownClv = await page.getByTestId('clv-12m').innerText();
    assert.equal(shownClv.replace(/[^\d.]/g, ''), clv.clv.clv_12m.toFixed(2), `CLV shown ${shownClv}`);
    const next = await api<{ items: { name: string | null; product_id: string }[] }>(`/api/customers/${encodeURIComponent(id)}/next-products`);
    if (next.items.length) await page.getByTestId('c360-next').getByText(next.items[0]!.name ?? next.items[0]!.product_id).first().waitFor();
    else await page.getByTestId('c360-next').getByText('No recommendation yet', { exact: false }).waitFor();
    await shot(page, 'a10-customer-360-en');
    await page.goto(`${srv.url}/models`);
    await page.getByRole('heading', { name: 'Models' }).waitFor();
    // The CLV holdout backtest and the clusters, as the pipeline left them.
    await page.getByTestId('clv-backtest').locator('canvas').waitFor();
    await page.getByTestId('clv-backtest-totals').getByText('Holdout total').waitFor();
    const clusters = await api<{ k: number }>('/api/clusters');
    assert.equal(await page.getByTestId('clusters').locator('tbody tr').count(), clusters.k);
    await shot(page, 'a11-models-en');
    await page.goto(`${srv.url}/reports`);
    await page.getByTestId('rfm-heatmap').locator('canvas').first().waitFor();
    await shot(page, 'a12-reports-en');
    await page.getByRole('button', { name: '中文' }).click();
  });

  it('changes the churn settings and the scorecard in Settings; the next scoring uses them', async () => {
    await page.goto(`${srv.url}/settings`);
    await page.getByRole('tab', { name: '流失设置' }).click();
    const form = page.getByTestId('churn-settings');
    await form.getByLabel('流失观察期（天）').waitFor();
    await form.getByLabel('风险分层方式').selectOption('capacity');
    await form.getByLabel('高风险名额（客户数）').fill('25');
    // Medium above high: the server says what is wrong and nothing is saved.
    await form.getByLabel('中风险起点（概率，%）').fill('90');
    await form.getByRole('button', { name: '保存' }).click();
    await form.getByRole('alert').filter({ hasText: 'thresholds' }).waitFor();
    assert.equal((await api<{ capacity: number | null }>('/api/settings/churn')).capacity, null);
    await form.getByLabel('中风险起点（概率，%）').fill('25');
    await form.getByRole('button', { name: '保存' }).click();
    await form.getByRole('status').filter({ hasText: '已保存' }).waitFor();
    assert.equal((await api<{ capacity: number | null }>('/api/settings/churn')).capacity, 25);
    await shot(page, 'a13-settings-churn');

    await page.getByRole('tab', { name: '预警评分卡' }).click();
    const card = page.getByTestId('scorecard-settings');
    await card.getByLabel('“超过 N 天未购买”的阈值').fill('0');
    await card.getByLabel('“超过 N 天未购买”的分值').fill('100');
    await card.getByLabel('启用“几乎只用券购买（占比）”').uncheck();
    await card.getByRole('button', { name: '保存' }).click();
    await card.getByRole('status').filter({ hasText: '已保存' }).waitFor();
    await shot(page, 'a14-settings-scorecard');
    // Kept after a reload.
    await page.reload();
    await page.getByRole('tab', { name: '预警评分卡' }).click();
    assert.equal(await page.getByLabel('“超过 N 天未购买”的分值').inputValue(), '100');
    assert.equal(await page.getByLabel('启用“几乎只用券购买（占比）”').isChecked(), false);

    // CLV: the margin as a percentage.
    await page.getByRole('tab', { name: '客户价值' }).click();
    const clv = page.getByTestId('clv-settings');
    await clv.getByLabel('利润率（%）').fill('40');
    await clv.getByRole('button', { name: '保存' }).click();
    await clv.getByRole('status').filter({ hasText: '已保存' }).waitFor();
    assert.equal((await api<{ margin: number }>('/api/settings/clv')).margin, 0.4);

    // Recommendations and clusters: a share as a percentage; the server names a bad field.
    await page.getByRole('tab', { name: '推荐与分群' }).click();
    const next = page.getByTestId('nextProducts-settings');
    await next.getByLabel('每位客户推荐数').fill('2');
    await next.getByLabel('复购客户最低占比（%）').fill('60');
    await next.getByRole('button', { name: '保存' }).click();
    await next.getByRole('status').filter({ hasText: '已保存' }).waitFor();
    const saved = await api<{ per_customer: number; min_repeat_share: number }>('/api/settings/next-products');
    assert.deepEqual([saved.per_customer, saved.min_repeat_share], [2, 0.6]);
    const clusters = page.getByTestId('clusters-settings');
    await clusters.getByLabel('最小 k').fill('6');
    await clusters.getByLabel('最大 k').fill('3');
    await clusters.getByRole('button', { name: '保存' }).click();
    // the field at fault by its label, the other field by its API name (never the service's kMin)
    await clusters.getByRole('alert').filter({ hasText: '最大 k: prediction setting k_max must be at least k_min' }).waitFor();
    await shot(page, 'a14b-settings-predictions');

    // The next scoring: 25 high-risk customers (capacity), each with 100 scorecard points.
    await trainChurn(store.db, { workspaceId: 1, now: NOW, actor: 'test', cutoffs: 2, algorithms: ['logistic'], activate: true });
    await scoreAll(store.db, 1, NOW);
    await page.goto(`${srv.url}/risk?tier=high`);
    await page.getByTestId('risk-table').waitFor();
    assert.match(await page.getByTestId('risk-total').innerText(), /(^|\D)25(\D|$)/);
    assert.equal(await page.getByTestId('risk-table').locator('tbody tr').count(), 25);
    assert.equal((await page.getByTestId('risk-table').locator('tbody tr').first().locator('td').last().innerText()).trim(), '100');
    await shot(page, 'a15-risk-capacity');
  });

  it('tells an administrator, not a viewer, which PostgreSQL settings are too small for a large workspace', async () => {
    // The advice comes from a PostgreSQL server with 100,000 customers or more (tested in
    // status.test.ts on the real server); this store is PGlite, so the page is given what such a
    // server answers: /api/status with its serverAdvice, the rest as this server says it.
    const large = async (route: Route) => {
      const real = await (await route.fetch()).json();
      await route.fulfill({
        json: {
          ...real,
          counts: { ...real.counts, customers: 1_000_000 },
          serverAdvice: [
            { setting: 'shared_buffers', value: '128MB', minimum: '1GB', advice: 'with 1,000,000 customers, give shared_buffers …' },
            { setting: 'max_wal_size', value: '1GB', minimum: '2GB', advice: 'with 1,000,000 customers, set max_wal_size …' },
          ],
        },
      });
    };
    await page.route('**/api/status', large);
    try {
      await page.goto(`${srv.url}/`);
      const notice = page.getByTestId('server-advice');
      await notice.filter({ hasText: 'PostgreSQL 配置对 1,000,000 位客户而言偏小' }).waitFor();
      assert.match(await notice.locator('[data-setting="shared_buffers"]').innerText(), /shared_buffers 当前为 128MB.*至少 1GB.*重启 PostgreSQL/);
      assert.match(await notice.locator('[data-setting="max_wal_size"]').innerText(), /max_wal_size 当前为 1GB.*至少设为 2GB/);
      await shot(page, 'a17-server-advice-zh');

      await createUser(store.db, { workspaceId: 1, email: 'viewer@example.com', role: 'viewer', name: '只读', locale: 'zh-CN', password: PASSWORD, actor: 'test', now: NOW });
      const { ctx, page: viewer } = await openPage(browser, 'zh-CN', 15_000);
      try {
        await viewer.route('**/api/status', large);
        await signIn(viewer, srv.url, 'viewer@example.com', PASSWORD);
        await viewer.getByTestId('count-customers').filter({ hasText: '1,000,000' }).waitFor();
        assert.equal(await viewer.getByTestId('server-advice').count(), 0);
      } finally {
        await ctx.close();
      }
    } finally {
      await page.unroute('**/api/status', large);
    }
    // the store itself: PGlite, nothing to advise
    assert.deepEqual((await api<{ serverAdvice: unknown[] }>('/api/status')).serverAdvice, []);
  });

  it('says on the dashboard when a crash has emptied the figures, until the queued run has computed them again', async () => {
    // What crash recovery does to the unlogged tables (customer_metrics and its state among them).
    await emptyUnlogged(store.db);
    await page.goto(`${srv.url}/`);
    await page.getByTestId('figures-lost').filter({ hasText: '客户指标、评分与生命周期阶段正在重新计算' }).waitFor();
    await shot(page, 'a16-figures-lost-zh');
    // The worker looks every minute; here at once. Its run brings the figures back.
    worker ??= await startWorker(store, () => {});
    assert.deepEqual(await queueRunsForLostFigures(store.db, new Date()), [1]);
    await pipelineJobDone();
    await page.reload();
    await page.getByTestId('kpi-board').waitFor();
    assert.equal(await page.getByTestId('figures-lost').count(), 0);
    assert.equal((await api<{ figuresLost: boolean }>('/api/status')).figuresLost, false);
  });
});

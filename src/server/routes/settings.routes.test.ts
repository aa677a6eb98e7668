import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { after, before, it } from 'node:test';
import { scoreAll } from '../../core/churn/scoring.ts';
import { trainChurn } from '../../core/churn/training.ts';
import { createDemoBusiness } from '../../core/demo/demo.service.ts';
import { computeNextProducts } from '../../core/predictions/recommend.ts';
import { loadPredictionSettings } from '../../core/predictions/settings.ts';
import { signInAs } from '../../core/users/users.testing.ts';
import { forEachStore } from '../../db/testing.ts';
import { startTestServer, type TestServer } from '../testing.ts';

const NOW = new Date('2025-06-30T12:00:00Z');

forEachStore('churn settings and scorecard routes', (get) => {
  let srv: TestServer;
  const cookie = new Map<string, string>();
  before(async () => {
    const store = get();
    await createDemoBusiness(store, { customers: 400, seed: 5, industry: 'retail', now: NOW, actor: 'test' });
    srv = await startTestServer(store, { now: () => NOW });
    for (const role of ['admin', 'analyst', 'operator', 'viewer'] as const) cookie.set(role, (await signInAs(store.db, srv.url, role)).cookie);
  });
  after(() => srv.close());

  const call = (path: string, role: string, init: RequestInit = {}) =>
    fetch(`${srv.url}${path}`, { ...init, headers: { cookie: cookie.get(role)!, ...(init.body ? { 'content-type': 'application/json' } : {}) } });
  const put = (path: string, role: string, body: unknown) => call(path, role, { method: 'PUT', body: JSON.stringify(body) });
  type Churn = { horizon_days: number; basis: string; thresholds: { high: number; medium: number }; capacity: number | null; cutoffs: number; cutoff_step_days: number; explain_top: number; drivers: number; defaults: Record<string, unknown> };
  const body = (c: Churn) => {
    const { defaults: _d, ...rest } = c;
    return rest;
  };

  it('shows the churn settings to everyone; analysts and admins change them, validated and audited', async () => {
    const r = await call('/api/settings/churn', 'viewer');
    assert.equal(r.status, 200);
    const c = (await r.json()) as Churn;
    assert.equal(c.horizon_days, 90);
    assert.equal(c.cutoffs, 12);
    assert.deepEqual(body(c), c.defaults);

    const next = { ...body(c), horizon_days: 60, basis: 'activity', thresholds: { high: 0.6, medium: 0.3 }, capacity: 7, explain_top: 100 };
    assert.equal((await put('/api/settings/churn', 'viewer', next)).status, 403);
    assert.equal((await put('/api/settings/churn', 'operator', next)).status, 403);
    const saved = await put('/api/settings/churn', 'analyst', next);
    assert.equal(saved.status, 200);
    assert.equal(((await saved.json()) as Churn).capacity, 7);
    const again = (await (await call('/api/settings/churn', 'viewer')).json()) as Churn;
    assert.equal(again.horizon_days, 60);
    assert.equal(again.basis, 'activity');
    assert.equal(again.defaults.horizon_days, 90);

    const audit = await get().db.selectFrom('audit_log').select(['actor', 'before', 'after']).where('entity', '=', 'settings').where('entity_id', '=', 'churn').execute();
    assert.equal(audit.length, 1);
    assert.match(audit[0]!.actor, /^user:/);
    assert.equal((audit[0]!.before as { horizonDays: number }).horizonDays, 90);
    assert.equal((audit[0]!.after as { horizonDays: number }).horizonDays, 60);

    // What makes no sense is refused with the field at fault, and nothing changes.
    const bad = await put('/api/settings/churn', 'admin', { ...next, thresholds: { high: 0.2, medium: 0.4 } });
    assert.equal(bad.status, 400);
    const e = (await bad.json()) as { error: { field: string; message: string } };
    assert.equal(e.error.field, 'thresholds');
    assert.match(e.error.message, /medium < high/);
    assert.equal((await put('/api/settings/churn', 'admin', { ...next, horizon_days: 3 })).status, 400);
    assert.equal((await put('/api/settings/churn', 'admin', { ...next, colour: 'red' })).status, 400);
    assert.equal(((await (await call('/api/settings/churn', 'viewer')).json()) as Churn).thresholds.high, 0.6);
  });

  it('the capacity decides how many customers are high risk at the next scoring', async () => {
    const t = await trainChurn(get().db, { workspaceId: 1, now: NOW, actor: 'test', cutoffs: 2, algorithms: ['logistic'], activate: true });
    assert.ok(t.modelId > 0);
    await scoreAll(get().db, 1, NOW);
    const high = (await (await call('/api/risk?tier=high&page_size=1', 'viewer')).json()) as { total: number };
    assert.equal(high.total, 7);
    const c = (await (await call('/api/settings/churn', 'viewer')).json()) as Churn;
    assert.equal((await put('/api/settings/churn', 'admin', { ...body(c), capacity: null, thresholds: { high: 0.999999, medium: 0.99999 } })).status, 200);
    await scoreAll(get().db, 1, NOW);
    const none = (await (await call('/api/risk?tier=high&page_size=1', 'viewer')).json()) as { total: number };
    assert.ok(none.total < 7, `thresholds near 1 leave few high-risk customers: ${none.total}`);
  });

  it('edits the scorecard: points, thresholds, switches and levels, used at the next scoring', async () => {
    type Card = { levels: { high: number; medium: number }; default_levels: object; indicators: { key: string; points: number; threshold: number; enabled: boolean; text: { en: string; 'zh-CN': string }; default_points: number }[] };
    const card = (await (await call('/api/settings/scorecard', 'viewer')).json()) as Card;
    assert.ok(card.indicators.length >= 20);
    assert.deepEqual(card.levels, { high: 60, medium: 30 });
    assert.match(card.indicators[0]!.text['zh-CN'], /[\u4e00-\u9fff]/);

    // Only "no purchase for more than 0 days" at 100 points, plus a negative threshold that once broke the SQL.
    const indicators = card.indicators.map((i) => ({ key: i.key, points: i.points, threshold: i.threshold, enabled: false }));
    indicators.find((i) => i.key === 'no_purchase')!.enabled = true;
    Object.assign(indicators.find((i) => i.key === 'no_purchase')!, { points: 100, threshold: 0 });
    Object.assign(indicators.find((i) => i.key === 'frequency_drop')!, { enabled: true, threshold: -0.5, points: 1 });
    assert.equal((await put('/api/settings/scorecard', 'operator', { indicators })).status, 403);
    const r = await put('/api/settings/scorecard', 'analyst', { indicators, levels: { high: 90, medium: 40 } });
    assert.equal(r.status, 200);
    const saved = (await r.json()) as Card;
    assert.equal(saved.indicators.filter((i) => i.enabled).length, 2);
    assert.equal(saved.indicators.find((i) => i.key === 'no_purchase')!.default_points, 12);

    // A partial change keeps everything else.
    assert.equal((await put('/api/settings/scorecard', 'admin', { levels: { high: 95, medium: 40 } })).status, 200);
    const kept = (await (await call('/api/settings/scorecard', 'viewer')).json()) as Card;
    assert.equal(kept.indicators.filter((i) => i.enabled).length, 2);
    assert.equal(kept.levels.high, 95);

    await scoreAll(get().db, 1, NOW);
    const rows = await get().db.selectFrom('churn_scores').select(['customer_id', 'scorecard_points', 'scorecard_level', 'scorecard_breakdown']).execute();
    assert.ok(rows.length > 200);
    for (const x of rows) {
      const keys = (x.scorecard_breakdown as { indicator: string }[]).map((b) => b.indicator);
      assert.ok(keys.every((k) => k === 'no_purchase' || k === 'frequency_drop'), keys.join());
      if (keys.includes('no_purchase')) assert.equal(x.scorecard_level, 'high');
    }
    assert.ok(rows.filter((x) => x.scorecard_points >= 100).length > rows.length / 2);
    const one = (await (await call(`/api/customers/${rows[0]!.customer_id}/risk?lang=en`, 'viewer')).json()) as { scorecard: { indicators: { text: string }[] } };
    assert.ok(one.scorecard.indicators.every((i) => /no purchase|frequency/.test(i.text)));

    const unknown = await put('/api/settings/scorecard', 'admin', { indicators: [{ key: 'drop table', points: 1, threshold: 1, enabled: true }] });
    assert.equal(unknown.status, 400);
    assert.equal(((await unknown.json()) as { error: { field: string } }).error.field, 'drop table');
    const levels = await put('/api/settings/scorecard', 'admin', { levels: { high: 20, medium: 30 } });
    assert.equal(levels.status, 400);
    assert.equal(((await levels.json()) as { error: { field: string } }).error.field, 'levels');
    const audit = await get().db.selectFrom('audit_log').select('id').where('entity', '=', 'settings').where('entity_id', '=', 'scorecard').execute();
    assert.equal(audit.length, 2);
  });

  it('changes the CLV settings (model, margin, discount, holdout), validated and audited, leaving the other prediction settings', async () => {
    type Clv = { model: string; margin: number; monthly_discount_rate: number; holdout_weeks: number; defaults: { margin: number } };
    const c = (await (await call('/api/settings/clv', 'viewer')).json()) as Clv;
    assert.deepEqual({ model: c.model, margin: c.margin, holdout_weeks: c.holdout_weeks }, { model: 'bgnbd', margin: 1, holdout_weeks: 26 });
    const next = { model: 'pareto-nbd', margin: 0.3, monthly_discount_rate: 0.02, holdout_weeks: 13 };
    assert.equal((await put('/api/settings/clv', 'operator', next)).status, 403);
    const r = await put('/api/settings/clv', 'analyst', next);
    assert.equal(r.status, 200);
    assert.equal(((await r.json()) as Clv).defaults.margin, 1);
    const s = await loadPredictionSettings(get().db, 1);
    assert.deepEqual(s.clv, { model: 'pareto-nbd', margin: 0.3, monthlyDiscountRate: 0.02, holdoutWeeks: 13 });
    assert.equal(s.nextProducts.perCustomer, 3);
    assert.equal((await put('/api/settings/clv', 'admin', { ...next, margin: 0 })).status, 400);
    assert.equal((await put('/api/settings/clv', 'admin', { ...next, model: 'svm' })).status, 400);
    const audit = await get().db.selectFrom('audit_log').select(['before', 'after']).where('entity', '=', 'settings').where('entity_id', '=', 'clv').execute();
    assert.equal(audit.length, 1);
    assert.equal((audit[0]!.after as { margin: number }).margin, 0.3);
  });
  it('changes the next-best product and clustering settings; the next recommendations use them', async () => {
    type Next = { per_customer: number; max_lag_days: number; min_lift: number; defaults: { per_customer: number } };
    const n = (await (await call('/api/settings/next-products', 'viewer')).json()) as Next;
    assert.equal(n.per_customer, 3);
    assert.equal(n.defaults.per_customer, 3);
    const { defaults: _d, ...next } = n;
    assert.equal((await put('/api/settings/next-products', 'operator', { ...next, per_customer: 1 })).status, 403);
    const r = await put('/api/settings/next-products', 'analyst', { ...next, per_customer: 1, max_lag_days: 200 });
    assert.equal(r.status, 200);
    assert.equal(((await r.json()) as Next).per_customer, 1);
    const bad = await put('/api/settings/next-products', 'admin', { ...next, per_customer: 50 });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { field: string } }).error.field, 'per_customer');
    // The CLV settings saved by the test before stay as they were.
    const s = await loadPredictionSettings(get().db, 1);
    assert.equal(s.nextProducts.perCustomer, 1);
    assert.equal(s.nextProducts.maxLagDays, 200);
    assert.equal(s.clv.margin, 0.3);
    await computeNextProducts(get(), 1, NOW);
    const most = await sql<{ n: number }>`select coalesce(max(c), 0)::int as n from (select count(*) as c from customer_next_products where workspace_id = 1 group by customer_id) x`.execute(get().db);
    assert.equal(most.rows[0]!.n, 1, 'one pick per customer after per_customer = 1');

    type Clusters = { k_min: number; k_max: number; sample: number; every_days: number; seed: number; defaults: Record<string, number> };
    const c = (await (await call('/api/settings/clusters', 'viewer')).json()) as Clusters;
    assert.deepEqual({ k_min: c.k_min, k_max: c.k_max }, { k_min: 2, k_max: 8 });
    const { defaults: _c, ...cl } = c;
    const swapped = await put('/api/settings/clusters', 'admin', { ...cl, k_min: 6, k_max: 3 });
    assert.equal(swapped.status, 400);
    const fault = ((await swapped.json()) as { error: { field: string; message: string } }).error;
    assert.deepEqual(fault, { ...fault, field: 'k_max', message: 'prediction setting k_max must be at least k_min' });
    assert.equal((await put('/api/settings/clusters', 'admin', { ...cl, k_max: 4, every_days: 1 })).status, 200);
    assert.deepEqual((await loadPredictionSettings(get().db, 1)).clusters, { kMin: 2, kMax: 4, sample: 20_000, everyDays: 1, seed: 1 });
    const audit = await get().db.selectFrom('audit_log').select('entity_id').where('entity', '=', 'settings').where('entity_id', 'in', ['next_products', 'clusters']).execute();
    assert.deepEqual(audit.map((a) => a.entity_id).sort(), ['clusters', 'next_products']);
  });
});

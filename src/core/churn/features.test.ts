import assert from 'node:assert/strict';
import { it } from 'node:test';
import { sql } from 'kysely';
import { forEachStore } from '../../db/testing.ts';
import { DEFAULT_ANALYTICS } from '../analytics/settings.ts';
import { createDemoBusiness } from '../demo/demo.service.ts';
import { FEATURE_KEYS, FEATURES, loadFeatures } from './features.ts';
import { DEFAULT_SCORECARD, INDICATORS } from './scorecard.ts';

const NOW = new Date('2025-06-30T12:00:00Z');
const CUTOFF = new Date('2025-02-28T00:00:00Z');
const DAY = 86_400_000;

function snapshot(f: Awaited<ReturnType<typeof loadFeatures>>) {
  return { ids: f.ids, data: Array.from(f.x.data, (v) => (Number.isNaN(v) ? null : Math.round(v * 1e9) / 1e9)), sc: Array.from(f.scorecard!.points), hits: f.scorecard!.hits };
}

it('has 30–40 features, each with English and Chinese words and a unit; 20+ scorecard indicators', () => {
  assert.ok(FEATURES.length >= 30 && FEATURES.length <= 45, `${FEATURES.length} features`);
  for (const f of FEATURES) assert.ok(f.en && /[\u4e00-\u9fff]/.test(f.zh) && f.unit, f.key);
  assert.equal(new Set(FEATURE_KEYS).size, FEATURE_KEYS.length);
  assert.ok(INDICATORS.length >= 20);
});

forEachStore('churn features', (get) => {
  it('computes the figures of a known customer as of the cut-off', async () => {
    const { db } = get();
    const at = (d: number) => new Date(CUTOFF.getTime() - d * DAY);
    await db.insertInto('customers').values({ workspace_id: 1, id: 'K1', name: 'Known', registered_at: at(400), consent: '{}', attributes: '{}' } as never).execute();
    const orders = [300, 200, 100, 95, 20].map((d, i) => ({ workspace_id: 1, id: `K1-${i}`, customer_id: 'K1', ordered_at: at(d), amount: 100, attributes: '{}' }));
    orders.push({ workspace_id: 1, id: 'K1-r', customer_id: 'K1', ordered_at: at(50), amount: 80, status: 'returned', attributes: '{}' } as never);
    await db.insertInto('orders').values(orders as never).execute();
    await db.insertInto('tickets').values([
      { workspace_id: 1, id: 'KT1', customer_id: 'K1', kind: 'complaint', created_at: at(10), due_at: at(9), status: 'open', attributes: '{}' },
      { workspace_id: 1, id: 'KT2', customer_id: 'K1', kind: 'complaint', created_at: at(30), resolved_at: at(25), status: 'resolved', attributes: '{}' },
    ] as never).execute();
    await db.insertInto('survey_responses').values({ workspace_id: 1, id: 'KS1', customer_id: 'K1', responded_at: at(5), nps: 3, text: '太失望了，不会再来了。', attributes: '{}' } as never).execute();
    const f = await loadFeatures(db, { workspaceId: 1, cutoff: CUTOFF, analytics: DEFAULT_ANALYTICS, ids: ['K1'], scorecard: DEFAULT_SCORECARD });
    const v = (k: string) => f.x.data[FEATURE_KEYS.indexOf(k)];
    assert.equal(f.ids[0], 'K1');
    assert.equal(v('recency_days'), 20);
    assert.equal(v('orders_total'), 5);
    assert.equal(v('orders_90d'), 1);
    assert.equal(v('orders_prev_90d'), 2);
    assert.equal(v('frequency_change'), -0.5);
    assert.equal(v('usual_gap_days'), 70);
    assert.equal(v('complaints_90d'), 2);
    assert.equal(v('unresolved_complaints'), 1);
    assert.equal(v('overdue_tickets'), 1);
    assert.equal(v('returns_365d'), 1);
    assert.equal(v('negative_texts_365d'), 1);
    assert.equal(v('last_nps'), 3);
    assert.equal(v('tenure_days'), 400);
    const hits = f.scorecard!.hits[0]!;
    for (const k of ['recent_complaint', 'repeated_complaints', 'unresolved_complaint', 'ticket_past_sla', 'negative_survey_text', 'nps_detractor', 'frequency_drop']) assert.ok(hits.includes(k), `${k} in ${hits}`);
    assert.ok(f.scorecard!.points[0]! >= 60);
    await sql`delete from tickets where customer_id = 'K1'`.execute(db);
    await sql`delete from survey_responses where customer_id = 'K1'`.execute(db);
    await sql`delete from orders where customer_id = 'K1'`.execute(db);
    await sql`delete from customers where id = 'K1'`.execute(db);
  });

  it('has no leakage: adding or changing any row dated after the cut-off changes no feature', async () => {
    const store = get();
    const { db } = store;
    await createDemoBusiness(store, { customers: 250, seed: 11, industry: 'retail', now: NOW, actor: 'test' });
    const q = { workspaceId: 1, cutoff: CUTOFF, analytics: DEFAULT_ANALYTICS, scorecard: DEFAULT_SCORECARD };
    const before = snapshot(await loadFeatures(db, q));
    assert.ok(before.ids.length > 100);
    const c = sql`${CUTOFF}::timestamptz`;
    const late = new Date(CUTOFF.getTime() + 1000);
    const ids = before.ids.slice(0, 40);
    // new rows just after the cut-off, for customers with history and for a customer who only appears later
    await db.insertInto('customers').values({ workspace_id: 1, id: 'LATE1', registered_at: late, consent: '{}', attributes: '{}' } as never).execute();
    await db.insertInto('orders').values([...ids, 'LATE1'].map((id, i) => ({ workspace_id: 1, id: `X${i}`, customer_id: id, ordered_at: late, amount: 999, status: i % 3 ? 'paid' : 'returned', coupon_code: 'Z', discount: 5, attributes: '{}' })) as never).execute();
    await db.insertInto('events').values(ids.map((id, i) => ({ workspace_id: 1, message_id: `XE${i}`, customer_id: id, type: i % 2 ? 'login' : 'unsubscribe', occurred_at: late, properties: '{}' })) as never).execute();
    await db.insertInto('tickets').values(ids.map((id, i) => ({ workspace_id: 1, id: `XT${i}`, customer_id: id, kind: 'complaint', created_at: late, due_at: late, status: 'open', csat: 1, attributes: '{}' })) as never).execute();
    await db.insertInto('survey_responses').values(ids.map((id, i) => ({ workspace_id: 1, id: `XS${i}`, customer_id: id, responded_at: late, nps: 0, csat: 1, churn_reason: 'price', text: 'terrible, too expensive', attributes: '{}' })) as never).execute();
    await db.insertInto('referrals').values(ids.map((id, i) => ({ workspace_id: 1, id: `XR${i}`, referrer_id: id, referred_at: late })) as never).execute();
    // rows dated after the cut-off changed or removed
    await sql`update orders set amount = amount * 3 + 1, status = case when status = 'paid' then 'refunded' else 'paid' end, discount = 0, coupon_code = null where workspace_id = 1 and ordered_at > ${c}`.execute(db);
    await sql`update events set type = 'login' where workspace_id = 1 and occurred_at > ${c} and type <> 'login'`.execute(db);
    await sql`delete from events where workspace_id = 1 and occurred_at > ${c} and message_id like '%1'`.execute(db);
    await sql`update survey_responses set nps = 0, csat = 1, text = '太失望了' where workspace_id = 1 and responded_at > ${c}`.execute(db);
    await sql`delete from order_lines where workspace_id = 1 and order_id in (select id from orders where ordered_at > ${c})`.execute(db);
    await sql`delete from orders where workspace_id = 1 and ordered_at > ${c} and id like '%7'`.execute(db);
    // tickets opened before the cut-off and resolved after it: still open at the cut-off
    await sql`update tickets set status = 'closed', resolved_at = ${late}::timestamptz + interval '3 days' where workspace_id = 1 and created_at <= ${c} and (resolved_at is null or resolved_at > ${c})`.execute(db);
    await sql`update tickets set kind = 'inquiry', due_at = null where workspace_id = 1 and created_at > ${c}`.execute(db);
    const after = snapshot(await loadFeatures(db, q));
    assert.deepEqual(after.ids, before.ids);
    for (let i = 0; i < before.ids.length; i++) {
      for (let j = 0; j < FEATURE_KEYS.length; j++) {
        const a = before.data[i * FEATURE_KEYS.length + j];
        const b = after.data[i * FEATURE_KEYS.length + j];
        if (a !== b) assert.fail(`${before.ids[i]} ${FEATURE_KEYS[j]}: ${a} before, ${b} after`);
      }
    }
    assert.deepEqual(after.sc, before.sc);
    assert.deepEqual(after.hits, before.hits);
  });

  it('labels: no purchase in (cut-off, cut-off + horizon]; the truth comes from demo_truth', async () => {
    const { db } = get();
    const f = await loadFeatures(db, { workspaceId: 1, cutoff: new Date(NOW.getTime() - 120 * DAY), analytics: DEFAULT_ANALYTICS, label: { horizonDays: 90, basis: 'purchase' }, truth: { horizonDays: 90 } });
    const pos = f.label!.reduce((s, v) => s + v, 0);
    assert.ok(pos > 0 && pos < f.ids.length);
    assert.ok(f.truth!.some((v) => v === 1) && f.truth!.some((v) => v === 0));
    // basis activity: churned only without purchases and without events, so never more churners
    const a = await loadFeatures(db, { workspaceId: 1, cutoff: new Date(NOW.getTime() - 120 * DAY), analytics: DEFAULT_ANALYTICS, label: { horizonDays: 90, basis: 'activity' } });
    assert.deepEqual(a.ids, f.ids);
    assert.ok(a.label!.every((v, i) => v <= f.label![i]!));
    assert.ok(a.label!.reduce((s, v) => s + v, 0) < pos);
  });

  it('reads the same rows, labels, truth and scorecard in batches of any size', async () => {
    const { db } = get();
    const q = { workspaceId: 1, cutoff: new Date(NOW.getTime() - 120 * DAY), analytics: DEFAULT_ANALYTICS, label: { horizonDays: 90, basis: 'purchase' as const }, truth: { horizonDays: 90 }, scorecard: DEFAULT_SCORECARD };
    const whole = await loadFeatures(db, q);
    assert.ok(whole.ids.length > 100, `${whole.ids.length} customers`);
    // 7 rows a fetch: many batches, and columns that grow past their first size
    const batched = await loadFeatures(db, { ...q, fetchRows: 7 });
    assert.deepEqual(snapshot(batched), snapshot(whole));
    assert.deepEqual(Array.from(batched.label!), Array.from(whole.label!));
    assert.deepEqual(Array.from(batched.truth!, (v) => (Number.isNaN(v) ? null : v)), Array.from(whole.truth!, (v) => (Number.isNaN(v) ? null : v)));
    assert.deepEqual(Array.from(batched.membershipDaysLeft, (v) => (Number.isNaN(v) ? null : v)), Array.from(whole.membershipDaysLeft, (v) => (Number.isNaN(v) ? null : v)));
    assert.equal(batched.x.data.length, batched.ids.length * FEATURES.length);
  });
});

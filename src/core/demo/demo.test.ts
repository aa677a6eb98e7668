import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import type { Store } from '../../db/store.ts';
import { forEachStore } from '../../db/testing.ts';
import { refreshCustomerStats } from '../customers/customers.stats.ts';
import { createDemoBusiness } from './demo.service.ts';
import { type DemoParams, generateBatch, q, THINNING_DAYS } from './generator.ts';
import { BUSINESS_TABLES } from './loader.ts';
import { Rng } from './random.ts';

const NOW = new Date('2025-06-30T12:00:00Z');
const N = 300;

const KEYS: Record<(typeof BUSINESS_TABLES)[number], string> = {
  order_lines: 'order_id collate "C", line_no',
  orders: 'id collate "C"',
  events: 'message_id collate "C"',
  tickets: 'id collate "C"',
  survey_responses: 'id collate "C"',
  referrals: 'id collate "C"',
  coupons: 'code collate "C"',
  demo_truth: 'customer_id collate "C"',
  customers: 'id collate "C"',
  products: 'id collate "C"',
};

/** One digest per table of everything in it, in key order, timestamps in UTC. */
async function digest(store: Store): Promise<Record<string, string>> {
  return store.session(async (s) => {
    await sql`begin`.execute(s.db);
    await sql`set local time zone 'UTC'`.execute(s.db);
    const out: Record<string, string> = {};
    for (const t of BUSINESS_TABLES) {
      const r = await sql<{ h: string | null; n: number }>`
        select md5(string_agg(x::text, '|' order by ${sql.raw(KEYS[t])})) as h, count(*)::int8 as n
        from ${sql.table(t)} x where workspace_id = 1`.execute(s.db);
      out[t] = `${r.rows[0]!.n}:${r.rows[0]!.h}`;
    }
    await sql`commit`.execute(s.db);
    return out;
  });
}

const digests = new Map<string, Record<string, string>>();

forEachStore('demo business', (get, kind) => {
  it('loads every table and records the industry and an audit entry', async () => {
    const store = get();
    // PostgreSQL goes through the worker thread with odd batches; PGlite inline: the data must not differ.
    const opts = kind === 'postgres' ? { worker: true, batchSize: 77 } : {};
    const r = await createDemoBusiness(store, { customers: N, seed: 7, industry: 'retail', now: NOW, actor: 'test', ...opts });
    for (const [t, n] of Object.entries(r.rows)) assert.ok(n > 0, `${t} is empty`);
    assert.ok(r.rows.customers! >= N);
    const status = await store.db.selectFrom('customers').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    assert.equal(Number(status.n), r.rows.customers);
    const ws = await store.db.selectFrom('workspaces').select('industry').where('id', '=', 1).executeTakeFirstOrThrow();
    assert.equal(ws.industry, 'retail');
    const audit = await store.db.selectFrom('audit_log').select(['action', 'actor']).where('entity', '=', 'workspace').execute();
    assert.deepEqual(audit, [{ action: 'load_demo', actor: 'test' }]);
    digests.set(`${kind}:7`, await digest(store));
    // The list's order summary comes with the demo, as the figures pass would write it: a
    // refresh from the orders then changes no customer (it rewrote every customer row after
    // each demo load before), and every customer has figures, zeros for those without orders.
    assert.equal(await refreshCustomerStats(store.db, 1), 0);
    const missing = await sql<{ n: number }>`
      select count(*)::int as n from customers where workspace_id = 1 and (stats_orders is null or stats_spend is null)`.execute(store.db);
    assert.equal(missing.rows[0]!.n, 0);
  });

  it('is identical on both stores for the same seed and now, however it was batched', async (t) => {
    const other = digests.get(`${kind === 'postgres' ? 'pglite' : 'postgres'}:7`);
    if (!other) return t.skip('the other store has not run yet');
    assert.deepEqual(digests.get(`${kind}:7`), other);
  });

  it('looks like a business: Chinese phones, consent per channel, statuses, coupons, tickets, surveys', async () => {
    const { db } = get();
    const c = await db.selectFrom('customers').select(['phone', 'consent', 'time_zone', 'name']).execute();
    assert.ok(c.every((x) => /^\+861[3-9]\d{9}$/.test(x.phone ?? '')));
    assert.ok(c.every((x) => typeof x.consent.sms?.marketing === 'boolean' && typeof x.consent.wechat?.service === 'boolean'));
    assert.ok(c.filter((x) => x.time_zone === 'Asia/Shanghai').length > c.length * 0.8);
    assert.ok(c.some((x) => /^[\u4e00-\u9fff]{2,4}$/.test(x.name ?? '')));
    const statuses = await db.selectFrom('orders').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('status').execute();
    const by = Object.fromEntries(statuses.map((s) => [s.status, Number(s.n)]));
    const total = Object.values(by).reduce((a, b) => a + b, 0);
    assert.ok(by.paid! > total * 0.85 && by.returned! > 0 && by.refunded! > 0, JSON.stringify(by));
    const redeemed = await db.selectFrom('coupons').select((eb) => eb.fn.countAll<number>().as('n')).where('order_id', 'is not', null).executeTakeFirstOrThrow();
    assert.ok(Number(redeemed.n) > 0);
    const reasons = await db.selectFrom('survey_responses').select('churn_reason').distinct().where('survey', '=', 'churn_reason').execute();
    assert.ok(reasons.every((r) => ['price', 'slow_product_updates', 'slow_service', 'other'].includes(r.churn_reason!)));
    const cats = await db.selectFrom('tickets').select('category').distinct().where('kind', '=', 'complaint').execute();
    assert.ok(cats.length >= 3);
  });

  it('tells a true story: no orders after drop-out, activity thins before it, order counts match the rates', async () => {
    const { db } = get();
    const late = await sql<{ n: number }>`
      select count(*)::int8 as n from orders o join demo_truth t on t.customer_id = o.customer_id and t.workspace_id = o.workspace_id
      where t.dropped_out_at is not null and o.ordered_at > t.dropped_out_at`.execute(db);
    assert.equal(late.rows[0]!.n, 0);

    // events per customer in the two weeks before drop-out vs. a fortnight well before the thinning starts
    const thin = await sql<{ before: number; early: number }>`
      select count(*) filter (where e.occurred_at >= t.dropped_out_at - interval '14 days' and e.occurred_at < t.dropped_out_at)::int8 as before,
             count(*) filter (where e.occurred_at >= t.dropped_out_at - interval '${sql.raw(String(THINNING_DAYS + 28))} days'
                               and e.occurred_at < t.dropped_out_at - interval '${sql.raw(String(THINNING_DAYS + 14))} days')::int8 as early
      from demo_truth t join customers c on c.id = t.customer_id and c.workspace_id = t.workspace_id
      join events e on e.customer_id = t.customer_id and e.workspace_id = t.workspace_id
      where t.dropped_out_at is not null and c.registered_at < t.dropped_out_at - interval '${sql.raw(String(THINNING_DAYS + 28))} days'`.execute(db);
    const { before, early } = thin.rows[0]!;
    assert.ok(early > 20 && before < early * 0.6, `events: ${early} early vs ${before} just before drop-out`);

    // complaints cluster before drop-out: NPS answered then is lower than from customers still alive
    const nps = await sql<{ churned: number; alive: number }>`
      select avg(s.nps) filter (where t.dropped_out_at is not null and s.responded_at > t.dropped_out_at - interval '60 days') as churned,
             avg(s.nps) filter (where t.dropped_out_at is null) as alive
      from survey_responses s join demo_truth t on t.customer_id = s.customer_id and t.workspace_id = s.workspace_id where s.survey = 'nps'`.execute(db);
    assert.ok(Number(nps.rows[0]!.churned) + 2 < Number(nps.rows[0]!.alive), JSON.stringify(nps.rows[0]));

    // still-alive customers: repeat purchases ≈ Σ λ · (time since first purchase)
    const rate = await sql<{ repeats: number; expected: number }>`
      with f as (
        select o.customer_id, count(*) - 1 as repeats, extract(epoch from (${NOW}::timestamptz - min(o.ordered_at))) / 86400 as days
        from orders o where o.workspace_id = 1 group by o.customer_id)
      select sum(f.repeats)::float8 as repeats, sum(t.purchase_rate * f.days)::float8 as expected
      from f join demo_truth t on t.customer_id = f.customer_id and t.workspace_id = 1
      where t.dropped_out_at is null and t.segment <> 'duplicate'`.execute(db);
    const { repeats, expected } = rate.rows[0]!;
    assert.ok(repeats > expected * 0.8 && repeats < expected * 1.2, `repeat orders ${repeats}, rates imply ${expected.toFixed(0)}`);
  });

  it('refuses to load over existing customers, and --reset replaces them with another business', async () => {
    const store = get();
    await assert.rejects(createDemoBusiness(store, { customers: 10, seed: 1, industry: 'retail', now: NOW }), /already has customers.*--reset/);
    await assert.rejects(createDemoBusiness(store, { customers: 10, seed: 1, industry: 'bakery', now: NOW, reset: true }), /industry must be one of/);
    const r = await createDemoBusiness(store, { customers: 150, seed: 8, industry: 'retail', now: NOW, reset: true });
    const after = await digest(store);
    const before = digests.get(`${kind}:7`)!;
    assert.notEqual(after.customers, before.customers);
    assert.notEqual(after.orders, before.orders);
    assert.equal(Number(after.customers!.split(':')[0]), r.rows.customers);
    const e = await createDemoBusiness(store, { customers: 100, seed: 8, industry: 'education', now: NOW, reset: true });
    assert.ok(e.rows.events! > 0);
    const lessons = await store.db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).where('type', '=', 'course_lesson_completed').executeTakeFirstOrThrow();
    assert.ok(Number(lessons.n) > 50);
    const ws = await store.db.selectFrom('workspaces').select('industry').where('id', '=', 1).executeTakeFirstOrThrow();
    assert.equal(ws.industry, 'education');
  });
});

describe('demo generator', () => {
  const params: DemoParams = { customers: 2000, seed: 3, industry: 'retail', now: NOW, workspaceId: 1 };
  const all = (b: ReturnType<typeof generateBatch>, t: string) => b.chunks[t]!.join('');

  it('is deterministic and independent of batching; another seed gives another business', () => {
    const whole = generateBatch(params, 0, 600);
    const a = generateBatch(params, 0, 250);
    const b = generateBatch(params, 250, 600);
    for (const t of ['customers', 'orders', 'events', 'demo_truth']) {
      assert.equal(all(a, t) + all(b, t), all(whole, t), t);
    }
    const other = generateBatch({ ...params, seed: 4 }, 0, 600);
    assert.notEqual(all(other, 'orders'), all(whole, 'orders'));
  });

  it('plants a few duplicate identities: the same phone under two ids', () => {
    const b = generateBatch(params, 0, params.customers);
    const phones = all(b, 'customers').trim().split('\n').map((l) => l.split(',')[3]);
    const dups = phones.length - new Set(phones).size;
    assert.ok(dups >= 1 && dups < params.customers * 0.02, `${dups} duplicates`);
  });

  it('every industry generates its own kind of business', () => {
    for (const industry of ['education', 'fitness', 'restaurant'] as const) {
      const b = generateBatch({ ...params, industry }, 0, 300);
      const ev = all(b, 'events');
      if (industry === 'education') assert.match(ev, /course_lesson_completed/);
      if (industry === 'fitness') assert.match(ev, /,visit,/);
      if (industry === 'restaurant') assert.match(all(b, 'orders'), /punch/);
    }
  });

  it('quotes text fields as RFC 4180 wants', () => {
    assert.equal(q('a, "b"'), '"a, ""b"""');
    assert.equal(q(''), '""');
  });

  it('samples distributions with the right means', () => {
    const r = new Rng(1, 2);
    const n = 20000;
    let g = 0;
    let be = 0;
    let po = 0;
    let gs = 0;
    for (let i = 0; i < n; i++) {
      g += r.gamma(2, 3);
      gs += r.gamma(0.5, 2);
      be += r.beta(2, 6);
      po += r.poisson(4);
    }
    assert.ok(Math.abs(g / n - 6) < 0.2);
    assert.ok(Math.abs(gs / n - 1) < 0.05);
    assert.ok(Math.abs(be / n - 0.25) < 0.01);
    assert.ok(Math.abs(po / n - 4) < 0.1);
  });
});

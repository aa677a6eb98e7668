import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { sql } from 'kysely';
import { forEachStore } from '../../db/testing.ts';
import { cdnowFile } from '../../shared/testdata.ts';
import { runPipeline } from '../pipeline/pipeline.ts';
import { runReport } from '../reports/registry.ts';
import { cohortsStep, kpisStep } from './analytics.steps.ts';
import { backfillHistory } from './backfill.ts';
import { refreshCohorts } from './cohorts.ts';
import { flagsFor, KPIS, refreshKpis } from './kpis.ts';
import { DEFAULT_ANALYTICS } from './settings.ts';
import { addCustomer, addEvents, addOrders, DAY, daysBefore, prng } from './testing.ts';

function cdnowOrders() {
  const lines = readFileSync(cdnowFile('CDNOW_sample.txt'), 'utf8').trim().split('\n');
  return lines.map((l, i) => {
    const [id, , ymd, , amount] = l.trim().split(/\s+/);
    return { id: `o${i}`, customer: `c${Number(id)}`, ymd: ymd!, amount: Number(amount) };
  });
}

forEachStore('cohort retention against an independent computation on CDNOW', (get) => {
  it('matches monthly purchase-cohort retention computed in TypeScript', async () => {
    const orders = cdnowOrders();
    const customers = [...new Set(orders.map((o) => o.customer))];
    await get().session(async (s) => {
      await s.copyCsv('customers', ['workspace_id', 'id'], customers.map((c) => `1,${c}\n`));
      await s.copyCsv(
        'orders',
        ['workspace_id', 'id', 'customer_id', 'ordered_at', 'amount'],
        orders.map((o) => `1,${o.id},${o.customer},${o.ymd.slice(0, 4)}-${o.ymd.slice(4, 6)}-${o.ymd.slice(6, 8)}T12:00:00Z,${o.amount}\n`),
      );
    });
    const now = new Date('1998-07-01T00:00:00Z');
    await refreshCohorts(get().db, 1, now, 'Asia/Shanghai', 24);

    // independent: month index of each purchase, cohort = first month
    const monthIdx = (ymd: string) => Number(ymd.slice(0, 4)) * 12 + Number(ymd.slice(4, 6)) - 1;
    const byCustomer = new Map<string, Set<number>>();
    for (const o of orders) {
      const set = byCustomer.get(o.customer) ?? new Set<number>();
      set.add(monthIdx(o.ymd));
      byCustomer.set(o.customer, set);
    }
    const expected = new Map<string, { size: number; retained: number }>();
    const sizes = new Map<number, number>();
    for (const months of byCustomer.values()) {
      const c = Math.min(...months);
      sizes.set(c, (sizes.get(c) ?? 0) + 1);
    }
    for (const months of byCustomer.values()) {
      const c = Math.min(...months);
      for (const m of months) {
        const key = `${c}:${m - c}`;
        const e = expected.get(key) ?? { size: sizes.get(c)!, retained: 0 };
        e.retained++;
        expected.set(key, e);
      }
    }
    const report = await runReport('cohorts', { db: get().db, workspaceId: 1, now, params: {} });
    const got = new Map(
      report.rows.map((r) => {
        const [y, m] = String(r.cohort).split('-').map(Number);
        return [`${y! * 12 + m! - 1}:${r.month}`, { size: r.cohort_size as number, retained: r.retained as number }];
      }),
    );
    assert.deepEqual(got, expected);
    // The CDNOW cohort is Q1 1997: three cohorts, everyone retained in month 0.
    const firstMonths = report.rows.filter((r) => r.month === 0);
    assert.deepEqual(firstMonths.map((r) => r.cohort), ['1997-01', '1997-02', '1997-03']);
    assert.ok(firstMonths.every((r) => r.rate === 1));
    assert.equal(firstMonths.reduce((a, r) => a + (r.cohort_size as number), 0), 2357);
  });
});

const NOW = new Date('2026-06-30T15:00:00Z');

forEachStore('KPIs with known answers', (get) => {
  it('computes churn, win-back, repurchase, NPS and complaint resolution as defined', async () => {
    const { db } = get();
    await addCustomer(db, 'x1'); // crossed the 90-day window in the last 30 days: churned
    await addOrders(db, 'x1', [{ at: daysBefore(NOW, 100), amount: 10 }]);
    await addCustomer(db, 'x2'); // alive then and now, two orders in 12 months
    await addOrders(db, 'x2', [{ at: daysBefore(NOW, 50), amount: 10 }, { at: daysBefore(NOW, 10), amount: 10 }]);
    await addCustomer(db, 'x3'); // lapsed long ago, came back 5 days ago: won back
    await addOrders(db, 'x3', [{ at: daysBefore(NOW, 300), amount: 10 }, { at: daysBefore(NOW, 5), amount: 10 }]);
    await addCustomer(db, 'x4'); // lapsed long ago, still gone
    await addOrders(db, 'x4', [{ at: daysBefore(NOW, 250), amount: 10 }]);
    const t = (id: string, createdDaysAgo: number, priority: string, resolvedAfterHours: number | null) => ({
      workspace_id: 1, id, customer_id: 'x2', kind: 'complaint' as const, priority: priority as 'general', created_at: daysBefore(NOW, createdDaysAgo),
      resolved_at: resolvedAfterHours === null ? null : new Date(daysBefore(NOW, createdDaysAgo).getTime() + resolvedAfterHours * 3600_000),
      status: (resolvedAfterHours === null ? 'open' : 'resolved') as 'open', attributes: '{}',
      category: null, channel: null, subject: null, body: null, owner: null, first_response_at: null, due_at: null, csat: null,
    });
    await db.insertInto('tickets').values([
      t('t1', 10, 'urgent', 5), // on time
      t('t2', 10, 'urgent', 30), // late
      t('t3', 20, 'general', 100), // on time (7 days)
      t('t4', 5, 'general', null), // deadline not reached yet: not counted
      t('t5', 40, 'urgent', 1), // older than 30 days: not counted
    ]).execute();
    const sv = (id: string, customer: string, nps: number, daysAgo: number) => ({
      workspace_id: 1, id, customer_id: customer, survey: 'nps', responded_at: daysBefore(NOW, daysAgo), nps, csat: null, churn_reason: null, text: null, attributes: '{}',
    });
    await db.insertInto('survey_responses').values([sv('s1', 'x1', 10, 3), sv('s2', 'x2', 9, 4), sv('s3', 'x3', 3, 5), sv('s4', 'x3', 10, 60), sv('s5', 'x4', 7, 2)]).execute();

    await refreshKpis(db, 1, NOW, 'UTC', DEFAULT_ANALYTICS);
    const v = Object.fromEntries((await db.selectFrom('kpi_values').selectAll().where('day', '=', '2026-06-30').execute()).map((r) => [r.kpi, r]));
    assert.equal(v.churn_rate!.numerator, 1);
    assert.equal(v.churn_rate!.denominator, 2);
    // lapsed 30 days ago (no purchase for > 60 days then): x1 (70 days), x3, x4; only x3 came back
    assert.equal(v.winback_rate!.value, 1 / 3);
    assert.equal(v.repurchase_rate!.value, 2 / 4); // x2 and x3 (its two orders, 300 and 5 days ago, are both within 12 months)
    assert.equal(v.nps!.value, ((2 - 1) / 4) * 100); // latest per customer: 10, 9, 3, 7
    assert.equal(v.complaint_resolution!.value, 2 / 3);
    assert.equal(v.new_churned!.value, 0);
    // seven days of history are filled in on the first run
    const days = await db.selectFrom('kpi_values').select('day').distinct().execute();
    assert.equal(days.length, 7);
    const board = await runReport('kpis', { db, workspaceId: 1, now: NOW, params: {} });
    const churn = board.rows.find((r) => r.key === 'churn_rate')!;
    assert.equal(churn.value, 0.5);
    assert.equal(churn.target, 0.05);
    assert.match(String(churn.flags), /off_target/);
    assert.equal(churn.department_zh, '运营部');
    assert.equal((churn.trend as unknown[]).length, 7);
    assert.equal(board.rows.length, KPIS.length);
  });

  it('flags values past target and unusual jumps, and not steady ones', () => {
    assert.deepEqual(flagsFor({ better: 'lower' }, 0.082, 0.05, [0.07, 0.071, 0.069, 0.07]), ['off_target', 'unusual_change']);
    assert.deepEqual(flagsFor({ better: 'higher' }, 0.93, 0.95, [0.93, 0.94, 0.92, 0.93]), ['off_target']);
    assert.deepEqual(flagsFor({ better: 'higher' }, 0.96, 0.95, [0.95, 0.97, 0.96]), []);
    assert.deepEqual(flagsFor({ better: 'higher' }, 10, null, [5, 5, 5, 5]), ['unusual_change']);
  });
});

forEachStore('tier A retention KPI', (get) => {
  it('counts tier A retention from tier history, today and on the past days it fills in', async () => {
    const { db } = get();
    const tier = async (id: string, t: 'A' | 'B', fromDaysAgo: number, toDaysAgo: number | null) =>
      db.insertInto('tier_history').values({
        workspace_id: 1, customer_id: id, tier: t, rfm_score: null,
        valid_from: daysBefore(NOW, fromDaysAgo), valid_to: toDaysAgo === null ? null : daysBefore(NOW, toDaysAgo),
      }).execute();
    const buyer = async (id: string, ...orders: number[]) => {
      await addCustomer(db, id);
      await addOrders(db, id, orders.map((ago) => ({ at: daysBefore(NOW, ago), amount: 10 })));
    };
    await buyer('ta1', 30); // A all along, bought a month ago
    await tier('ta1', 'A', 200, null);
    await buyer('ta2', 100); // A until 10 days ago, last bought before the 90 days
    await tier('ta2', 'A', 200, 10);
    await tier('ta2', 'B', 10, null);
    await buyer('ta3', 5); // A only for 50 days: not A 90 days ago
    await tier('ta3', 'A', 50, null);
    await buyer('ta4', 10); // A until 95 days ago
    await tier('ta4', 'A', 200, 95);
    await buyer('ta5', 10); // B
    await tier('ta5', 'B', 200, null);
    await buyer('ta6', 2); // A all along, first bought 2 days ago
    await tier('ta6', 'A', 200, null);
    await refreshKpis(db, 1, NOW, 'UTC', DEFAULT_ANALYTICS);
    const v = async (day: string) =>
      db.selectFrom('kpi_values').select(['numerator', 'denominator']).where('kpi', '=', 'tier_a_retention').where('day', '=', day).executeTakeFirstOrThrow();
    assert.deepEqual(await v('2026-06-30'), { numerator: 2, denominator: 3 }); // ta1, ta6 of ta1, ta2, ta6
    assert.deepEqual(await v('2026-06-24'), { numerator: 2, denominator: 4 }); // ta1, ta4 of ta1, ta2, ta4, ta6
  });
});

forEachStore('retention evaluation by tier (Table 5)', (get) => {
  it('counts starters, retained, rate, target and gap per month from tier history', async () => {
    const { db } = get();
    await db.updateTable('workspaces').set({ time_zone: 'UTC', settings: JSON.stringify({ analytics: { rfm: { method: 'breakpoints' } } }) }).execute();
    // Six A customers buying every ~10 days until 40 days ago; three of them keep buying.
    for (let i = 0; i < 6; i++) {
      await addCustomer(db, `a${i}`);
      const keepGoing = i < 3;
      const start = keepGoing ? 1 : 40;
      await addOrders(db, `a${i}`, Array.from({ length: 40 }, (_, k) => ({ at: daysBefore(NOW, start + k * 9), amount: 3000 })));
    }
    await backfillHistory(get(), 1, NOW, 3);
    const r = await runReport('retention', { db, workspaceId: 1, now: NOW, params: { period: 'month', periods: '3' } });
    const june = r.rows.find((x) => x.period === '2026-06' && x.tier === 'A')!;
    assert.equal(june.start_count, 6);
    assert.equal(june.retained, 3);
    assert.equal(june.rate, 0.5);
    assert.equal(june.target, 0.95);
    assert.ok(Math.abs((june.gap as number) + 0.45) < 1e-9);
    const may = r.rows.find((x) => x.period === '2026-05' && x.tier === 'A')!;
    assert.equal(may.retained, 6);
    assert.ok(DAY > 0);
  });
});

forEachStore('incremental cohorts and KPIs equal a full recompute', (get) => {
  it('after a day with new orders and events, a late old order, refunds and rows that were in the future', async () => {
    const { db } = get();
    await db.updateTable('workspaces').set({ time_zone: 'Asia/Shanghai' }).execute();
    // 20:00 on 31 May in Shanghai, then 20:00 on 1 June: the day also starts a month,
    // so the oldest cohort leaves the 24-month window.
    const day1 = new Date('2026-05-31T12:00:00Z');
    const day2 = new Date(day1.getTime() + DAY);
    const rnd = prng(7);
    for (let c = 0; c < 150; c++) {
      const id = `k${c}`;
      await addCustomer(db, id);
      const n = Math.floor(rnd() * 8);
      await addOrders(db, id, Array.from({ length: n }, () => ({ at: daysBefore(day1, rnd() * 800), amount: 100, status: rnd() < 0.1 ? ('refunded' as const) : undefined })));
      await addEvents(db, id, Array.from({ length: Math.floor(rnd() * 12) }, () => ({ at: daysBefore(day1, rnd() * 760), type: 'login' })));
    }
    const h = 3600_000;
    const named: Record<string, { orders: { at: Date; amount: number }[]; events: Date[] }> = {
      late1: { orders: [{ at: daysBefore(day1, 150), amount: 50 }], events: [daysBefore(day1, 280), daysBefore(day1, 250)] },
      late2: { orders: [], events: [daysBefore(day1, 200), daysBefore(day1, 100)] },
      ref1: { orders: [{ at: daysBefore(day1, 180), amount: 50 }, { at: daysBefore(day1, 60), amount: 50 }], events: [daysBefore(day1, 120)] },
      ref2: { orders: [{ at: daysBefore(day1, 90), amount: 50 }], events: [daysBefore(day1, 10)] },
      // in the oldest cohort month (June 2024 in Shanghai), which the new month drops
      old: { orders: [{ at: new Date('2024-06-10T00:00:00Z'), amount: 50 }, { at: daysBefore(day1, 40), amount: 50 }], events: [] },
      // first purchase before the window: the refund of it moves them into it
      older: { orders: [{ at: new Date('2023-12-01T00:00:00Z'), amount: 50 }, { at: daysBefore(day1, 100), amount: 50 }], events: [daysBefore(day1, 50)] },
      older2: { orders: [{ at: new Date('2023-12-01T00:00:00Z'), amount: 50 }], events: [daysBefore(day1, 50)] },
      // dated after the first run's reference time, before the second's
      future: { orders: [{ at: new Date(day1.getTime() + 2 * h), amount: 50 }], events: [new Date(day1.getTime() + 3 * h)] },
      // orders that cross the KPI edges (30 days, churn 90 days, 120, 12 months) during the day
      e30: { orders: [{ at: new Date(day1.getTime() - 30 * DAY + 2 * h), amount: 50 }], events: [] },
      e90: { orders: [{ at: new Date(day1.getTime() - 90 * DAY + 2 * h), amount: 50 }], events: [] },
      e120: { orders: [{ at: new Date(day1.getTime() - 120 * DAY + 2 * h), amount: 50 }], events: [] },
      e12m: { orders: [{ at: new Date('2025-05-31T14:00:00Z'), amount: 50 }, { at: daysBefore(day1, 20), amount: 50 }], events: [] },
      e31: { orders: [{ at: daysBefore(day1, 200), amount: 50 }], events: [new Date(day1.getTime() - 30 * DAY + 2 * h)] },
    };
    for (const [id, x] of Object.entries(named)) {
      await addCustomer(db, id);
      await addOrders(db, id, x.orders);
      await addEvents(db, id, x.events.map((at) => ({ at, type: 'visit' })));
    }
    const steps = [cohortsStep, kpisStep];
    assert.equal((await runPipeline(get(), { workspaceId: 1, now: day1, steps, mode: 'full' })).status, 'done');
    const cohorts = () =>
      db.selectFrom('cohort_retention').select(['basis', 'cohort_month', 'month_offset', 'cohort_size', 'retained']).orderBy('basis').orderBy('cohort_month').orderBy('month_offset').execute();
    const kpis = () => db.selectFrom('kpi_values').select(['kpi', 'day', 'value', 'numerator', 'denominator']).orderBy('kpi').orderBy('day').execute();
    const cohortsBefore = await cohorts();

    // the day's data
    await addOrders(db, 'late1', [{ at: daysBefore(day1, 300), amount: 50 }]); // earlier first purchase, arriving late
    await addOrders(db, 'late2', [{ at: daysBefore(day1, 230), amount: 50 }]); // a first purchase, months ago, arriving late
    for (const id of ['ref1', 'ref2', 'older']) {
      const first = await db.selectFrom('orders').select('id').where('customer_id', '=', id).orderBy('ordered_at').limit(1).executeTakeFirstOrThrow();
      await sql`update orders set status = 'refunded', updated_at = now() where workspace_id = 1 and id = ${first.id}`.execute(db);
    }
    for (const id of ['k3', 'k7', 'k99', 'old', 'older2']) {
      await addOrders(db, id, [{ at: new Date(day1.getTime() + 6 * h), amount: 70 }]);
      await addEvents(db, id, [{ at: new Date(day1.getTime() + 7 * h), type: 'login' }]);
    }
    for (const id of ['k10', 'k11', 'k12', 'late1']) await addEvents(db, id, [{ at: new Date(day1.getTime() + 8 * h), type: 'login' }, { at: daysBefore(day1, 70), type: 'visit' }]);
    await addCustomer(db, 'k-new');
    await addOrders(db, 'k-new', [{ at: new Date(day1.getTime() + 5 * h), amount: 50 }]);
    await addOrders(db, 'e30', [{ at: new Date('2025-05-31T15:00:00Z'), amount: 50 }]); // late, and already past the 12-month edge

    const inc = await runPipeline(get(), { workspaceId: 1, now: day2, steps, mode: 'incremental' });
    assert.equal(inc.status, 'done', inc.error);
    assert.deepEqual(inc.steps.map((s) => s.result?.mode), ['incremental', 'incremental']);
    const cohortsIncremental = await cohorts();
    const kpisIncremental = await kpis();
    assert.notDeepEqual(cohortsIncremental, cohortsBefore);
    assert.ok(!cohortsIncremental.some((r) => r.cohort_month < '2024-07-01'), 'the June 2024 cohort left the window');
    const today = kpisIncremental.filter((r) => r.day === '2026-06-01');
    assert.equal(today.length, KPIS.length);
    assert.ok(today.filter((r) => (r.denominator ?? 0) > 0).length >= 5, JSON.stringify(today));

    const full = await runPipeline(get(), { workspaceId: 1, now: day2, steps, mode: 'full' });
    assert.equal(full.status, 'done');
    assert.deepEqual(full.steps.map((s) => s.result?.mode), ['full', 'full']);
    assert.deepEqual(await cohorts(), cohortsIncremental);
    assert.deepEqual(await kpis(), kpisIncremental);

    // The full run's KPI step took kpi_buyers from the cohorts pass: the KPI step's own pass gives the same.
    const buyers = () => db.selectFrom('kpi_buyers' as never).selectAll().orderBy('customer_id' as never).execute();
    const fromCohorts = await buyers();
    await refreshKpis(db, 1, day2, 'Asia/Shanghai', DEFAULT_ANALYTICS);
    assert.deepEqual(await buyers(), fromCohorts);
    assert.deepEqual(await kpis(), kpisIncremental);

    // A later run's KPI step alone (no cohorts pass) at the same reference time does not take
    // the rows a cohorts pass left: a new buyer since must be counted.
    assert.equal((await runPipeline(get(), { workspaceId: 1, now: day2, steps, mode: 'full' })).status, 'done');
    await addCustomer(db, 'k-later');
    await addOrders(db, 'k-later', [{ at: new Date(day2.getTime() - 2 * h), amount: 50 }]);
    const alone = await runPipeline(get(), { workspaceId: 1, now: day2, steps, mode: 'full', only: ['kpis'] });
    assert.equal(alone.status, 'done', alone.error);
    assert.equal(alone.steps[0]!.result?.customers, fromCohorts.length + 1);
    const kpisAlone = await kpis();
    await refreshKpis(db, 1, day2, 'Asia/Shanghai', DEFAULT_ANALYTICS);
    assert.deepEqual(await kpis(), kpisAlone);
  });
});

forEachStore('cohorts and KPIs of two workspaces', (get) => {
  it("keeps one workspace's incremental state through a full pass of another", async () => {
    const { db } = get();
    await sql`insert into workspaces (id, slug, name) values (2, 'second', 'Second')`.execute(db);
    const day1 = new Date('2026-05-20T12:00:00Z');
    const day2 = new Date(day1.getTime() + DAY);
    for (const ws of [1, 2]) {
      for (let c = 0; c < 20; c++) {
        await sql`insert into customers (workspace_id, id) values (${ws}, ${`w${c}`})`.execute(db);
        for (let o = 0; o <= c % 4; o++) {
          await sql`insert into orders (workspace_id, id, customer_id, ordered_at, amount)
                    values (${ws}, ${`w${c}-${o}`}, ${`w${c}`}, ${daysBefore(day1, 20 + c * 17 + o * 45)}, 10)`.execute(db);
        }
      }
    }
    const steps = [cohortsStep, kpisStep];
    const run = async (ws: number, now: Date, mode: 'full' | 'incremental') => {
      const r = await runPipeline(get(), { workspaceId: ws, now, steps, mode });
      assert.equal(r.status, 'done', r.error);
      return r.steps.map((s) => s.result?.mode);
    };
    await run(2, day1, 'full');
    await run(1, day1, 'full'); // must leave workspace 2's state alone
    await sql`insert into orders (workspace_id, id, customer_id, ordered_at, amount) values (2, 'late', 'w3', ${daysBefore(day1, 400)}, 10)`.execute(db);
    assert.deepEqual(await run(2, day2, 'incremental'), ['incremental', 'incremental']);
    const cohorts = () =>
      db.selectFrom('cohort_retention').select(['basis', 'cohort_month', 'month_offset', 'cohort_size', 'retained']).where('workspace_id', '=', 2)
        .orderBy('basis').orderBy('cohort_month').orderBy('month_offset').execute();
    const kpis = () => db.selectFrom('kpi_values').select(['kpi', 'day', 'value']).where('workspace_id', '=', 2).where('day', '=', '2026-05-21').orderBy('kpi').execute();
    const incremental = { cohorts: await cohorts(), kpis: await kpis() };
    assert.ok(incremental.cohorts.length > 0);
    await run(2, day2, 'full');
    assert.deepEqual({ cohorts: await cohorts(), kpis: await kpis() }, incremental);
  });
});

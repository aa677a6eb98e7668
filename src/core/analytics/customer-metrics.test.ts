// The customer figures step: an incremental pass (window counts moved by the rows
// that crossed an edge, changed customers recomputed) must store exactly what a
// full recompute stores, whatever happened in between.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { forEachStore, type TestStore } from '../../db/testing.ts';
import { runPipeline, type Step } from '../pipeline/pipeline.ts';
import { markMerged, moveRows } from '../quality/merge.repository.ts';
import { customerMetricsStep } from './analytics.steps.ts';
import { FIGURES } from './metrics.repository.ts';
import { SCORED_FIGURES } from './scoring.repository.ts';
import { addCustomer, addEvents, addOrders, DAY, daysBefore, prng } from './testing.ts';

type Db = Kysely<Database>;

async function figures(db: Db): Promise<Map<string, Record<string, unknown>>> {
  const rows = await sql<Record<string, unknown>>`select * from customer_metrics where workspace_id = 1 order by customer_id`.execute(db);
  return new Map(rows.rows.map((r) => [r.customer_id as string, r]));
}

/** The customer list's order summary (customers.stats_*). */
async function stats(db: Db) {
  return (await sql`select id, stats_first_order_at, stats_last_order_at, stats_orders, stats_spend from customers where workspace_id = 1 order by id`.execute(db)).rows;
}

const same = (a: Record<string, unknown>, b: Record<string, unknown>) => FIGURES.every((k) => JSON.stringify(a[k]) === JSON.stringify(b[k]));

let seq = 0;
async function addTicket(db: Db, customerId: string, at: Date, kind: 'complaint' | 'inquiry', status = 'open'): Promise<string> {
  const id = `t${++seq}`;
  await sql`insert into tickets (workspace_id, id, customer_id, kind, status, created_at) values (1, ${id}, ${customerId}, ${kind}, ${status}, ${at})`.execute(db);
  return id;
}
async function addSurvey(db: Db, customerId: string, at: Date, nps: number | null, csat: number | null): Promise<void> {
  await sql`insert into survey_responses (workspace_id, id, customer_id, responded_at, nps, csat) values (1, ${`s${++seq}`}, ${customerId}, ${at}, ${nps}, ${csat})`.execute(db);
}
async function addReferral(db: Db, referrer: string, at: Date): Promise<void> {
  await sql`insert into referrals (workspace_id, id, referrer_id, referred_at) values (1, ${`r${++seq}`}, ${referrer}, ${at})`.execute(db);
}

/** A step that fails: the run fails after customer_metrics has committed its figures. */
const failing: Step = {
  name: 'boom',
  title: { en: 'fails', zh: '失败' },
  async run() {
    throw new Error('boom');
  },
};

/**
 * Incremental passes after all kinds of changes, each checked against a full pass.
 * `shards`: the incremental passes run in that many shards (LIUKE_ANALYTICS_SHARDS).
 */
async function incrementalEqualsFull(get: () => TestStore, shards: number | null): Promise<void> {
  const { db } = get();
  const rnd = prng(7);
  const day0 = new Date('2026-03-01T03:00:00Z');
  const types = ['login', 'page_view', 'feature_used', 'visit'];
  for (let c = 0; c < 120; c++) {
    const id = `c${c}`;
    await addCustomer(db, id);
    await addOrders(
      db,
      id,
      Array.from({ length: Math.floor(rnd() * 14) }, () => ({
        at: daysBefore(day0, rnd() * 600 - 3), // a few in the days after day0: not visible yet
        amount: Math.round(rnd() * 50000) / 100,
        status: rnd() < 0.1 ? ('refunded' as const) : rnd() < 0.05 ? ('returned' as const) : ('paid' as const),
        coupon: rnd() < 0.25 ? 'SPRING' : undefined,
      })),
    );
    await addEvents(db, id, Array.from({ length: Math.floor(rnd() * 25) }, () => ({ at: daysBefore(day0, rnd() * 130 - 2), type: types[Math.floor(rnd() * 4)]! })));
    if (rnd() < 0.4) await addTicket(db, id, daysBefore(day0, rnd() * 200 - 1), rnd() < 0.6 ? 'complaint' : 'inquiry', rnd() < 0.5 ? 'open' : 'closed');
    if (rnd() < 0.4) await addSurvey(db, id, daysBefore(day0, rnd() * 300 - 1), Math.floor(rnd() * 11), rnd() < 0.5 ? 1 + Math.floor(rnd() * 5) : null);
    if (rnd() < 0.2) await addReferral(db, id, daysBefore(day0, rnd() * 100 - 1));
  }
  // discounts without a coupon count as price-sensitive orders too
  await sql`update orders set discount = 5 where workspace_id = 1 and id in (select id from orders where workspace_id = 1 order by id limit 40)`.execute(db);

  const steps = [customerMetricsStep];
  const run = async (now: Date, mode: 'full' | 'incremental', withSteps: Step[] = steps) => {
    const r = await runPipeline(get(), { workspaceId: 1, now, steps: withSteps, mode });
    return r;
  };
  const first = await run(day0, 'full');
  assert.equal(first.status, 'done', first.error);

  let now = day0;
  const checkAgainstFull = async (label: string, expectIncremental = true) => {
    const before = await figures(db);
    const inc = await run(now, 'incremental');
    assert.equal(inc.status, 'done', inc.error);
    const result = inc.steps[0]!.result as { mode: string; shards?: number };
    if (expectIncremental) assert.equal(result.mode, 'incremental', label);
    if (expectIncremental) assert.equal(result.shards, shards ?? undefined, `${label}: shards`);
    const afterInc = await figures(db);
    const statsInc = await stats(db);
    // Only rows whose figures changed were written, and those carry this run's time.
    for (const [id, row] of afterInc) {
      const old = before.get(id);
      if (!old) continue;
      const changed = !same(old, row);
      assert.equal((row.as_of as Date).getTime() === now.getTime(), changed || (old.as_of as Date).getTime() === now.getTime(), `${label}: as_of of ${id}`);
      // inputs_at marks a change of what the scoring reads (its incremental run rescores those)
      const inputs = SCORED_FIGURES.some((k) => JSON.stringify(old[k]) !== JSON.stringify(row[k]));
      const stamped = (r: Record<string, unknown>) => (r.inputs_at as Date | null)?.getTime() === now.getTime();
      assert.equal(stamped(row), inputs || stamped(old), `${label}: inputs_at of ${id}`);
    }
    const full = await run(now, 'full');
    assert.equal(full.status, 'done', full.error);
    // A full recompute right after finds nothing to change...
    assert.equal((full.steps[0]!.result as { customers: number }).customers, 0, `${label}: rows a full pass still changed`);
    const afterFull = await figures(db);
    assert.deepEqual([...afterFull.keys()], [...afterInc.keys()], `${label}: customers`);
    for (const [id, row] of afterFull) {
      for (const k of FIGURES) assert.deepEqual(afterInc.get(id)![k], row[k], `${label}: ${id}.${k}`);
    }
    // ...and the customer list's summary is the same too.
    assert.deepEqual(await stats(db), statsInc, `${label}: the list's summary`);
  };

  // 1. a plain day: new orders and events for a few customers
  now = new Date(day0.getTime() + DAY);
  await addOrders(db, 'c1', [{ at: new Date(now.getTime() - 3600_000), amount: 120 }]);
  await addEvents(db, 'c2', [{ at: new Date(now.getTime() - 7200_000), type: 'login' }]);
  await checkAgainstFull('one day');

  // 2. late-arriving events (occurred weeks ago, received now), a refund of a paid
  //    order, an amount corrected, a ticket closed, a survey answered
  now = new Date(now.getTime() + 2.5 * DAY);
  await addEvents(db, 'c3', [{ at: daysBefore(now, 20), type: 'feature_used' }, { at: daysBefore(now, 45), type: 'login' }]);
  await addEvents(db, 'c4', [{ at: daysBefore(now, 400), type: 'page_view' }]);
  await sql`update orders set status = 'refunded', updated_at = now() where workspace_id = 1 and id = (
    select id from orders where workspace_id = 1 and status = 'paid' and ordered_at > ${daysBefore(now, 80)} and ordered_at <= ${now} order by id limit 1)`.execute(db);
  await sql`update orders set amount = amount + 10, updated_at = now() where workspace_id = 1 and id = (
    select id from orders where workspace_id = 1 and status = 'paid' and ordered_at > ${daysBefore(now, 300)} order by id desc limit 1)`.execute(db);
  await sql`update tickets set status = 'closed', updated_at = now() where workspace_id = 1 and id = (
    select id from tickets where workspace_id = 1 and status = 'open' order by id limit 1)`.execute(db);
  await addSurvey(db, 'c5', daysBefore(now, 1), 9, 4);
  await checkAgainstFull('two and a half days with late and changed rows');

  // 3. a merge, a new customer, an order dated after the run (visible only later)
  now = new Date(now.getTime() + DAY);
  // c6 merged into c7 as the product does it: its rows move (events without a new time)
  await addEvents(db, 'c6', [{ at: daysBefore(now, 0.3), type: 'login' }, { at: daysBefore(now, 25), type: 'feature_used' }]);
  await addOrders(db, 'c6', [{ at: daysBefore(now, 200), amount: 45 }]);
  await addReferral(db, 'c6', daysBefore(now, 10));
  await run(now, 'incremental');
  await moveRows(db, 1, 'c7', ['c6'], new Date());
  await markMerged(db, 1, ['c6'], 'c7', new Date());
  await addCustomer(db, 'newcomer');
  await addOrders(db, 'newcomer', [{ at: daysBefore(now, 0.5), amount: 80 }, { at: new Date(now.getTime() + 2 * DAY), amount: 60 }]);
  await addOrders(db, 'c8', [{ at: new Date(now.getTime() + 1.5 * DAY), amount: 70, coupon: 'LATER' }]);
  await checkAgainstFull('merge, new customer, future orders');

  // 4. a run that fails after the figures were written: the next run starts from them
  now = new Date(now.getTime() + 3 * DAY);
  await addEvents(db, 'c9', [{ at: daysBefore(now, 1), type: 'login' }]);
  const failed = await run(now, 'incremental', [customerMetricsStep, failing]);
  assert.equal(failed.status, 'failed');
  now = new Date(now.getTime() + DAY);
  await addOrders(db, 'c10', [{ at: daysBefore(now, 0.2), amount: 33 }]);
  await checkAgainstFull('after a failed run');

  // 5. a long gap: a hundred days move most rows across the 90- and 180-day edges
  now = new Date(now.getTime() + 100 * DAY + 5 * 3600_000);
  await checkAgainstFull('a hundred days later');

  // 6. the same reference time again: nothing moves
  await checkAgainstFull('the same time again');

  // 7. a different RFM window: everyone is recomputed
  await db.updateTable('workspaces').set({ settings: JSON.stringify({ analytics: { rfm: { windowMonths: 6 } } }) }).where('id', '=', 1).execute();
  now = new Date(now.getTime() + DAY);
  const changedSettings = await run(now, 'incremental');
  assert.equal((changedSettings.steps[0]!.result as { mode: string }).mode, 'full');
  now = new Date(now.getTime() + DAY);
  await checkAgainstFull('a day after the window changed');

  // 8. a day that changed most customers (a large import) is a full pass
  now = new Date(now.getTime() + DAY);
  for (let c = 0; c < 70; c++) await addEvents(db, `c${c}`, [{ at: daysBefore(now, 0.5), type: 'visit' }]);
  const busy = await run(now, 'incremental');
  assert.equal((busy.steps[0]!.result as { mode: string }).mode, 'full');
  // ...and the next day starts from it
  now = new Date(now.getTime() + DAY);
  await addOrders(db, 'c11', [{ at: daysBefore(now, 0.4), amount: 21 }]);
  await checkAgainstFull('the day after a large import');
}

forEachStore('customer figures: incremental passes equal a full recompute', (get) => {
  it('after late events, refunds, merges, new customers, future orders, a failed run and irregular gaps', async () => {
    await incrementalEqualsFull(get, null);
  });

  it('a full pass repairs a stale list summary and removes the rows of customers gone', async () => {
    const { db } = get();
    const now = new Date('2026-05-01T03:00:00Z');
    for (let c = 0; c < 6; c++) {
      await addCustomer(db, `g${c}`);
      await addOrders(db, `g${c}`, [{ at: daysBefore(now, 10 + c), amount: 20 + c }, { at: daysBefore(now, 100), amount: 5, status: 'refunded' }]);
    }
    const full = () => runPipeline(get(), { workspaceId: 1, now, steps: [customerMetricsStep], mode: 'full' });
    assert.equal((await full()).status, 'done');
    const want = await stats(db);
    const metrics = await figures(db);
    // written elsewhere: wrong figures on customer rows, figures missing
    await sql`update customers set stats_orders = 99 where workspace_id = 1 and id = 'g1'`.execute(db);
    await sql`update customers set stats_spend = 1 where workspace_id = 1 and id = 'g2'`.execute(db);
    await sql`update customers set stats_first_order_at = null, stats_last_order_at = null, stats_orders = null, stats_spend = null where workspace_id = 1 and id = 'g3'`.execute(db);
    await sql`update customer_metrics set orders_total = 7 where workspace_id = 1 and customer_id = 'g4'`.execute(db);
    assert.equal((await full()).status, 'done');
    assert.deepEqual(await stats(db), want);
    assert.deepEqual([...(await figures(db)).values()].map((r) => FIGURES.map((k) => r[k])), [...metrics.values()].map((r) => FIGURES.map((k) => r[k])));
    // a customer erased without the figures passes knowing: its rows go at the next full pass
    await sql`delete from orders where workspace_id = 1 and customer_id = 'g5'`.execute(db);
    await sql`delete from customers where workspace_id = 1 and id = 'g5'`.execute(db);
    assert.equal((await full()).status, 'done');
    assert.deepEqual([...(await figures(db)).keys()].filter((k) => k.startsWith('g')), ['g0', 'g1', 'g2', 'g3', 'g4']);
    const after = await stats(db);
    assert.deepEqual(after, want.filter((r) => (r as { id: string }).id !== 'g5'));
    // a customer merged into another: its figures go and the other's take its orders
    await moveRows(db, 1, 'g1', ['g0'], new Date());
    await markMerged(db, 1, ['g0'], 'g1', new Date());
    const merged = await full();
    assert.equal(merged.status, 'done');
    assert.equal((merged.steps[0]!.result as { removed: number }).removed, 1);
    const left = await figures(db);
    assert.deepEqual([...left.keys()].filter((k) => k.startsWith('g')), ['g1', 'g2', 'g3', 'g4']);
    assert.equal(left.get('g1')!.orders_total, (metrics.get('g0')!.orders_total as number) + (metrics.get('g1')!.orders_total as number));
  });
});

forEachStore('customer figures: money', (get) => {
  it('sums spend exactly to the cent, up to the largest amount an order holds', async () => {
    const { db } = get();
    const now = new Date('2026-05-01T03:00:00Z');
    await addCustomer(db, 'm1');
    // 0.01 + 0.10 + 999,999,999,999.99 (numeric(14,2)'s largest), a refund left out
    await addOrders(db, 'm1', [
      { at: daysBefore(now, 400), amount: 0.01 },
      { at: daysBefore(now, 30), amount: 0.1 },
      { at: daysBefore(now, 20), amount: 999999999999.99 },
      { at: daysBefore(now, 10), amount: 7.77, status: 'refunded' },
    ]);
    await addCustomer(db, 'm2');
    await addOrders(db, 'm2', Array.from({ length: 10 }, (_, i) => ({ at: daysBefore(now, 5 + i), amount: 0.1 })));
    assert.equal((await runPipeline(get(), { workspaceId: 1, now, steps: [customerMetricsStep], mode: 'full' })).status, 'done');
    const m = await sql<{ t: string; w: string }>`
      select spend_total::text as t, spend_window::text as w from customer_metrics where workspace_id = 1 and customer_id in ('m1', 'm2') order by customer_id`.execute(db);
    assert.deepEqual(m.rows, [{ t: '1000000000000.10', w: '1000000000000.09' }, { t: '1.00', w: '1.00' }]);
    // the same as PostgreSQL's own numeric sum, and on the customer list too
    const want = await sql<{ id: string; s: string }>`
      select customer_id as id, sum(amount)::text as s from orders where workspace_id = 1 and status = 'paid' group by customer_id order by 1`.execute(db);
    assert.deepEqual(want.rows.map((r) => r.s), ['1000000000000.10', '1.00']);
    const list = await sql<{ s: string }>`select stats_spend::text as s from customers where workspace_id = 1 and id in ('m1', 'm2') order by id`.execute(db);
    assert.deepEqual(list.rows.map((r) => r.s), ['1000000000000.10', '1.00']);
  });
});

forEachStore('customer figures: the incremental pass in three shards equals a full recompute', (get) => {
  it('after the same changes, each shard a range of customer ids in its own transaction', async () => {
    process.env.LIUKE_ANALYTICS_SHARDS = '3';
    try {
      await incrementalEqualsFull(get, 3);
    } finally {
      delete process.env.LIUKE_ANALYTICS_SHARDS;
    }
  });
});

forEachStore('customer figures: a sharded pass that fails part-way', (get) => {
  it('leaves no baseline behind: the next pass is a full one and gets every figure right', async () => {
    const { db } = get();
    const day0 = new Date('2026-04-01T03:00:00Z');
    const rnd = prng(3);
    for (let c = 0; c < 60; c++) {
      const id = `k${String(c).padStart(2, '0')}`;
      await addCustomer(db, id);
      await addOrders(db, id, Array.from({ length: 1 + Math.floor(rnd() * 5) }, () => ({ at: daysBefore(day0, rnd() * 300), amount: 10 + Math.round(rnd() * 90) })));
    }
    const run = async (now: Date, mode: 'full' | 'incremental') => runPipeline(get(), { workspaceId: 1, now, steps: [customerMetricsStep], mode });
    assert.equal((await run(day0, 'full')).status, 'done');
    process.env.LIUKE_ANALYTICS_SHARDS = '2';
    try {
      // The first and the last customer by id (in the first and the last shard) buy.
      const day1 = new Date(day0.getTime() + DAY);
      for (const id of ['k00', 'k59']) await addOrders(db, id, [{ at: daysBefore(day1, 0.5), amount: 500 }]);
      const spend = async (id: string) => Number((await sql<{ s: string }>`select spend_total as s from customer_metrics where workspace_id = 1 and customer_id = ${id}`.execute(db)).rows[0]!.s);
      const before = await spend('k59');
      await sql`create function liuke_test_fail() returns trigger language plpgsql as $$ begin raise exception 'the last shard failed'; end $$`.execute(db);
      await sql`create trigger liuke_test_fail before update on customer_metrics for each row when (new.customer_id = 'k59') execute function liuke_test_fail()`.execute(db);
      const failed = await run(day1, 'incremental');
      assert.equal(failed.status, 'failed');
      assert.match(failed.error ?? '', /the last shard failed/);
      await sql`drop trigger liuke_test_fail on customer_metrics`.execute(db);
      await sql`drop function liuke_test_fail()`.execute(db);
      // The first shard committed its customers' figures, but the pass left no baseline.
      assert.equal((await sql`select 1 from customer_metrics_state where workspace_id = 1`.execute(db)).rows.length, 0);
      assert.equal(await spend('k59'), before);
      // So the next pass is a full one, and a full pass right after it changes nothing.
      const next = await run(day1, 'incremental');
      assert.equal(next.status, 'done', next.error);
      assert.equal((next.steps[0]!.result as { mode: string }).mode, 'full');
      assert.equal(await spend('k59'), before + 500);
      const again = await run(day1, 'full');
      assert.equal((again.steps[0]!.result as { customers: number }).customers, 0);
      // and the day after is incremental (in shards) again
      const day2 = new Date(day1.getTime() + DAY);
      const inc = await run(day2, 'incremental');
      assert.deepEqual([(inc.steps[0]!.result as { mode: string }).mode, (inc.steps[0]!.result as { shards?: number }).shards], ['incremental', 2]);
    } finally {
      delete process.env.LIUKE_ANALYTICS_SHARDS;
    }
  });
});

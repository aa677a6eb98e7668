// Cohort retention: customers grouped by the month of their first paid order
// (in the workspace's time zone), and the number of them who bought — or, for
// the activity basis, bought or did anything — in each following month.
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { StepContext } from '../pipeline/pipeline.ts';
import type { Report } from '../reports/report.ts';
import { KPI_ACTIVE_DAYS, kpiEventFigures, kpiOrderFigures, storeBuyers } from './kpis.ts';
import { analyticsSession, workspaceTimeZone } from './settings.ts';

export type CohortBasis = 'purchase' | 'activity';

/** Year × 12 + month − 1 of `at` in the time zone: consecutive months get consecutive numbers. */
function monthNumber(at: Date, timeZone: string): number {
  const [y, m] = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit' }).format(at).split('-').map(Number);
  return y! * 12 + m! - 1;
}

const monthStart = (n: number) => `${Math.floor(n / 12)}-${String((n % 12) + 1).padStart(2, '0')}-01`;

type Sql = RawBuilder<unknown>;

/** What an incremental run starts from: the last successful run's start and reference time. */
export interface CohortsSince {
  since: Date;
  previousAsOf: Date;
}

/**
 * Brings the workspace's cohort table up to date as of `now` (both bases), in
 * one transaction, from a per-buyer state kept in cohort_members: the month of
 * the first paid order and two month bitmasks relative to it (paid orders; any
 * event). Without `incremental`, or when the state is not the one the last run
 * left, every buyer is recomputed (one pass over the paid orders and one over
 * the window's events). With it, only the customers whose orders changed or
 * crossed the reference time since are reread, new events are OR-ed into the
 * bitmasks, and the difference between their old and new rows is added to the
 * cohort cells.
 */
export async function refreshCohorts(
  db: Kysely<Database>,
  workspaceId: number,
  now: Date,
  timeZone: string,
  months = 24,
  incremental?: CohortsSince,
  /** A full pass also rebuilds kpi_buyers from its reads, for this pipeline run's KPI step (kpis.ts, storeBuyers). */
  buyersForRun?: number,
): Promise<{ rows: number; mode: 'full' | 'incremental'; customers: number }> {
  if (months > 62) throw new Error('cohorts: at most 62 months fit the month bitmask');
  const ws = workspaceId;
  const t = sql`${now}::timestamptz`;
  const last = monthNumber(now, timeZone);
  const base = last - (months - 1);
  // The month of a time as an index in the window (−1 before it): a binary search
  // among the months' first instants (computed once), not a time-zone conversion of every row.
  const starts = sql`(select array_agg((${monthStart(base)}::date + make_interval(months => i))::timestamp at time zone ${timeZone}::text order by i)
                      from generate_series(0, ${months - 1}::int) as i)`;
  const idx = (col: Sql) => sql`(width_bucket(${col}, ${starts}) - 1)`;
  const bit = (col: Sql) => sql`(1::bigint << ${idx(col)})`;
  const from = sql`(${monthStart(base)}::date::timestamp at time zone ${timeZone}::text)`;
  /** The first instant of absolute month number `n` (a column). */
  const startOf = (n: Sql) => sql`(make_date((${n} / 12)::int, (${n} % 12)::int + 1, 1)::timestamp at time zone ${timeZone}::text)`;
  const cohortDate = (c: Sql) => sql`make_date(((${sql.lit(base)} + ${c}) / 12)::int, ((${sql.lit(base)} + ${c}) % 12)::int + 1, 1)`;
  /**
   * The cells (window index of the cohort c, month offset k, purchase, activity)
   * summed over `rel` (c, pm, am, sgn): the rows are first counted by distinct
   * (c, pm, am) — a few per cohort and pattern — and only those are expanded to
   * a column per offset, not every customer.
   */
  const cells = (rel: Sql) => {
    const K = Array.from({ length: months }, (_, k) => sql.lit(k));
    const sums = (mask: string) => sql`array[${sql.join(K.map((k) => sql`sum(((${sql.ref(mask)} >> ${k}) & 1)::int * n)`))}]`;
    return sql`
      select g.c, (u.k - 1)::int as k, u.p::int as purchase, u.a::int as activity
      from (
        select c, ${sums('pm')} as p, ${sums('am')} as a
        from (select c, pm, am, sum(sgn)::int as n from (${rel}) r group by c, pm, am) r
        group by c
      ) g
        cross join lateral unnest(g.p, g.a) with ordinality as u(p, a, k)
      where u.k - 1 <= ${months - 1}::int - g.c and (u.p <> 0 or u.a <> 0)`;
  };
  /** Empties the workspace's rows of `table`: a truncate when they are all there is (no dead rows left behind). */
  const clear = async (trx: Kysely<Database>, table: 'cohort_members' | 'kpi_buyers') => {
    const others = await sql`select 1 from ${sql.table(table)} where workspace_id <> ${ws} limit 1`.execute(trx);
    await (others.rows.length ? sql`delete from ${sql.table(table)} where workspace_id = ${ws}` : sql`truncate ${sql.table(table)}`).execute(trx);
  };
  return db.transaction().execute(async (trx) => {
    await analyticsSession(trx);
    // One pass per workspace at a time: two would each rebuild or update the per-buyer rows.
    await sql`select pg_advisory_xact_lock(hashtext(${'liuke.cohorts'}), ${ws})`.execute(trx);
    const state = incremental
      ? (
          await sql<{ as_of: Date; time_zone: string; months: number }>`
            select as_of, time_zone, months from cohort_state where workspace_id = ${ws} for update`.execute(trx)
        ).rows[0]
      : undefined;
    const usable =
      state &&
      incremental &&
      state.time_zone === timeZone &&
      state.months === months &&
      new Date(state.as_of).getTime() === incremental.previousAsOf.getTime() &&
      incremental.previousAsOf <= now;
    let customers: number;
    if (!usable) {
      await clear(trx, 'cohort_members');
      // ck_o: each customer, with the window index of their first paid order (−1: before
      // the window, null: none) and the window's months of their paid orders, a CREATE
      // TABLE AS, which PostgreSQL may run in parallel (an INSERT … SELECT it does not);
      // ck: the buyers, with the window's months of their events beside (the events'
      // aggregate may be parallel too, under the join). Both masks are stored shifted to
      // the buyer's first month, which does not move when the window does. Buyers from
      // before the window keep a row (first_month below it, no masks) so that their
      // next order is known not to start a cohort. With `buyersForRun` the same two
      // passes also give the buyer KPIs' figures (the last 30 days' orders of any status
      // and events are within them), so the KPI step need not read orders and events again.
      const kpi = buyersForRun !== undefined;
      const ago = sql`${t} - make_interval(days => ${KPI_ACTIVE_DAYS}::int)`;
      // The events' lower bound as a value: an expression there kept the planner from a parallel index range.
      const low = kpi ? (await sql<{ low: Date }>`select least(${from}, ${ago}) as low`.execute(trx)).rows[0]!.low : undefined;
      await sql`
        create temp table ck_o on commit drop as
        select customer_id, ${idx(sql`min(ordered_at) filter (where status = 'paid')`)} as c,
               coalesce(bit_or(${bit(sql.ref('ordered_at'))}) filter (where status = 'paid' and ordered_at >= ${from}), 0) as pm
               ${kpi ? sql`, ${kpiOrderFigures(t)}` : sql``}
        from orders where workspace_id = ${ws} and ordered_at <= ${t} and ${kpi ? sql`(status = 'paid' or ordered_at > ${ago})` : sql`status = 'paid'`}
        group by customer_id`.execute(trx);
      // Read through the (workspace, customer, time) index when nearly every page of
      // events is all-visible (an index-only scan, already grouped by customer: a
      // fraction of the table's bytes and no hash of a million groups); the planner
      // prices it above a scan. Right after a big import, before vacuum, it would
      // visit the table in index order: then the scan stays.
      const visible = await sql<{ v: number }>`
        select relallvisible::float8 / greatest(relpages, 1) as v from pg_class where oid = 'events'::regclass`.execute(trx);
      const byIndex = (visible.rows[0]?.v ?? 0) >= 0.9;
      if (byIndex) await sql`set local enable_seqscan = off`.execute(trx);
      if (byIndex) await sql`set local enable_bitmapscan = off`.execute(trx);
      await sql`
        create temp table ck on commit drop as
        select o.customer_id, o.c, o.pm, coalesce(e.em, 0) as em ${kpi ? sql`, o.kpi_last_paid, o.kpi_then, o.kpi_n12, o.kpi_active_o, e.kpi_active_e` : sql``}
        from ck_o o left join (
          select customer_id, coalesce(bit_or(${bit(sql.ref('occurred_at'))}) filter (where occurred_at >= ${from}), 0) as em
                 ${kpi ? sql`, ${kpiEventFigures(t)}` : sql``}
          from events where workspace_id = ${ws} and customer_id is not null and occurred_at <= ${t}
            and occurred_at >= ${low ? sql`${low}::timestamptz` : from}
          group by customer_id
        ) e on e.customer_id = o.customer_id
        where o.c is not null`.execute(trx);
      if (byIndex) await sql`set local enable_seqscan = on`.execute(trx);
      if (byIndex) await sql`set local enable_bitmapscan = on`.execute(trx);
      const r = await sql`
        insert into cohort_members (workspace_id, customer_id, first_month, purchase_months, event_months)
        select ${ws}::int, customer_id, ${base}::int + c, case when c >= 0 then pm >> c else 0 end, case when c >= 0 then em >> c else 0 end
        from ck`.execute(trx);
      customers = Number(r.numAffectedRows ?? 0);
      if (kpi) await storeBuyers(trx, ws, now, sql`select * from ck`, buyersForRun);
      await sql`delete from cohort_retention where workspace_id = ${ws}`.execute(trx);
      await sql`
        with c as (${cells(sql`select c, pm >> c as pm, (pm | em) >> c as am, 1 as sgn from ck where c >= 0`)}),
        sizes as (select c, purchase as n from c where k = 0)
        insert into cohort_retention (workspace_id, basis, cohort_month, month_offset, cohort_size, retained, computed_at)
        select ${ws}::int, b.basis, ${cohortDate(sql.ref('c.c'))}, c.k, s.n, case b.basis when 'purchase' then c.purchase else c.activity end, ${t}
        from c join sizes s on s.c = c.c cross join (values ('purchase'), ('activity')) as b(basis)
        where case b.basis when 'purchase' then c.purchase else c.activity end > 0`.execute(trx);
      await sql`drop table ck_o, ck`.execute(trx);
    } else {
      const { since, previousAsOf } = incremental;
      const prev = sql`${previousAsOf}::timestamptz`;
      const inWindow = (alias?: string) => sql`${sql.ref(alias ? `${alias}.first_month` : 'first_month')} >= ${base}::int`;
      // ck_m: customers with an order changed since (created before `since`, written
      // after: a refund, a merge) — and, with `reread`, a changed customer row (a merge
      // moves their events too): their paid orders are reread.
      await sql`
        create temp table ck_m on commit drop as
        select id, bool_or(reread) as reread from (
          select customer_id as id, false as reread from orders where workspace_id = ${ws} and updated_at > ${since} and created_at <= ${since}
          union all
          select id, true from customers where workspace_id = ${ws} and updated_at > ${since}
        ) x group by id`.execute(trx);
      // ck_a: paid orders added — created since, or older ones whose time passed the
      // last reference time: only more months, or an earlier first month.
      await sql`
        create temp table ck_a on commit drop as
        select id, min(at) as first_added, coalesce(bit_or(${bit(sql.ref('at'))}) filter (where at >= ${from}), 0) as wm from (
          select customer_id as id, ordered_at as at from orders
          where workspace_id = ${ws} and status = 'paid' and updated_at > ${since} and created_at > ${since} and ordered_at <= ${t} and not ordered_at > ${prev}
          union all
          select customer_id, ordered_at from orders where workspace_id = ${ws} and status = 'paid' and ordered_at > ${prev} and ordered_at <= ${t}
        ) x group by id`.execute(trx);
      // ck_e: the window months of events received since or whose time passed the last reference time.
      await sql`
        create temp table ck_e on commit drop as
        select id, bit_or(1::bigint << w) as wm from (
          select customer_id as id, ${idx(sql.ref('occurred_at'))} as w from events
          where workspace_id = ${ws} and customer_id is not null and received_at > ${since} and occurred_at <= ${t}
          union all
          select customer_id, ${idx(sql.ref('occurred_at'))} from events
          where workspace_id = ${ws} and customer_id is not null and occurred_at > ${prev} and occurred_at <= ${t}
        ) x where w >= 0 group by id`.execute(trx);
      // Their rows come out of cohort_members into ck_old (one pass over the table).
      await sql`create temp table ck_old (id text, first_month int, pm bigint, em bigint) on commit drop`.execute(trx);
      await sql`
        with gone as (
          delete from cohort_members m
          where m.workspace_id = ${ws} and m.customer_id in (select id from ck_m union select id from ck_a union select id from ck_e)
          returning m.customer_id, m.first_month, m.purchase_months, m.event_months)
        insert into ck_old select * from gone`.execute(trx);
      await sql`analyze ck_m, ck_a, ck_e, ck_old`.execute(trx);
      // ck_r: customers recomputed from their orders — ck_m, new buyers, and buyers in
      // the window whose added order is older than their first month.
      await sql`
        create temp table ck_r on commit drop as
        select id, bool_or(reread) as reread from (
          select id, reread from ck_m
          union all
          select a.id, false from ck_a a left join ck_old o on o.id = a.id
          where o.id is null or (${inWindow('o')} and a.first_added < ${startOf(sql.ref('o.first_month'))})
        ) x group by id`.execute(trx);
      // Their event months carry over, shifted, when the first month stayed in the window
      // or moved later in it (a refund); otherwise (an earlier first month, a new buyer, a
      // changed customer row) they are reread from the events (em null here). Everyone
      // else keeps their row. Rows in the window get the months of the added orders and
      // new events OR-ed in (already in the recomputed ones: no change there).
      await sql`
        create temp table ck_new on commit drop as
        select n.id, n.first_month,
               case when ${inWindow('n')} then n.pm | coalesce(a.wm >> (n.first_month - ${base}::int), 0) else n.pm end as pm,
               case when ${inWindow('n')} then n.em | coalesce(e.wm >> (n.first_month - ${base}::int), 0) else n.em end as em
        from (
          select o.id, ${base}::int + o.c as first_month, case when o.c >= 0 then o.pm >> o.c else 0 end as pm,
                 case when o.c < 0 then 0
                      when old.id is not null and not r.reread and ${inWindow('old')} and old.first_month <= ${base}::int + o.c
                      then old.em >> (${base}::int + o.c - old.first_month) end as em
          from (
            -- per customer (a lateral index range each): a join with the few customers
            -- would be planned as a scan of every order
            select r.id, ${idx(sql.ref('x.first_paid'))} as c, x.pm
            from ck_r r cross join lateral (
              select min(ordered_at) as first_paid, coalesce(bit_or(${bit(sql.ref('ordered_at'))}) filter (where ordered_at >= ${from}), 0) as pm
              from orders where workspace_id = ${ws} and customer_id = r.id and status = 'paid' and ordered_at <= ${t}) x
            where x.first_paid is not null
          ) o
          join ck_r r on r.id = o.id
          left join ck_old old on old.id = o.id
          union all
          select id, first_month, pm, em from ck_old where not exists (select 1 from ck_r r where r.id = ck_old.id)
        ) n
        left join ck_a a on a.id = n.id
        left join ck_e e on e.id = n.id`.execute(trx);
      await sql`
        update ck_new n set em = coalesce((
          select bit_or(${bit(sql.ref('e.occurred_at'))}) from events e
          where e.workspace_id = ${ws} and e.customer_id = n.id and e.occurred_at >= ${startOf(sql.ref('n.first_month'))} and e.occurred_at <= ${t}), 0)
          >> (n.first_month - ${base}::int)
        where n.em is null`.execute(trx);
      // The cells' change: the new rows counted in, the old ones out.
      await sql`
        with d as (${cells(sql`
          select first_month - ${base}::int as c, pm, pm | em as am, 1 as sgn from ck_new where ${inWindow()}
          union all
          select first_month - ${base}::int, pm, pm | em, -1 from ck_old where ${inWindow()}`)})
        insert into cohort_retention as r (workspace_id, basis, cohort_month, month_offset, cohort_size, retained, computed_at)
        select ${ws}::int, b.basis, ${cohortDate(sql.ref('d.c'))}, d.k, 0, case b.basis when 'purchase' then d.purchase else d.activity end, ${t}
        from d cross join (values ('purchase'), ('activity')) as b(basis)
        where case b.basis when 'purchase' then d.purchase else d.activity end <> 0
        on conflict (workspace_id, basis, cohort_month, month_offset) do update set retained = r.retained + excluded.retained`.execute(trx);
      const r = await sql`insert into cohort_members (workspace_id, customer_id, first_month, purchase_months, event_months)
                          select ${ws}::int, id, first_month, pm, em from ck_new`.execute(trx);
      customers = Number(r.numAffectedRows ?? 0);
      // A cohort's size is its purchase cell of month 0; cells without anyone are not stored.
      await sql`
        delete from cohort_retention
        where workspace_id = ${ws} and (retained <= 0 or cohort_month < ${monthStart(base)}::date)`.execute(trx);
      await sql`
        update cohort_retention r set computed_at = ${t}, cohort_size = coalesce((
          select s.retained from cohort_retention s
          where s.workspace_id = r.workspace_id and s.basis = 'purchase' and s.cohort_month = r.cohort_month and s.month_offset = 0), 0)
        where r.workspace_id = ${ws}`.execute(trx);
      await sql`drop table ck_m, ck_a, ck_e, ck_old, ck_r, ck_new`.execute(trx);
    }
    await sql`
      insert into cohort_state (workspace_id, as_of, time_zone, months) values (${ws}, ${t}, ${timeZone}, ${months})
      on conflict (workspace_id) do update set as_of = excluded.as_of, time_zone = excluded.time_zone, months = excluded.months`.execute(trx);
    const n = await sql<{ n: number }>`select count(*)::int as n from cohort_retention where workspace_id = ${ws}`.execute(trx);
    return { rows: n.rows[0]!.n, mode: usable ? 'incremental' : 'full', customers };
  });
}

export async function cohortReport(db: Kysely<Database>, workspaceId: number, basis: CohortBasis): Promise<Report> {
  const rows = await db
    .selectFrom('cohort_retention')
    .select(['cohort_month', 'month_offset', 'cohort_size', 'retained'])
    .where('workspace_id', '=', workspaceId)
    .where('basis', '=', basis)
    .orderBy('cohort_month')
    .orderBy('month_offset')
    .execute();
  return {
    name: 'cohorts',
    title:
      basis === 'purchase'
        ? { en: 'Cohort retention by first-purchase month (purchases)', zh: '按首购月份的同期群留存（购买）' }
        : { en: 'Cohort retention by first-purchase month (any activity)', zh: '按首购月份的同期群留存（活跃）' },
    columns: [
      { key: 'cohort', en: 'Cohort (first purchase)', zh: '同期群（首购月份）' },
      { key: 'month', en: 'Months after', zh: '第几个月', type: 'number' },
      { key: 'cohort_size', en: 'Cohort size', zh: '同期群人数', type: 'number' },
      { key: 'retained', en: 'Retained', zh: '留存人数', type: 'number' },
      { key: 'rate', en: 'Retention rate', zh: '留存率', type: 'percent' },
    ],
    rows: rows.map((r) => ({
      cohort: r.cohort_month.slice(0, 7),
      month: r.month_offset,
      cohort_size: r.cohort_size,
      retained: r.retained,
      rate: r.cohort_size ? r.retained / r.cohort_size : 0,
    })),
    meta: { basis },
  };
}

/** The pipeline's cohorts step: every buyer on a full run, those with changed orders or new events on an incremental one. */
export async function runCohortsStep(ctx: StepContext): Promise<Record<string, unknown>> {
  const incremental = ctx.mode === 'incremental' && ctx.since && ctx.previousAsOf ? { since: ctx.since, previousAsOf: ctx.previousAsOf } : undefined;
  return refreshCohorts(ctx.db, ctx.workspaceId, ctx.now, await workspaceTimeZone(ctx.db, ctx.workspaceId), 24, incremental, ctx.runId);
}

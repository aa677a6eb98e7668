// Per-customer figures, set-based. Everything is "as of" a reference time:
// rows after it are ignored, so a past date gives the figures as they were.
//
// A full pass computes every customer's figures into a temporary table in one
// read-only statement (PostgreSQL runs it with parallel workers: writing
// statements never get parallel plans), then writes only the rows that differ.
// The same pass feeds the customer list's order summary (customers.stats_*).
//
// An incremental pass starts from the figures as of the last pass (its reference
// time and start are kept in customer_metrics_state, written in the same
// transaction as the figures) and
//   - recomputes from scratch the customers with rows changed since then
//     (updated_at / received_at after its start) or that became visible (time
//     between the two reference times), through their own index ranges;
//   - moves every other customer's window counts by the rows that crossed a
//     window edge: minus the rows that left a window, plus those that entered one.
// Figures move only by those two ways, so the result equals a full recompute.
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { copyFiguresToCustomers } from '../customers/customers.stats.ts';
import { sumMoney } from '../../db/money.ts';
import { countRows, estimatedRows, sampledQuantiles } from '../../db/planner.ts';
import { SCORED_FIGURES } from './scoring.repository.ts';
import { type AnalyticsSettings, analyticsSession, eachShard } from './settings.ts';

type Db = Kysely<Database>;

/** Advisory lock class of the customer figures pass (with the workspace id as the second key). */
const FIGURES_LOCK = 7_226_315;

/** The columns of customer_metrics this pass owns (scores belong to the scoring pass). */
export const FIGURES = [
  'first_order_at', 'last_order_at', 'orders_total', 'spend_total', 'orders_window', 'spend_window',
  'orders_90d', 'orders_prev_90d', 'orders_base', 'coupon_orders_window', 'refunded_orders', 'orders_all_statuses',
  'last_event_at', 'events_30d', 'logins_30d', 'logins_7d', 'core_uses_30d', 'events_prev_30d',
  'complaints_total', 'complaints_90d', 'open_tickets', 'csat_avg', 'last_nps', 'referrals',
] as const;

/** Which table's rows each figure comes from: a changed customer is recomputed for those tables only. */
const GROUP: Record<(typeof FIGURES)[number], 'o' | 'ev' | 'ot'> = Object.fromEntries(
  FIGURES.map((c, i) => [c, i < 12 ? 'o' : i < 18 ? 'ev' : 'ot']),
) as never;

/** Window edges of a run, each computed once by PostgreSQL (its calendar arithmetic, in the session's time zone). */
interface Edges {
  now: Date;
  win: Date;
  d7: Date;
  d30: Date;
  d60: Date;
  d90: Date;
  d180: Date;
  d455: Date;
}

async function edgesAt(db: Db, now: Date, months: number): Promise<Edges> {
  const t = sql`${now}::timestamptz`;
  const d = (n: number) => sql`${t} - make_interval(days => ${n}::int)`;
  const r = await sql<Edges>`
    select ${t} as now, ${t} - make_interval(months => ${months}::int) as win,
      ${d(7)} as d7, ${d(30)} as d30, ${d(60)} as d60, ${d(90)} as d90, ${d(180)} as d180, ${d(455)} as d455`.execute(db);
  return r.rows[0]!;
}

const ts = (d: Date) => sql`${d}::timestamptz`;

/** Aggregates over orders (alias o) up to the reference time. */
function orderAggregates(e: Edges): RawBuilder<unknown> {
  const paid = sql`o.status = 'paid'`;
  return sql`
    min(o.ordered_at) filter (where ${paid}) as first_order_at,
    max(o.ordered_at) filter (where ${paid}) as last_order_at,
    count(*) filter (where ${paid}) as orders_total,
    ${sumMoney(sql`o.amount`, paid)} as spend_total,
    count(*) filter (where ${paid} and o.ordered_at > ${ts(e.win)}) as orders_window,
    ${sumMoney(sql`o.amount`, sql`${paid} and o.ordered_at > ${ts(e.win)}`)} as spend_window,
    count(*) filter (where ${paid} and o.ordered_at > ${ts(e.d90)}) as orders_90d,
    count(*) filter (where ${paid} and o.ordered_at > ${ts(e.d180)} and o.ordered_at <= ${ts(e.d90)}) as orders_prev_90d,
    count(*) filter (where ${paid} and o.ordered_at > ${ts(e.d455)} and o.ordered_at <= ${ts(e.d90)}) as orders_base,
    count(*) filter (where ${paid} and o.ordered_at > ${ts(e.win)} and (o.coupon_code is not null or o.discount > 0)) as coupon_orders_window,
    count(*) filter (where o.status <> 'paid') as refunded_orders,
    count(*) as orders_all_statuses`;
}

/**
 * Orders after the reference time: not in the figures, but in the customer list's
 * summary (customers.stats_* count every order). Usually none.
 */
const laterOrderAggregates = sql`
    min(o.ordered_at) filter (where o.status = 'paid') as first_order_at,
    max(o.ordered_at) filter (where o.status = 'paid') as last_order_at,
    count(*) filter (where o.status = 'paid') as orders,
    ${sumMoney(sql`o.amount`, sql`o.status = 'paid'`)} as spend`;

/** Aggregates over the events (alias e) of the 60 days to the reference time. */
function eventAggregates(e: Edges, s: AnalyticsSettings): RawBuilder<unknown> {
  return sql`
    max(e.occurred_at) as last_event_at,
    count(*) filter (where e.occurred_at > ${ts(e.d30)}) as events_30d,
    count(*) filter (where e.type = 'login' and e.occurred_at > ${ts(e.d30)}) as logins_30d,
    count(*) filter (where e.type = 'login' and e.occurred_at > ${ts(e.d7)}) as logins_7d,
    count(*) filter (where e.type = any(${s.activity.coreEventTypes}::text[]) and e.occurred_at > ${ts(e.d30)}) as core_uses_30d,
    count(*) filter (where e.occurred_at <= ${ts(e.d30)}) as events_prev_30d`;
}

function ticketAggregates(e: Edges): RawBuilder<unknown> {
  return sql`
    count(*) filter (where t.kind = 'complaint') as complaints_total,
    count(*) filter (where t.kind = 'complaint' and t.created_at > ${ts(e.d90)}) as complaints_90d,
    count(*) filter (where t.status in ('open', 'pending', 'reopened')) as open_tickets`;
}

const surveyAggregates = sql`
    avg(v.csat) filter (where v.csat is not null) as csat_avg,
    (array_agg(v.nps order by v.responded_at desc, v.id desc) filter (where v.nps is not null))[1] as last_nps`;

/**
 * The select list of the figures table, for customer c from the joined aggregates
 * o, lo (later orders), e, tk, sv, rf: the figures with the types of
 * customer_metrics, and st_* for customers.stats_* (every order, whatever its time).
 * The last event is the latest of the 60 days that e covers, and only for the
 * customers without one there, one backward step of the (customer, time) index:
 * cheaper than a pass over all events' history.
 */
const figureColumns = (ws: number, e: Edges, eventGate: RawBuilder<unknown>) => sql`
    o.first_order_at, o.last_order_at, coalesce(o.orders_total, 0)::int as orders_total,
    coalesce(o.spend_total, 0)::numeric(16, 2) as spend_total,
    coalesce(o.orders_window, 0)::int as orders_window, coalesce(o.spend_window, 0)::numeric(16, 2) as spend_window,
    coalesce(o.orders_90d, 0)::int as orders_90d, coalesce(o.orders_prev_90d, 0)::int as orders_prev_90d,
    coalesce(o.orders_base, 0)::int as orders_base, coalesce(o.coupon_orders_window, 0)::int as coupon_orders_window,
    coalesce(o.refunded_orders, 0)::int as refunded_orders, coalesce(o.orders_all_statuses, 0)::int as orders_all_statuses,
    coalesce(e.last_event_at, case when ${eventGate} then (
      select max(x.occurred_at) from events x
      where x.workspace_id = ${ws} and x.customer_id = c.id and x.occurred_at <= ${ts(e.now)}) end) as last_event_at,
    coalesce(e.events_30d, 0)::int as events_30d, coalesce(e.logins_30d, 0)::int as logins_30d,
    coalesce(e.logins_7d, 0)::int as logins_7d, coalesce(e.core_uses_30d, 0)::int as core_uses_30d,
    coalesce(e.events_prev_30d, 0)::int as events_prev_30d,
    coalesce(tk.complaints_total, 0)::int as complaints_total, coalesce(tk.complaints_90d, 0)::int as complaints_90d,
    coalesce(tk.open_tickets, 0)::int as open_tickets,
    sv.csat_avg::double precision as csat_avg, sv.last_nps::smallint as last_nps, coalesce(rf.referrals, 0)::int as referrals,
    least(o.first_order_at, lo.first_order_at) as st_first_order_at,
    greatest(o.last_order_at, lo.last_order_at) as st_last_order_at,
    (coalesce(o.orders_total, 0) + coalesce(lo.orders, 0))::int as st_orders,
    (coalesce(o.spend_total, 0) + coalesce(lo.spend, 0))::numeric(16, 2) as st_spend`;

/** Every customer of the workspace (merged ones flagged: they keep a list summary, not figures) into cm_fig. */
async function figuresOfAll(db: Db, ws: number, e: Edges, s: AnalyticsSettings): Promise<void> {
  const t = ts(e.now);
  await sql`
    create temp table cm_fig on commit drop as
    with o as (
      select o.customer_id, ${orderAggregates(e)}
      from orders o where o.workspace_id = ${ws} and o.ordered_at <= ${t}
      group by o.customer_id
    ),
    lo as (
      select o.customer_id, ${laterOrderAggregates}
      from orders o where o.workspace_id = ${ws} and o.ordered_at > ${t}
      group by o.customer_id
    ),
    e as (
      select e.customer_id, ${eventAggregates(e, s)}
      from events e
      where e.workspace_id = ${ws} and e.customer_id is not null and e.occurred_at > ${ts(e.d60)} and e.occurred_at <= ${t}
      group by e.customer_id
    ),
    tk as (
      select t.customer_id, ${ticketAggregates(e)}
      from tickets t where t.workspace_id = ${ws} and t.customer_id is not null and t.created_at <= ${t}
      group by t.customer_id
    ),
    sv as (
      select v.customer_id, ${surveyAggregates}
      from survey_responses v where v.workspace_id = ${ws} and v.customer_id is not null and v.responded_at <= ${t}
      group by v.customer_id
    ),
    rf as (
      select r.referrer_id as customer_id, count(*) as referrals
      from referrals r where r.workspace_id = ${ws} and r.referred_at <= ${t}
      group by r.referrer_id
    )
    select g.*, cm.customer_id is not null as known,
      (${sql.join(FIGURES.map((c) => sql.ref(`cm.${c}`)))}) is distinct from (${sql.join(FIGURES.map((c) => sql.ref(`g.${c}`)))}) as cm_diff,
      (g.c_first_order_at, g.c_last_order_at, g.c_orders, g.c_spend)
        is distinct from (g.st_first_order_at, g.st_last_order_at, g.st_orders, g.st_spend) as c_diff
    from (
    select c.id as customer_id, c.merged_into is not null as merged,
      c.stats_first_order_at as c_first_order_at, c.stats_last_order_at as c_last_order_at,
      c.stats_orders as c_orders, c.stats_spend as c_spend,
      ${figureColumns(ws, e, sql`true`)}
    from customers c
      left join o on o.customer_id = c.id
      left join lo on lo.customer_id = c.id
      left join e on e.customer_id = c.id
      left join tk on tk.customer_id = c.id
      left join sv on sv.customer_id = c.id
      left join rf on rf.customer_id = c.id
    where c.workspace_id = ${ws}
    -- offset 0 keeps g a subquery computed once per row: pulled up, its columns were pasted
    -- into each use, and the last event's index probe for the half of the customers without
    -- an event in 60 days ran twice (for cm_diff and for the output; 2.5 s at 1M customers)
    offset 0
    ) g
      left join customer_metrics cm on cm.workspace_id = ${ws} and cm.customer_id = g.customer_id`.execute(db);
}

/**
 * The customers listed in cm_ids into cm_fig, each through its own index ranges
 * (a few customers out of many: no pass over whole tables), and only from the
 * tables flagged for it; its other figures are kept from customer_metrics (the
 * window moves of shiftWindows apply to them). Same figures as figuresOfAll.
 */
async function figuresOfSome(db: Db, ws: number, e: Edges, s: AnalyticsSettings): Promise<void> {
  const t = ts(e.now);
  const kept = sql.join(
    FIGURES.map((c) => sql`case when g.${sql.raw(GROUP[c])} then g.${sql.ref(c)} else cm.${sql.ref(c)} end as ${sql.ref(c)}`),
  );
  // A lateral whose condition on i is false is not run at all (a one-time filter).
  await sql`
    create temp table cm_fig on commit drop as
    select g.customer_id, g.merged, cm.customer_id is not null as known, g.o, ${kept},
      g.st_first_order_at, g.st_last_order_at, g.st_orders, g.st_spend
    from (
      select c.id as customer_id, c.merged_into is not null as merged, i.o, i.ev, i.ot, ${figureColumns(ws, e, sql`i.ev`)}
      from cm_ids i
        join customers c on c.workspace_id = ${ws} and c.id = i.id
        cross join lateral (
          select ${orderAggregates(e)} from orders o
          where i.o and o.workspace_id = ${ws} and o.customer_id = c.id and o.ordered_at <= ${t}) o
        cross join lateral (
          select ${laterOrderAggregates} from orders o
          where i.o and o.workspace_id = ${ws} and o.customer_id = c.id and o.ordered_at > ${t}) lo
        cross join lateral (
          select ${eventAggregates(e, s)} from events e
          where i.ev and e.workspace_id = ${ws} and e.customer_id = c.id and e.occurred_at > ${ts(e.d60)} and e.occurred_at <= ${t}) e
        cross join lateral (
          select ${ticketAggregates(e)} from tickets t
          where i.ot and t.workspace_id = ${ws} and t.customer_id = c.id and t.created_at <= ${t}) tk
        cross join lateral (
          select ${surveyAggregates} from survey_responses v
          where i.ot and v.workspace_id = ${ws} and v.customer_id = c.id and v.responded_at <= ${t}) sv
        cross join lateral (
          select count(*) as referrals from referrals r
          where i.ot and r.workspace_id = ${ws} and r.referrer_id = c.id and r.referred_at <= ${t}) rf
    ) g
    left join customer_metrics cm on cm.workspace_id = ${ws} and cm.customer_id = g.customer_id`.execute(db);
}

/**
 * Writes cm_fig into customer_metrics: only rows whose figures differ (their
 * as_of becomes the run's), new customers, and removal of the rows of customers
 * gone or merged — among all customers, or among cm_ids when `some`.
 */
async function writeFigures(db: Db, ws: number, now: Date, some: boolean): Promise<{ written: number; removed: number }> {
  const cols = sql.join(FIGURES.map((c) => sql.ref(c)));
  const set = sql.join(FIGURES.map((c) => sql`${sql.ref(c)} = f.${sql.ref(c)}`));
  const mine = sql.join(FIGURES.map((c) => sql.ref(`cm.${c}`)));
  const theirs = sql.join(FIGURES.map((c) => sql.ref(`f.${c}`)));
  const scored = (alias: string) => sql.join(SCORED_FIGURES.map((c) => sql.ref(`${alias}.${c}`)));
  // A full pass compared the figures with the stored rows as it read them (cm_diff).
  const u = await sql`
    update customer_metrics cm set as_of = ${now},
      inputs_at = case when (${scored('cm')}) is distinct from (${scored('f')}) then ${now} else cm.inputs_at end, ${set}
    from cm_fig f
    where cm.workspace_id = ${ws} and cm.customer_id = f.customer_id and not f.merged
      and ${some ? sql`(${mine}) is distinct from (${theirs})` : sql`f.cm_diff`}`.execute(db);
  // cm_fig says which customers already have a row (read with the figures, before any
  // write): an anti-join against customer_metrics here depended on the planner — on a
  // first pass the statistics say the table is empty, and a nested loop rescanned every
  // page this same insert kept adding (at 1M customers it ran for over ten minutes).
  const i = await sql`
    insert into customer_metrics (workspace_id, customer_id, as_of, inputs_at, ${cols})
    select ${ws}::int, f.customer_id, ${now}, ${now}, ${theirs}
    from cm_fig f
    where not f.merged and not f.known
    -- in key order: a first pass inserts every customer, and its primary key then grows
    -- at its right edge instead of splitting pages all over (10.9 -> 8.4 s at 1M)
    order by f.customer_id`.execute(db);
  // Among all customers, the rows of customers gone are looked for only when there are any:
  // when customer_metrics holds more rows than those cm_fig found (known) and those just inserted.
  const orphans = !some && (await hasRowsOfGoneCustomers(db, ws));
  // A row goes when cm_fig holds no figures for its customer (gone, or merged into another).
  const noFigures = sql`not exists (select 1 from cm_fig f where f.customer_id = cm.customer_id and not f.merged)`;
  let d: { numAffectedRows?: bigint } | null = null;
  if (some) {
    // the few candidates (merged or gone) are found among cm_ids first, then probed
    d = await sql`
      delete from customer_metrics cm
      where cm.workspace_id = ${ws}
        and cm.customer_id in (select i.id from cm_ids i where not exists (select 1 from cm_fig g where g.customer_id = i.id and not g.merged))
        and ${noFigures}`.execute(db);
  } else if (orphans) {
    // customers gone: only in a workspace whose rows the statistics know (a new one has
    // none gone), so the anti-join is planned on the right counts
    d = await sql`delete from customer_metrics cm where cm.workspace_id = ${ws} and ${noFigures}`.execute(db);
  } else if ((await sql`select 1 as x from cm_fig where merged and known limit 1`.execute(db)).rows.length > 0) {
    // Customers merged into others (cm_fig has one row per customer), looked for first: a
    // full pass's cm_fig has no index, and on a new workspace's first pass the statistics
    // (made of the other workspaces' rows) put its customer_metrics rows at one, so any
    // join of the two ran as a loop over cm_fig for each of the rows just inserted (120 s
    // for 20,000 customers beside a workspace of 20,000; hours beside a larger one).
    d = await sql`
      delete from customer_metrics cm using cm_fig f
      where cm.workspace_id = ${ws} and cm.customer_id = f.customer_id and f.merged and f.known`.execute(db);
  }
  return { written: Number(u.numAffectedRows ?? 0) + Number(i.numAffectedRows ?? 0), removed: Number(d?.numAffectedRows ?? 0) };
}

/**
 * Whether customer_metrics holds more rows of the workspace than cm_fig has customers
 * with a row there or figures now (then some rows are of customers gone).
 */
async function hasRowsOfGoneCustomers(db: Db, ws: number): Promise<boolean> {
  const r = await sql<{ more: boolean }>`
    select (select count(*) from customer_metrics where workspace_id = ${ws}) > (select count(*) from cm_fig where known or not merged) as more`.execute(db);
  return r.rows[0]!.more;
}

/**
 * Customers whose figures can have changed otherwise than by rows crossing a
 * window edge, into cm_ids with the tables to recompute them from (o: orders, ev:
 * events, ot: tickets, surveys, referrals): rows written since `since` (inserts set
 * updated_at and received_at too) and rows whose time passed the as-of line between
 * prev and now. A changed customer row (and the customer it was merged into), or
 * a customer without figures yet, is recomputed from every table. One index range per table and condition.
 */
async function changedCustomers(db: Db, ws: number, since: Date, prev: Date, now: Date, range: KeyRange | null = null): Promise<number> {
  const p = ts(prev);
  const n = ts(now);
  const s = ts(since);
  const known = sql`and customer_id is not null`;
  const parts = [
    sql`select customer_id as id, 'o' as g from orders where workspace_id = ${ws} and updated_at > ${s}`,
    sql`select customer_id, 'o' from orders where workspace_id = ${ws} and ordered_at > ${p} and ordered_at <= ${n}`,
    sql`select customer_id, 'e' from events where workspace_id = ${ws} ${known} and received_at > ${s}`,
    sql`select customer_id, 'e' from events where workspace_id = ${ws} ${known} and occurred_at > ${p} and occurred_at <= ${n}`,
    sql`select customer_id, 't' from tickets where workspace_id = ${ws} ${known} and updated_at > ${s}`,
    sql`select customer_id, 't' from tickets where workspace_id = ${ws} ${known} and created_at > ${p} and created_at <= ${n}`,
    sql`select customer_id, 't' from survey_responses where workspace_id = ${ws} ${known} and updated_at > ${s}`,
    sql`select customer_id, 't' from survey_responses where workspace_id = ${ws} ${known} and responded_at > ${p} and responded_at <= ${n}`,
    sql`select referrer_id, 't' from referrals where workspace_id = ${ws} and referred_at > ${p} and referred_at <= ${n}`,
    sql`select id, 'c' from customers where workspace_id = ${ws} and updated_at > ${s}`,
    // a merge moves the source's events and referrals to the target without touching them
    sql`select merged_into, 'c' from customers where workspace_id = ${ws} and updated_at > ${s} and merged_into is not null`,
  ];
  await sql`
    create temp table cm_ids on commit drop as
    select id, bool_or(g in ('o', 'c')) as o, bool_or(g in ('e', 'c')) as ev, bool_or(g in ('t', 'c')) as ot
    from (${sql.join(parts, sql` union all `)}) x
    ${range ? sql`where ${inRange(sql.ref('x.id'), range)}` : sql``}
    group by id`.execute(db);
  await sql`alter table cm_ids add primary key (id)`.execute(db);
  await sql`
    update cm_ids set o = true, ev = true, ot = true
    where not (o and ev and ot)
      and not exists (select 1 from customer_metrics cm where cm.workspace_id = ${ws} and cm.customer_id = cm_ids.id)`.execute(db);
  await sql`analyze cm_ids`.execute(db);
  return (await sql<{ n: number }>`select count(*)::int as n from cm_ids`.execute(db)).rows[0]!.n;
}

/**
 * Moves the window counts of customers not in cm_ids by the rows that crossed a
 * window edge between prev and now. A window (now − A, now − B] holds a row at t
 * when t ≤ now − B and not t ≤ now − A, so it gains the rows that crossed now − B,
 * (prev − B, now − B], and loses those that crossed now − A. Rows crossing the
 * as-of line (B = 0) put their customer in cm_ids instead. Columns: orders_window,
 * spend_window, coupon_orders_window, orders_90d, orders_prev_90d, orders_base,
 * events_30d, logins_30d, logins_7d, core_uses_30d, events_prev_30d, complaints_90d.
 */
async function shiftWindows(db: Db, ws: number, p: Edges, n: Edges, s: AnalyticsSettings, range: KeyRange | null = null): Promise<number> {
  const crossed = (col: string, a: Date, b: Date) => sql`${sql.ref(col)} > ${ts(a)} and ${sql.ref(col)} <= ${ts(b)}`;
  const zero = sql`'o', 0, 0::numeric, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0`;
  const login = sql`(type = 'login')::int`;
  const core = sql`(type = any(${s.activity.coreEventTypes}::text[]))::int`;
  const parts = [
    sql`select customer_id, 'o', -1, -amount, -((coupon_code is not null or discount > 0)::int), 0, 0, 0, 0, 0, 0, 0, 0, 0
        from orders where workspace_id = ${ws} and status = 'paid' and ${crossed('ordered_at', p.win, n.win)}`,
    sql`select customer_id, 'o', 0, 0, 0, -1, 1, 1, 0, 0, 0, 0, 0, 0
        from orders where workspace_id = ${ws} and status = 'paid' and ${crossed('ordered_at', p.d90, n.d90)}`,
    sql`select customer_id, 'o', 0, 0, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0
        from orders where workspace_id = ${ws} and status = 'paid' and ${crossed('ordered_at', p.d180, n.d180)}`,
    sql`select customer_id, 'o', 0, 0, 0, 0, 0, -1, 0, 0, 0, 0, 0, 0
        from orders where workspace_id = ${ws} and status = 'paid' and ${crossed('ordered_at', p.d455, n.d455)}`,
    sql`select customer_id, 'e', 0, 0, 0, 0, 0, 0, 0, 0, -${login}, 0, 0, 0
        from events where workspace_id = ${ws} and customer_id is not null and type = 'login' and ${crossed('occurred_at', p.d7, n.d7)}`,
    sql`select customer_id, 'e', 0, 0, 0, 0, 0, 0, -1, -${login}, 0, -${core}, 1, 0
        from events where workspace_id = ${ws} and customer_id is not null and ${crossed('occurred_at', p.d30, n.d30)}`,
    sql`select customer_id, 'e', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, 0
        from events where workspace_id = ${ws} and customer_id is not null and ${crossed('occurred_at', p.d60, n.d60)}`,
    sql`select customer_id, 't', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1
        from tickets where workspace_id = ${ws} and customer_id is not null and kind = 'complaint' and ${crossed('created_at', p.d90, n.d90)}`,
  ];
  const names = [
    'orders_window', 'spend_window', 'coupon_orders_window', 'orders_90d', 'orders_prev_90d', 'orders_base',
    'events_30d', 'logins_30d', 'logins_7d', 'core_uses_30d', 'events_prev_30d', 'complaints_90d',
  ];
  const sums = sql.join(names.map((c) => sql`sum(${sql.ref(c)}) as ${sql.ref(c)}`));
  const set = sql.join(names.map((c) => sql`${sql.ref(c)} = cm.${sql.ref(c)} + d.${sql.ref(c)}`));
  const moved = sql.join(names.map((c) => sql`${sql.ref(c)} <> 0`), sql` or `);
  // The moves are summed first in a read-only statement, the update then joins their table.
  // Hash joins again for this read: the crossed rows (a quarter million a day at 1M
  // customers) are better matched against a hash of cm_ids than probed one by one. The
  // update after it chooses again, on the number of moves.
  await sql`reset enable_hashjoin`.execute(db);
  await sql`
    create temp table cm_shift on commit drop as
    select * from (
      with x (customer_id, g, ${sql.join(names.map((c) => sql.ref(c)))}) as (
        select null::text, ${zero} where false
        union all ${sql.join(parts, sql` union all `)}
      )
      select customer_id, ${sums} from x
      -- a customer recomputed from a table has that table's rows counted already
      where not exists (select 1 from cm_ids i
                        where i.id = x.customer_id and case x.g when 'o' then i.o when 'e' then i.ev else i.ot end)
        ${range ? sql`and ${inRange(sql.ref('x.customer_id'), range)}` : sql``}
      group by customer_id
    ) d
    where ${moved}
    -- in key order: the update below probes customer_metrics' key with them one after another
    order by customer_id`.execute(db);
  // the update joins on the key; the moves' other columns would only cost statistics
  await sql`analyze cm_shift (customer_id)`.execute(db);
  // Key lookups in key order while the moves are a small share of the customers: a hash join
  // read the whole of customer_metrics to find them (124k of 1M a day: 0.9 s of the join's
  // 1.0 s, against 0.35 s for the lookups); past a third, the one pass costs less.
  const moves = await countRows(db, 'cm_shift');
  if (moves * 3 <= (await estimatedRows(db, 'customer_metrics'))) await sql`set local enable_hashjoin = off`.execute(db);
  // the scoring reads some of these counts: a move of one of those is a change of its inputs
  const inputs = sql.join(names.filter((c) => (SCORED_FIGURES as readonly string[]).includes(c)).map((c) => sql`d.${sql.ref(c)} <> 0`), sql` or `);
  const r = await sql`
    update customer_metrics cm set as_of = ${n.now}, inputs_at = case when ${inputs} then ${n.now} else cm.inputs_at end, ${set}
    from cm_shift d
    where cm.workspace_id = ${ws} and cm.customer_id = d.customer_id`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

interface State {
  as_of: Date;
  since: Date;
  window_months: number;
  core_event_types: string[];
}

export interface FiguresResult {
  mode: 'full' | 'incremental';
  /** customer_metrics rows written (changed or new). */
  customers: number;
  /** Of those, incremental: customers recomputed from scratch (rows changed since the last pass). */
  recomputed?: number;
  /** customer_metrics rows removed (customers gone or merged). */
  removed: number;
  /** Incremental in shards (docs/analytics.md): how many. */
  shards?: number;
}

/**
 * Brings customer_metrics' figures (not the scores: the scoring pass) and the
 * customer list's summary up to `now`. Incremental when asked and the last pass's
 * baseline allows it (same window settings, a reference time not after now);
 * otherwise every customer is recomputed.
 */
export async function refreshCustomerFigures(
  db: Db,
  workspaceId: number,
  now: Date,
  s: AnalyticsSettings,
  incremental: boolean,
  opts: { shards?: number; parallel?: boolean } = {},
): Promise<FiguresResult> {
  const shards = Math.max(1, Math.floor(opts.shards ?? 1));
  if (incremental && shards > 1) {
    const r = await shardedIncremental(db, workspaceId, now, s, shards, opts.parallel === true);
    if (r) return r;
  }
  return db.transaction().execute(async (trx) => {
    await analyticsSession(trx);
    // Two passes over one workspace at once would both move the same windows from the
    // same baseline: the second waits for the first, then starts from its result.
    await sql`select pg_advisory_xact_lock(${FIGURES_LOCK}::int, ${workspaceId}::int)`.execute(trx);
    // Rows written by transactions still open now can be missing from what this pass
    // reads, and their updated_at is their transaction's start: the next pass looks
    // for changes from the earliest such start.
    const since = await changesSince(trx);
    const state = await usableState(trx, workspaceId, now, s);
    const usable = incremental && state !== undefined;
    const e = await edgesAt(trx, now, s.rfm.windowMonths);
    let result: FiguresResult;
    let recomputed = 0;
    if (usable) {
      // Every join from here pairs a few thousand customers with tables of millions of rows:
      // index probes, never a hash of the big side (the planner, counting random reads as
      // four times a sequential one, picks whole scans of customers and customer_metrics).
      await sql`set local enable_hashjoin = off`.execute(trx);
      await sql`set local enable_mergejoin = off`.execute(trx);
      recomputed = await changedCustomers(trx, workspaceId, state!.since, state!.as_of, now);
      // Index probes per customer beat whole passes only for a small share of customers
      // (a large import can change most of them): past a third, recompute everyone.
      if (recomputed > (await estimatedRows(trx, 'customers')) / 3) recomputed = -1;
    }
    if (usable && recomputed >= 0) {
      const w = await applyChanges(trx, workspaceId, now, s, await edgesAt(trx, state!.as_of, s.rfm.windowMonths), e, null);
      result = { mode: 'incremental', customers: w.customers, recomputed, removed: w.removed };
    } else {
      if (usable) {
        await sql`reset enable_hashjoin`.execute(trx);
        await sql`reset enable_mergejoin`.execute(trx);
      }
      await figuresOfAll(trx, workspaceId, e, s);
      // The writes pick the rows that differ out of a million: plan them on counted flags.
      await sql`analyze cm_fig (customer_id, merged, known, cm_diff, c_diff)`.execute(trx);
      const w = await writeFigures(trx, workspaceId, now, false);
      // The list's figures: cm_fig compared them with the customer rows as it read them (c_diff).
      await copyFiguresToCustomers(trx, workspaceId, sql`(${statsOf} where c_diff)`);
      result = { mode: 'full', customers: w.written, removed: w.removed };
    }
    await saveState(trx, workspaceId, now, since, s);
    return result;
  });
}

/**
 * An incremental pass's writes, once cm_ids holds the changed customers (of `range`,
 * or all): their figures recomputed and written, the list summary copied, and every
 * other customer's windows moved from the last pass's edges `p` to `n`.
 */
async function applyChanges(
  trx: Db,
  ws: number,
  now: Date,
  s: AnalyticsSettings,
  p: Edges,
  n: Edges,
  range: KeyRange | null,
): Promise<{ customers: number; removed: number }> {
  await figuresOfSome(trx, ws, n, s);
  await sql`alter table cm_fig add primary key (customer_id)`.execute(trx);
  // Statistics of the columns the writes join and filter on only: all thirty took
  // 0.3 s for 40k rows at 1M customers, on the day's critical path.
  await sql`analyze cm_fig (customer_id, merged, known, o)`.execute(trx);
  const w = await writeFigures(trx, ws, now, true);
  await copyFiguresToCustomers(trx, ws, sql`(${statsOf} where o)`);
  const shifted = await shiftWindows(trx, ws, p, n, s, range);
  return { customers: w.written + shifted, removed: w.removed };
}

/** The state of the last pass when an incremental pass can start from it (same window settings, not after now). */
async function usableState(db: Db, workspaceId: number, now: Date, s: AnalyticsSettings): Promise<State | undefined> {
  const state = (
    await sql<State>`select as_of, since, window_months, core_event_types from customer_metrics_state where workspace_id = ${workspaceId}`.execute(db)
  ).rows[0];
  const usable =
    state !== undefined &&
    state.as_of.getTime() <= now.getTime() &&
    state.window_months === s.rfm.windowMonths &&
    [...state.core_event_types].sort().join('\n') === [...s.activity.coreEventTypes].sort().join('\n');
  return usable ? state : undefined;
}

async function saveState(db: Db, workspaceId: number, now: Date, since: Date, s: AnalyticsSettings): Promise<void> {
  await sql`
    insert into customer_metrics_state (workspace_id, as_of, since, window_months, core_event_types)
    values (${workspaceId}, ${now}, ${since}, ${s.rfm.windowMonths}, ${s.activity.coreEventTypes}::text[])
    on conflict (workspace_id) do update set as_of = excluded.as_of, since = excluded.since,
      window_months = excluded.window_months, core_event_types = excluded.core_event_types`.execute(db);
}

/** Rows written since the transactions still open now started may be missing from what a pass reads: the next pass looks from here. */
async function changesSince(db: Db): Promise<Date> {
  return (
    await sql<{ since: Date }>`
      select least(now(), (select min(xact_start) from pg_stat_activity
                           where datname = current_database() and backend_type = 'client backend')) as since`.execute(db)
  ).rows[0]!.since;
}

/** Customers whose id is in [lo, hi) (null: unbounded), ids compared bytewise (COLLATE "C"). */
interface KeyRange {
  lo: string | null;
  hi: string | null;
}

function inRange(col: RawBuilder<unknown>, r: KeyRange): RawBuilder<boolean> {
  const parts = [r.lo !== null ? sql`${col} >= ${r.lo}` : null, r.hi !== null ? sql`${col} < ${r.hi}` : null].filter((x) => x !== null);
  return parts.length ? sql<boolean>`${sql.join(parts, sql` and `)}` : sql<boolean>`true`;
}

/** A shard found more changed customers than an incremental pass is for: the caller runs a full pass. */
class TooManyChanges extends Error {}

/**
 * The incremental pass in `n` shards by customer id (split where a sample of about
 * 1,000 blocks of customer_metrics puts 1/n of the rows), each in its own
 * transaction, at once when `parallel`. Window moves are deltas, so a run whose
 * shards did not all commit must not be taken for a whole one: customer_metrics_state
 * is removed before the first shard and written after the last, and a failure or
 * crash in between leaves the next pass a full one, which recomputes every figure
 * from the rows. One transaction holds the pass's advisory lock throughout, so no
 * other pass of the workspace starts meanwhile (on a server). Null: no incremental pass possible
 * (no usable state, or too many changes): the caller runs the ordinary one.
 */
async function shardedIncremental(db: Db, ws: number, now: Date, s: AnalyticsSettings, n: number, parallel: boolean): Promise<FiguresResult | null> {
  // PGlite (not parallel) has one connection, and one process at a time: no lock to hold there.
  if (!parallel) return shardedPass(db, ws, now, s, n, false);
  return db.transaction().execute(async (lock) => {
    await sql`select pg_advisory_xact_lock(${FIGURES_LOCK}::int, ${ws}::int)`.execute(lock);
    return shardedPass(db, ws, now, s, n, true);
  });
}

async function shardedPass(db: Db, ws: number, now: Date, s: AnalyticsSettings, n: number, parallel: boolean): Promise<FiguresResult | null> {
  const start = await db.transaction().execute(async (trx) => {
    const state = await usableState(trx, ws, now, s);
    if (!state) return null;
    const since = await changesSince(trx);
    const edges = await keyEdges(trx, ws, n);
    // the window edges now and at the last pass, the same for every shard
    const e = await edgesAt(trx, now, s.rfm.windowMonths);
    const prevEdges = await edgesAt(trx, state.as_of, s.rfm.windowMonths);
    await sql`delete from customer_metrics_state where workspace_id = ${ws}`.execute(trx);
    return { state, since, edges, e, prevEdges };
  });
  if (!start) return null;
  const { state, since, edges, e, prevEdges } = start;
  const customers = await estimatedRows(db, 'customers');
  const shard = (range: KeyRange) =>
    db.transaction().execute(async (trx) => {
      await analyticsSession(trx);
      await sql`set local enable_hashjoin = off`.execute(trx);
      await sql`set local enable_mergejoin = off`.execute(trx);
      const recomputed = await changedCustomers(trx, ws, state.since, state.as_of, now, range);
      // the same limit as one pass's, for this shard's share of the customers
      if (recomputed * n > customers / 3) throw new TooManyChanges();
      return { ...(await applyChanges(trx, ws, now, s, prevEdges, e, range)), recomputed };
    });
  const ranges = Array.from({ length: n }, (_, k) => ({ lo: k > 0 ? edges[k - 1]! : null, hi: k < n - 1 ? edges[k]! : null }));
  let ok: { customers: number; recomputed: number; removed: number }[];
  try {
    ok = await eachShard(ranges, parallel, shard);
  } catch (err) {
    // A shard with too many changes: the whole pass is a full one (it recomputes from the rows
    // whatever the other shards wrote), once the lock's transaction has let the lock go.
    if (err instanceof TooManyChanges) return null;
    throw err;
  }
  await db.transaction().execute((trx) => saveState(trx, ws, now, since, s));
  return {
    mode: 'incremental' as const,
    customers: ok.reduce((a, x) => a + x.customers, 0),
    recomputed: ok.reduce((a, x) => a + x.recomputed, 0),
    removed: ok.reduce((a, x) => a + x.removed, 0),
    shards: n,
  };
}

/** The n − 1 customer ids that split the workspace's rows of customer_metrics into n parts of about as many rows. */
async function keyEdges(db: Db, ws: number, n: number): Promise<string[]> {
  const fractions = Array.from({ length: n - 1 }, (_, k) => (k + 1) / n);
  // no rows sampled: every customer in the last shard
  return (await sampledQuantiles<string>(db, ws, sql`customer_id`, fractions)) ?? fractions.map(() => '');
}

/** cm_fig's list summary columns, as copyFiguresToCustomers reads them. */
const statsOf = sql`
  select customer_id, st_first_order_at as first_order_at, st_last_order_at as last_order_at, st_orders as orders, st_spend as spend
  from cm_fig`;

/**
 * Makes the next pass a full one (the figures were changed in a way the
 * incremental pass cannot see, e.g. rows deleted).
 */
export async function forgetFiguresBaseline(db: Db, workspaceId: number): Promise<void> {
  await sql`delete from customer_metrics_state where workspace_id = ${workspaceId}`.execute(db);
}

/**
 * Whether a workspace's figures are gone (`ws`: its id, a parameter or a column): it has
 * customers, customer_metrics holds no row of it, and figures were computed for it before
 * (a scoring run left history, or a pipeline run finished the figures step). The table is
 * unlogged (migration 0033): a crash empties it, and then only the figures pass brings it
 * back (docs/analytics.md, "After a crash"). A workspace never analysed is not "lost".
 */
export function lostFigures(ws: RawBuilder<unknown>): RawBuilder<boolean> {
  return sql<boolean>`(exists (select 1 from customers where workspace_id = ${ws} and merged_into is null)
    and not exists (select 1 from customer_metrics where workspace_id = ${ws})
    and (exists (select 1 from lifecycle_transitions where workspace_id = ${ws})
         or exists (select 1 from pipeline_runs where workspace_id = ${ws}
                    and steps @> '[{"name": "customer_metrics", "status": "done"}]'::jsonb)))`;
}

export async function figuresLost(db: Db, workspaceId: number): Promise<boolean> {
  const r = await sql<{ lost: boolean }>`select ${lostFigures(sql`${workspaceId}::int`)} as lost`.execute(db);
  return r.rows[0]!.lost;
}

/** Refuses a step that reads the figures while they are gone: on none, segments would let every member go and the scoring would start anew. */
export async function requireFigures(db: Db, workspaceId: number, step: string): Promise<void> {
  if (await figuresLost(db, workspaceId)) {
    throw new Error(
      `the ${step} step reads the customer figures, and workspace ${workspaceId} has none (customer_metrics is empty, as a crash leaves it): ` +
        'run the whole pipeline, or the customer_metrics step first',
    );
  }
}

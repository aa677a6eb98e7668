// Per-customer figures, set-based. Everything is "as of" a reference time:
// rows after it are ignored, so a past date gives the figures as they were.
// Counts store windows relative to as_of; the incremental run recomputes the
// customers whose data changed or whose rows crossed a window edge, which is
// exactly the set whose figures can differ from the last run.
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { type AnalyticsSettings, analyticsSession } from './settings.ts';

const days = (n: number) => sql`make_interval(days => ${n}::int)`;

/**
 * Recomputes customer_metrics' figures for the workspace's customers (all,
 * or only `ids`). Scores are left to the scoring pass.
 */
export async function upsertCustomerFigures(
  db: Kysely<Database>,
  workspaceId: number,
  now: Date,
  s: AnalyticsSettings,
  ids: string[] | null,
): Promise<number> {
  const only = (col: string) => (ids ? sql`and ${sql.ref(col)} = any(${ids})` : sql``);
  // Each window edge is a one-time subquery (an InitPlan): `now - interval` is only stable,
  // so written inline it would be recomputed for every row of every filter.
  const win = sql`(select ${now}::timestamptz - make_interval(months => ${s.rfm.windowMonths}::int))`;
  const ago = (n: number) => sql`(select ${now}::timestamptz - ${days(n)})`;
  const t = sql`${now}::timestamptz`;
  const r = await db.transaction().execute(async (trx) => {
    await analyticsSession(trx);
    return sql`
      with target as (
        select c.id from customers c
        where c.workspace_id = ${workspaceId} and c.merged_into is null ${only('c.id')}
      ),
      o as materialized (
        select customer_id,
          min(ordered_at) filter (where status = 'paid') as first_order_at,
          max(ordered_at) filter (where status = 'paid') as last_order_at,
          count(*) filter (where status = 'paid') as orders_total,
          coalesce(sum(amount) filter (where status = 'paid'), 0) as spend_total,
          count(*) filter (where status = 'paid' and ordered_at > ${win}) as orders_window,
          coalesce(sum(amount) filter (where status = 'paid' and ordered_at > ${win}), 0) as spend_window,
          count(*) filter (where status = 'paid' and ordered_at > ${ago(90)}) as orders_90d,
          count(*) filter (where status = 'paid' and ordered_at > ${ago(180)} and ordered_at <= ${ago(90)}) as orders_prev_90d,
          count(*) filter (where status = 'paid' and ordered_at > ${ago(455)} and ordered_at <= ${ago(90)}) as orders_base,
          count(*) filter (where status = 'paid' and ordered_at > ${win} and (coupon_code is not null or discount > 0)) as coupon_orders_window,
          count(*) filter (where status in ('refunded', 'returned')) as refunded_orders,
          count(*) as orders_all_statuses
        from orders
        where workspace_id = ${workspaceId} and ordered_at <= ${t} ${only('customer_id')}
        group by customer_id
      ),
      -- Events in two passes: the last event over all history (an index-only walk of
      -- events_customer_time when the visibility map allows), and the windowed counts
      -- over the last 60 days only, instead of testing every filter on every event.
      el as materialized (
        select customer_id, max(occurred_at) as last_event_at
        from events
        where workspace_id = ${workspaceId} and customer_id is not null and occurred_at <= ${t} ${only('customer_id')}
        group by customer_id
      ),
      e as materialized (
        select customer_id,
          count(*) filter (where occurred_at > ${ago(30)}) as events_30d,
          count(*) filter (where type = 'login' and occurred_at > ${ago(30)}) as logins_30d,
          count(*) filter (where type = 'login' and occurred_at > ${ago(7)}) as logins_7d,
          count(*) filter (where type = any(${s.activity.coreEventTypes}::text[]) and occurred_at > ${ago(30)}) as core_uses_30d,
          count(*) filter (where occurred_at <= ${ago(30)}) as events_prev_30d
        from events
        where workspace_id = ${workspaceId} and customer_id is not null
          -- inline, not a subquery: the planner needs the value to choose the index for this range
          and occurred_at > ${t} - ${days(60)} and occurred_at <= ${t} ${only('customer_id')}
        group by customer_id
      ),
      tk as materialized (
        select customer_id,
          count(*) filter (where kind = 'complaint') as complaints_total,
          count(*) filter (where kind = 'complaint' and created_at > ${ago(90)}) as complaints_90d,
          count(*) filter (where status in ('open', 'pending', 'reopened')) as open_tickets
        from tickets
        where workspace_id = ${workspaceId} and customer_id is not null and created_at <= ${t} ${only('customer_id')}
        group by customer_id
      ),
      sv as materialized (
        select customer_id,
          avg(csat) filter (where csat is not null) as csat_avg,
          (array_agg(nps order by responded_at desc) filter (where nps is not null))[1] as last_nps
        from survey_responses
        where workspace_id = ${workspaceId} and customer_id is not null and responded_at <= ${t} ${only('customer_id')}
        group by customer_id
      ),
      rf as materialized (
        select referrer_id as customer_id, count(*) as referrals
        from referrals
        where workspace_id = ${workspaceId} and referred_at <= ${t} ${only('referrer_id')}
        group by referrer_id
      )
      insert into customer_metrics as cm (
        workspace_id, customer_id, as_of, first_order_at, last_order_at, orders_total, spend_total,
        orders_window, spend_window, orders_90d, orders_prev_90d, orders_base, coupon_orders_window,
        refunded_orders, orders_all_statuses, last_event_at, events_30d, logins_30d, logins_7d, core_uses_30d,
        events_prev_30d, complaints_total, complaints_90d, open_tickets, csat_avg, last_nps, referrals)
      select ${workspaceId}::int, target.id, ${t},
        o.first_order_at, o.last_order_at, coalesce(o.orders_total, 0), coalesce(o.spend_total, 0),
        coalesce(o.orders_window, 0), coalesce(o.spend_window, 0), coalesce(o.orders_90d, 0), coalesce(o.orders_prev_90d, 0),
        coalesce(o.orders_base, 0),
        coalesce(o.coupon_orders_window, 0), coalesce(o.refunded_orders, 0), coalesce(o.orders_all_statuses, 0),
        el.last_event_at, coalesce(e.events_30d, 0), coalesce(e.logins_30d, 0), coalesce(e.logins_7d, 0),
        coalesce(e.core_uses_30d, 0), coalesce(e.events_prev_30d, 0),
        coalesce(tk.complaints_total, 0), coalesce(tk.complaints_90d, 0), coalesce(tk.open_tickets, 0),
        sv.csat_avg, sv.last_nps, coalesce(rf.referrals, 0)
      from target
        left join o on o.customer_id = target.id
        left join el on el.customer_id = target.id
        left join e on e.customer_id = target.id
        left join tk on tk.customer_id = target.id
        left join sv on sv.customer_id = target.id
        left join rf on rf.customer_id = target.id
      on conflict (workspace_id, customer_id) do update set
        as_of = excluded.as_of, first_order_at = excluded.first_order_at, last_order_at = excluded.last_order_at,
        orders_total = excluded.orders_total, spend_total = excluded.spend_total, orders_window = excluded.orders_window,
        spend_window = excluded.spend_window, orders_90d = excluded.orders_90d, orders_prev_90d = excluded.orders_prev_90d,
        orders_base = excluded.orders_base, coupon_orders_window = excluded.coupon_orders_window,
        refunded_orders = excluded.refunded_orders, orders_all_statuses = excluded.orders_all_statuses,
        last_event_at = excluded.last_event_at, events_30d = excluded.events_30d, logins_30d = excluded.logins_30d,
        logins_7d = excluded.logins_7d, core_uses_30d = excluded.core_uses_30d, events_prev_30d = excluded.events_prev_30d,
        complaints_total = excluded.complaints_total, complaints_90d = excluded.complaints_90d,
        open_tickets = excluded.open_tickets, csat_avg = excluded.csat_avg, last_nps = excluded.last_nps,
        referrals = excluded.referrals
      -- A row whose figures did not move is not rewritten (its as_of stays that of the run that last changed it).
      where (cm.first_order_at, cm.last_order_at, cm.orders_total, cm.spend_total, cm.orders_window, cm.spend_window,
             cm.orders_90d, cm.orders_prev_90d, cm.orders_base, cm.coupon_orders_window, cm.refunded_orders, cm.orders_all_statuses,
             cm.last_event_at, cm.events_30d, cm.logins_30d, cm.logins_7d, cm.core_uses_30d, cm.events_prev_30d,
             cm.complaints_total, cm.complaints_90d, cm.open_tickets, cm.csat_avg, cm.last_nps, cm.referrals)
        is distinct from (excluded.first_order_at, excluded.last_order_at, excluded.orders_total, excluded.spend_total,
             excluded.orders_window, excluded.spend_window, excluded.orders_90d, excluded.orders_prev_90d, excluded.orders_base,
             excluded.coupon_orders_window, excluded.refunded_orders, excluded.orders_all_statuses, excluded.last_event_at,
             excluded.events_30d, excluded.logins_30d, excluded.logins_7d, excluded.core_uses_30d, excluded.events_prev_30d,
             excluded.complaints_total, excluded.complaints_90d, excluded.open_tickets, excluded.csat_avg, excluded.last_nps,
             excluded.referrals)`.execute(trx);
  });
  return Number(r.numAffectedRows ?? 0);
}

/** Metrics rows of customers (all, or only `ids`) that no longer exist or were merged away. */
export async function deleteStaleMetrics(db: Kysely<Database>, workspaceId: number, ids: string[] | null = null): Promise<number> {
  if (ids?.length === 0) return 0;
  const r = await sql`
    delete from customer_metrics cm
    where cm.workspace_id = ${workspaceId} ${ids ? sql`and cm.customer_id = any(${ids})` : sql``}
      and not exists (select 1 from customers c
                      where c.workspace_id = cm.workspace_id and c.id = cm.customer_id and c.merged_into is null)`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

/**
 * Customers whose figures may differ between the run at `prev` (started at
 * `since`) and `now`: new or changed rows since `since`, plus rows whose time
 * crossed one of the window edges (or the as-of line) between prev and now.
 */
export async function touchedCustomers(
  db: Kysely<Database>,
  workspaceId: number,
  since: Date,
  prev: Date,
  now: Date,
  s: AnalyticsSettings,
): Promise<string[]> {
  const p = sql`${prev}::timestamptz`;
  const n = sql`${now}::timestamptz`;
  // One index range per edge, glued by union: an OR of all the ranges in one
  // query defeats the (workspace_id, time) indexes and scans the whole table.
  // (p - L, n - L]: rows that left a window of length L; (p, n]: rows that became visible.
  const crossed = (table: string, customer: string, col: string, lengths: ReturnType<typeof sql>[], extra = sql``) =>
    [sql``, ...lengths].map(
      (L, i) => sql`
        select ${sql.ref(customer)} as id from ${sql.table(table)}
        where workspace_id = ${workspaceId} ${extra}
          and ${sql.ref(col)} > ${p} ${i ? sql`- ${L}` : sql``} and ${sql.ref(col)} <= ${n} ${i ? sql`- ${L}` : sql``}`,
    );
  const changed = (table: string, customer: string, col: string, extra = sql``) =>
    sql`select ${sql.ref(customer)} as id from ${sql.table(table)} where workspace_id = ${workspaceId} ${extra} and ${sql.ref(col)} > ${since}`;
  const months = sql`make_interval(months => ${s.rfm.windowMonths}::int)`;
  const known = sql`and customer_id is not null`;
  // Rows get updated_at = now() when inserted, so updated_at > since also finds new rows.
  const parts = [
    changed('orders', 'customer_id', 'updated_at'),
    ...crossed('orders', 'customer_id', 'ordered_at', [months, days(90), days(180), days(455)]),
    changed('events', 'customer_id', 'received_at', known),
    ...crossed('events', 'customer_id', 'occurred_at', [days(7), days(30), days(60)], known),
    changed('tickets', 'customer_id', 'updated_at', known),
    ...crossed('tickets', 'customer_id', 'created_at', [days(90)], known),
    changed('survey_responses', 'customer_id', 'updated_at', known),
    ...crossed('survey_responses', 'customer_id', 'responded_at', [], known),
    ...crossed('referrals', 'referrer_id', 'referred_at', []),
    changed('customers', 'id', 'updated_at'),
  ];
  const r = await sql<{ id: string }>`${sql.join(parts, sql` union `)}`.execute(db);
  return r.rows.map((x) => x.id);
}

// Cohort retention: customers grouped by the month of their first paid order
// (in the workspace's time zone), and the number of them who bought — or, for
// the activity basis, bought or did anything — in each following month.
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Report } from '../reports/report.ts';
import type { StepContext } from '../pipeline/pipeline.ts';
import { analyticsSession, workspaceTimeZone } from './settings.ts';

export type CohortBasis = 'purchase' | 'activity';

/** Year × 12 + month − 1 of `at` in the time zone: consecutive months get consecutive numbers. */
function monthNumber(at: Date, timeZone: string): number {
  const [y, m] = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit' }).format(at).split('-').map(Number);
  return y! * 12 + m! - 1;
}

const monthStart = (n: number) => `${Math.floor(n / 12)}-${String((n % 12) + 1).padStart(2, '0')}-01`;

/**
 * Recomputes the workspace's cohort table as of `now` (both bases), in one
 * transaction. With `fromMonth` (a date inside the first month to redo), only
 * the cells of activity months from that month on are recomputed; earlier
 * cells are kept, as are the sizes of earlier cohorts. That partial form reads
 * each buyer's first order from customer_metrics, so it is only for the
 * pipeline, right after the customer_metrics step.
 */
export async function refreshCohorts(
  db: Kysely<Database>,
  workspaceId: number,
  now: Date,
  timeZone: string,
  months = 24,
  fromMonth?: Date,
): Promise<number> {
  const t = sql`${now}::timestamptz`;
  const last = monthNumber(now, timeZone);
  const base = last - (months - 1);
  // Each month of the window is one bit (0 = the oldest cohort's month, months − 1 = this month):
  // a customer's months with a purchase and with any activity are two bigints, so the
  // aggregates group by customer only (no sort or hash of every (customer, month) pair).
  // The month of a time: a binary search among the months' first instants (computed
  // once), not a time-zone conversion of every row.
  const starts = sql`(select array_agg((${monthStart(base)}::date + make_interval(months => i))::timestamp at time zone ${timeZone}::text order by i)
                      from generate_series(0, ${months - 1}::int) as i)`;
  const idx = (col: RawBuilder<unknown>) => sql`(width_bucket(${col}, ${starts}) - 1)`;
  const bit = (col: RawBuilder<unknown>) => sql`(1::bigint << ${idx(col)})`;
  const ts = (n: number) => sql`(${monthStart(n)}::date::timestamp at time zone ${timeZone}::text)`;
  const from = ts(base);
  const m0 = fromMonth ? Math.max(0, monthNumber(fromMonth, timeZone) - base) : 0;
  if (months > 63) throw new Error('cohorts: at most 63 months fit the month bitmask');
  return db.transaction().execute(async (trx) => {
    await analyticsSession(trx);
    const partial = m0 > 0;
    if (partial) {
      await sql`
        delete from cohort_retention
        where workspace_id = ${workspaceId}
          and (cohort_month < ${monthStart(base)}::date or cohort_month + make_interval(months => month_offset) >= ${monthStart(base + m0)}::date)`.execute(trx);
    } else {
      await trx.deleteFrom('cohort_retention').where('workspace_id', '=', workspaceId).execute();
    }
    // x: one row per buyer whose first paid order falls in the window: c = the cohort's
    // month number, pm/am = the months (≥ m0) with a purchase / with any activity.
    const buyers = partial
      ? sql`
        a as (
          select customer_id, coalesce(bit_or(b) filter (where bought), 0) as pm, bit_or(b) as am
          from (
            select customer_id, ${bit(sql.ref('ordered_at'))} as b, true as bought
            from orders where workspace_id = ${workspaceId} and status = 'paid' and ordered_at >= ${ts(base + m0)} and ordered_at <= ${t}
            union all
            select customer_id, ${bit(sql.ref('occurred_at'))}, false
            from events where workspace_id = ${workspaceId} and customer_id is not null and occurred_at >= ${ts(base + m0)} and occurred_at <= ${t}
          ) acts
          group by customer_id
        ),
        x as (
          select ${idx(sql.ref('cm.first_order_at'))} as c, a.pm, a.am
          from a join customer_metrics cm on cm.workspace_id = ${workspaceId} and cm.customer_id = a.customer_id
          where cm.first_order_at >= ${from}
        )`
      : sql`
        o as (
          select customer_id, min(ordered_at) as first_paid, coalesce(bit_or(${bit(sql.ref('ordered_at'))}) filter (where ordered_at >= ${from}), 0) as pm
          from orders where workspace_id = ${workspaceId} and status = 'paid' and ordered_at <= ${t}
          group by customer_id
        ),
        e as (
          select customer_id, bit_or(${bit(sql.ref('occurred_at'))}) as am
          from events where workspace_id = ${workspaceId} and customer_id is not null and occurred_at >= ${from} and occurred_at <= ${t}
          group by customer_id
        ),
        x as (
          select ${idx(sql.ref('o.first_paid'))} as c, o.pm, o.pm | coalesce(e.am, 0) as am
          from o left join e on e.customer_id = o.customer_id
          where o.first_paid >= ${from}
        )`;
    const r = await sql`
      with ${buyers},
      cells as (
        select c, k,
               count(*) filter (where pm & (1::bigint << (c + k)) <> 0)::int as purchase,
               count(*) filter (where am & (1::bigint << (c + k)) <> 0)::int as activity
        from x cross join lateral generate_series(greatest(0, ${m0}::int - x.c), ${months - 1}::int - x.c) as k
        group by c, k
      ),
      sizes as (
        select c, purchase as n from cells where k = 0
        union all
        -- cohorts older than the recomputed months keep their size
        select ((extract(year from cohort_month) * 12 + extract(month from cohort_month) - 1)::int - ${base}::int), cohort_size
        from cohort_retention
        where ${partial} and workspace_id = ${workspaceId} and basis = 'purchase' and month_offset = 0
          and cohort_month < ${monthStart(base + m0)}::date
      )
      insert into cohort_retention (workspace_id, basis, cohort_month, month_offset, cohort_size, retained, computed_at)
      select ${workspaceId}::int, b.basis, (${monthStart(base)}::date + make_interval(months => c.c))::date, c.k, s.n,
             case b.basis when 'purchase' then c.purchase else c.activity end, ${t}
      from cells c join sizes s on s.c = c.c
        cross join (values ('purchase'), ('activity')) as b(basis)
      where (b.basis = 'activity' and c.activity > 0) or c.purchase > 0`.execute(trx);
    return Number(r.numAffectedRows ?? 0);
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

/** The pipeline's cohorts step: all months on a full run, from the earliest changed month on an incremental one. */
export async function runCohortsStep(ctx: StepContext): Promise<Record<string, unknown>> {
  let from: Date | undefined;
  if (ctx.mode === 'incremental' && ctx.since && ctx.previousAsOf) {
    // Months before the last run's month are closed: only rows that arrived since
    // with an older time can change them, and then the recompute starts there.
    // `offset 0` keeps each min() off the time index: walked in time order it would
    // read nearly every row before reaching one that arrived since (the new rows are
    // the newest), whereas the arrival-time index finds the day's few rows directly.
    const r = await sql<{ at: Date | null }>`
      select least(
        (select min(ordered_at) from (select ordered_at from orders
           where workspace_id = ${ctx.workspaceId} and updated_at > ${ctx.since} offset 0) o),
        (select min(occurred_at) from (select occurred_at from events
           where workspace_id = ${ctx.workspaceId} and received_at > ${ctx.since} offset 0) e)) as at`.execute(ctx.db);
    const at = r.rows[0]?.at;
    from = at && new Date(at) < ctx.previousAsOf ? new Date(at) : ctx.previousAsOf;
  }
  const rows = await refreshCohorts(ctx.db, ctx.workspaceId, ctx.now, await workspaceTimeZone(ctx.db, ctx.workspaceId), 24, from);
  return { rows, ...(from ? { from: from.toISOString() } : {}) };
}

// Cohort retention: customers grouped by the month of their first paid order
// (in the workspace's time zone), and the number of them who bought — or, for
// the activity basis, bought or did anything — in each following month.
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Report } from '../reports/report.ts';

export type CohortBasis = 'purchase' | 'activity';

/** Recomputes the workspace's cohort table as of `now` (both bases), in one transaction. */
export async function refreshCohorts(db: Kysely<Database>, workspaceId: number, now: Date, timeZone: string, months = 24): Promise<number> {
  const t = sql`${now}::timestamptz`;
  const month = (col: string) => sql`(date_trunc('month', ${sql.ref(col)} at time zone ${timeZone}::text))::date`;
  const from = sql`(date_trunc('month', ${t} at time zone ${timeZone}::text) - make_interval(months => ${months - 1}::int))::date`;
  return db.transaction().execute(async (trx) => {
    await trx.deleteFrom('cohort_retention').where('workspace_id', '=', workspaceId).execute();
    // One pass sorted by customer: each (customer, month) row learns its cohort
    // from a window over the customer's rows — no self-joins, so the plan stays
    // linear whatever the table statistics say.
    const r = await sql`
      with acts as (
        select customer_id, ${month('ordered_at')} as m, true as bought
        from orders where workspace_id = ${workspaceId} and status = 'paid' and ordered_at <= ${t}
        union
        select customer_id, ${month('occurred_at')}, false
        from events where workspace_id = ${workspaceId} and customer_id is not null and occurred_at <= ${t}
      ),
      x as (
        select customer_id, m, bought, min(m) filter (where bought) over (partition by customer_id) as cohort
        from acts
      ),
      y as (
        select customer_id, cohort, bought,
               ((extract(year from m) - extract(year from cohort)) * 12 + extract(month from m) - extract(month from cohort))::int as k
        from x where cohort is not null and cohort >= ${from} and m >= cohort
      ),
      counted as (
        select cohort, k,
               count(distinct customer_id) filter (where bought)::int as purchase,
               count(distinct customer_id)::int as activity
        from y group by cohort, k
      ),
      sizes as (select cohort, purchase as n from counted where k = 0)
      insert into cohort_retention (workspace_id, basis, cohort_month, month_offset, cohort_size, retained, computed_at)
      select ${workspaceId}::int, b.basis, c.cohort, c.k, s.n, case b.basis when 'purchase' then c.purchase else c.activity end, ${t}
      from counted c join sizes s using (cohort)
        cross join (values ('purchase'), ('activity')) as b(basis)
      where b.basis = 'activity' or c.purchase > 0`.execute(trx);
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

// The retention evaluation table (seeds' Table 5): for each period and tier,
// the customers in that tier at the start of the period (from tier history),
// in it at the end, how many of the starters bought during the period
// (retained), the rate, the tier's target and the gap.
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Report } from '../reports/report.ts';
import type { AnalyticsSettings } from './settings.ts';

export type Period = 'month' | 'quarter';

export async function retentionReport(
  db: Kysely<Database>,
  workspaceId: number,
  now: Date,
  timeZone: string,
  s: AnalyticsSettings,
  period: Period = 'month',
  periods = 6,
): Promise<Report> {
  const step = period === 'quarter' ? 3 : 1;
  const t = sql`${now}::timestamptz`;
  const r = await sql<{ start: Date; tier: string; start_count: number; end_count: number; retained: number }>`
    with bounds as (
      select (date_trunc(${period}::text, ${t} at time zone ${timeZone}::text)
              - make_interval(months => ${step}::int * g)) at time zone ${timeZone}::text as start,
             g
      from generate_series(0, ${periods - 1}::int) g
    ),
    p as (
      select start, least(${t}, (start at time zone ${timeZone}::text + make_interval(months => ${step}::int)) at time zone ${timeZone}::text) as finish
      from bounds
    ),
    starters as (
      select p.start, p.finish, h.customer_id, h.tier
      from p join tier_history h on h.workspace_id = ${workspaceId}
        and h.valid_from <= p.start and (h.valid_to is null or h.valid_to > p.start)
    ),
    enders as (
      select p.start, h.tier, count(*)::int as n
      from p join tier_history h on h.workspace_id = ${workspaceId}
        and h.valid_from <= p.finish and (h.valid_to is null or h.valid_to > p.finish)
      group by 1, 2
    ),
    kept as (
      select st.start, st.tier, count(*)::int as n
      from starters st
      where exists (select 1 from orders o where o.workspace_id = ${workspaceId} and o.customer_id = st.customer_id
                    and o.status = 'paid' and o.ordered_at >= st.start and o.ordered_at < st.finish)
      group by 1, 2
    ),
    started as (select start, tier, count(*)::int as n from starters group by 1, 2)
    select st.start, st.tier, st.n as start_count, coalesce(e.n, 0) as end_count, coalesce(k.n, 0) as retained
    from started st
      left join enders e on e.start = st.start and e.tier = st.tier
      left join kept k on k.start = st.start and k.tier = st.tier
    order by st.start desc, st.tier`.execute(db);
  const label = (d: Date) => {
    const local = new Date(d.toLocaleString('en-US', { timeZone }));
    const y = local.getFullYear();
    const m = local.getMonth() + 1;
    return period === 'quarter' ? `${y} Q${Math.ceil(m / 3)}` : `${y}-${String(m).padStart(2, '0')}`;
  };
  return {
    name: 'retention',
    title: { en: `Retention evaluation by ${period} and tier`, zh: period === 'quarter' ? '分层留存效果评估（季度）' : '分层留存效果评估（月度）' },
    columns: [
      { key: 'period', en: 'Period', zh: '评估周期' },
      { key: 'tier', en: 'Tier', zh: '分层类别' },
      { key: 'start_count', en: 'Customers at start', zh: '期初客户数', type: 'number' },
      { key: 'end_count', en: 'Customers at end', zh: '期末客户数', type: 'number' },
      { key: 'retained', en: 'Retained', zh: '留存客户数', type: 'number' },
      { key: 'rate', en: 'Retention rate', zh: '留存率', type: 'percent' },
      { key: 'target', en: 'Target', zh: '目标', type: 'percent' },
      { key: 'gap', en: 'Gap', zh: '差距', type: 'percent' },
    ],
    rows: r.rows.map((x) => {
      const rate = x.start_count ? x.retained / x.start_count : 0;
      const target = s.retentionTargets[x.tier as 'A'] ?? null;
      return {
        period: label(new Date(x.start)),
        tier: x.tier,
        start_count: x.start_count,
        end_count: x.end_count,
        retained: x.retained,
        rate,
        target,
        gap: target === null ? null : rate - target,
      };
    }),
    meta: { period, note: 'Retained = bought at least once during the period. Needs tier history: run `liuke pipeline backfill` once.' },
  };
}

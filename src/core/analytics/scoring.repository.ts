// The scoring pass over customer_metrics, always for every customer (it is
// cheap, and recency moves for everyone each day): recency, R/F/M scores, the
// weighted 0–100 RFM score, value tier, named RFM segment and lifecycle stage.
// One statement also closes/opens tier_history rows and records lifecycle
// transitions, reading the previous values from the same snapshot.
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { AnalyticsSettings } from './settings.ts';

function scoreExpr(s: AnalyticsSettings): { r: RawBuilder<number>; f: RawBuilder<number>; m: RawBuilder<number> } {
  if (s.rfm.method === 'breakpoints') {
    const b = s.rfm.breakpoints;
    // recency thresholds descend: ≤ b[3] days scores 5, … > b[0] scores 1
    const r = sql<number>`(1 + (recency_days <= ${b.recency[0]}::int)::int + (recency_days <= ${b.recency[1]}::int)::int
                              + (recency_days <= ${b.recency[2]}::int)::int + (recency_days <= ${b.recency[3]}::int)::int)`;
    const up = (col: string, t: number[]) =>
      sql<number>`(1 + ${sql.join(t.map((x) => sql`(${sql.ref(col)} >= ${x}::numeric)::int`), sql` + `)})`;
    return { r, f: up('orders_window', b.frequency), m: up('spend_window', b.monetary) };
  }
  // Quintiles by percent rank among customers who ever bought; ties share the lower score.
  const q = (order: RawBuilder<unknown>) => sql<number>`least(5, 1 + floor(percent_rank() over (order by ${order}) * 5))::int`;
  return { r: q(sql`recency_days desc`), f: q(sql`orders_window`), m: q(sql`spend_window`) };
}

/** The classic named RFM segments by R and F score (docs/analytics.md has the grid). */
const SEGMENT = sql<string>`case
  when r = 1 and f <= 2 and m <= 2 then 'lost'
  when r <= 2 and f <= 2 then 'hibernating'
  when r <= 2 and f <= 4 then 'at_risk'
  when r <= 2 then 'cannot_lose_them'
  when r = 3 and f <= 2 then 'about_to_sleep'
  when r = 3 and f = 3 then 'need_attention'
  when r <= 4 and f >= 4 then 'loyal'
  when r = 4 and f = 1 then 'promising'
  when r = 5 and f = 1 then 'new'
  when f <= 3 then 'potential_loyalist'
  else 'champions' end`;

export async function scoreCustomers(db: Kysely<Database>, workspaceId: number, now: Date, s: AnalyticsSettings): Promise<void> {
  const t = sql`${now}::timestamptz`;
  const { r, f, m } = scoreExpr(s);
  const w = s.rfm.weights;
  const wsum = w.r + w.f + w.m;
  const l = s.lifecycle;
  const daysSince = (col: string) => sql`floor(extract(epoch from (${t} - ${sql.ref(col)})) / 86400)::int`;
  await sql`
    with base as (
      select customer_id, first_order_at, last_order_at, last_event_at, orders_window, spend_window,
             orders_90d,
             -- the customer's own rhythm: orders per 90 days over up to 12 months before the
             -- last 90 days, once at least 90 days of that history exist
             case when first_order_at <= ${t} - make_interval(days => 180)
                  then orders_base * 90.0 / least(365.0, extract(epoch from (${t} - make_interval(days => 90) - first_order_at)) / 86400.0)
             end as orders_baseline_90d,
             ${daysSince('last_order_at')} as recency_days,
             ${daysSince('first_order_at')} as tenure_days,
             floor(extract(epoch from (${t} - greatest(last_order_at, last_event_at))) / 86400)::int as idle_days
      from customer_metrics where workspace_id = ${workspaceId}
    ),
    scored as (
      select customer_id, recency_days, ${r} as r, ${f} as f, ${m} as m
      from base where last_order_at is not null
    ),
    rated as (
      select customer_id, r, f, m,
             round(((${w.r}::numeric * r + ${w.f}::numeric * f + ${w.m}::numeric * m) / ${wsum}::numeric - 1) / 4 * 100, 2) as rfm_score,
             ${SEGMENT} as rfm_segment
      from scored
    ),
    next as (
      select b.customer_id, b.recency_days, b.orders_baseline_90d, x.r, x.f, x.m, x.rfm_score, x.rfm_segment,
        case when x.rfm_score is null then null
             when x.rfm_score >= ${s.tiers.a}::numeric then 'A'
             when x.rfm_score >= ${s.tiers.b}::numeric then 'B'
             when x.rfm_score > ${s.tiers.c}::numeric then 'C'
             else 'D' end as tier,
        case when b.first_order_at is null then 'prospect'
             when b.recency_days > ${l.churnDays}::int then 'churned'
             when b.recency_days > ${l.dormantDays}::int then 'dormant'
             when b.idle_days > ${l.inactiveDays}::int then 'at_risk'
             when b.orders_baseline_90d >= 1 and b.orders_90d <= (1 - ${l.frequencyDrop}::float8) * b.orders_baseline_90d then 'at_risk'
             when b.tenure_days <= ${l.newDays}::int then 'new'
             when b.tenure_days <= ${l.growingDays}::int then 'growing'
             else 'mature' end as stage
      from base b left join rated x on x.customer_id = b.customer_id
    ),
    transitions as (
      insert into lifecycle_transitions (workspace_id, customer_id, at, from_stage, to_stage)
      select ${workspaceId}::int, n.customer_id, ${t}, cm.lifecycle_stage, n.stage
      from next n join customer_metrics cm on cm.workspace_id = ${workspaceId} and cm.customer_id = n.customer_id
      where cm.lifecycle_stage is distinct from n.stage
      on conflict (workspace_id, customer_id, at) do update set to_stage = excluded.to_stage
    ),
    closed as (
      update tier_history h set valid_to = ${t}
      from next n
      where h.workspace_id = ${workspaceId} and h.customer_id = n.customer_id and h.valid_to is null
        and h.tier is distinct from n.tier and h.valid_from < ${t}
    ),
    opened as (
      insert into tier_history (workspace_id, customer_id, valid_from, valid_to, tier, rfm_score)
      select ${workspaceId}::int, n.customer_id, ${t}, null, n.tier, n.rfm_score
      from next n
      where n.tier is not null and not exists (
        select 1 from tier_history h
        where h.workspace_id = ${workspaceId} and h.customer_id = n.customer_id and h.valid_to is null and h.tier = n.tier)
      on conflict (workspace_id, customer_id, valid_from) do update set tier = excluded.tier, rfm_score = excluded.rfm_score
    )
    update customer_metrics cm set
      recency_days = n.recency_days, orders_baseline_90d = n.orders_baseline_90d, r_score = n.r, f_score = n.f, m_score = n.m, rfm_score = n.rfm_score,
      tier = n.tier, rfm_segment = n.rfm_segment, lifecycle_stage = n.stage,
      stage_since = case when cm.lifecycle_stage is distinct from n.stage then ${t} else coalesce(cm.stage_since, ${t}) end
    from next n
    where cm.workspace_id = ${workspaceId} and cm.customer_id = n.customer_id`.execute(db);
}

/** A customer's tier on a past date (from tier_history). */
export async function tierOn(db: Kysely<Database>, workspaceId: number, customerId: string, at: Date): Promise<string | null> {
  const r = await db
    .selectFrom('tier_history')
    .select('tier')
    .where('workspace_id', '=', workspaceId)
    .where('customer_id', '=', customerId)
    .where('valid_from', '<=', at)
    .where((eb) => eb.or([eb('valid_to', 'is', null), eb('valid_to', '>', at)]))
    .executeTakeFirst();
  return r?.tier ?? null;
}

// The scoring pass over customer_metrics, always for every customer (it is
// cheap, and recency moves for everyone each day): recency, R/F/M scores, the
// weighted 0–100 RFM score, value tier, named RFM segment and lifecycle stage.
// One statement also closes/opens tier_history rows and records lifecycle
// transitions, reading the previous values from the same snapshot.
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { StepContext } from '../pipeline/pipeline.ts';
import { type AnalyticsSettings, analyticsSession, loadAnalyticsSettings } from './settings.ts';

/** Quintile breakpoints: for scores 2..5, the value a customer must pass (see quintileBreakpoints). */
interface Quintiles {
  n: number;
  recency: number[];
  frequency: number[];
  monetary: string[];
}

/**
 * `min(5, 1 + floor(percent_rank × 5))` without a window: with n buyers, a score
 * of at least k + 1 means at least c = ceil(k(n − 1)/5) buyers rank strictly
 * before, i.e. a value past the c-th value in rank order. percentile_disc at
 * (c − ½)/n picks exactly that value; one sort of one column per figure instead
 * of three window sorts of whole rows. Ties share the lower score, as with percent_rank.
 */
async function quintileBreakpoints(db: Kysely<Database>, workspaceId: number, recencyDays: RawBuilder<number>): Promise<Quintiles> {
  const n = Number(
    (await sql<{ n: string }>`select count(*) as n from customer_metrics where workspace_id = ${workspaceId} and last_order_at is not null`.execute(db))
      .rows[0]!.n,
  );
  if (n < 2) return { n, recency: [], frequency: [], monetary: [] };
  const p = [1, 2, 3, 4].map((k) => (Math.ceil((k * (n - 1)) / 5) - 0.5) / n);
  const r = await sql<{ r: number[]; f: number[]; m: string[] }>`
    select percentile_disc(${p}::float8[]) within group (order by ${recencyDays} desc) as r,
           percentile_disc(${p}::float8[]) within group (order by orders_window) as f,
           percentile_disc(${p}::float8[]) within group (order by spend_window) as m
    from customer_metrics where workspace_id = ${workspaceId} and last_order_at is not null`.execute(db);
  const row = r.rows[0]!;
  return { n, recency: row.r.map(Number), frequency: row.f.map(Number), monetary: row.m.map(String) };
}

function scoreExpr(s: AnalyticsSettings, q: Quintiles | null): { r: RawBuilder<number>; f: RawBuilder<number>; m: RawBuilder<number> } {
  const sum = (terms: RawBuilder<unknown>[]) => sql<number>`(1 + ${sql.join(terms.map((x) => sql`(${x})::int`), sql` + `)})`;
  if (s.rfm.method === 'breakpoints' || !q) {
    const b = s.rfm.breakpoints;
    // recency thresholds descend: ≤ b[3] days scores 5, … > b[0] scores 1
    const up = (col: string, t: number[]) => sum(t.map((x) => sql`${sql.ref(col)} >= ${x}::numeric`));
    return { r: sum(b.recency.map((x) => sql`recency_days <= ${x}::int`)), f: up('orders_window', b.frequency), m: up('spend_window', b.monetary) };
  }
  if (q.n < 2) return { r: sql<number>`1`, f: sql<number>`1`, m: sql<number>`1` };
  return {
    r: sum(q.recency.map((x) => sql`recency_days < ${x}::int`)),
    f: sum(q.frequency.map((x) => sql`orders_window > ${x}::int`)),
    m: sum(q.monetary.map((x) => sql`spend_window > ${x}::numeric`)),
  };
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
  const daysSince = (col: string) => sql<number>`floor(extract(epoch from (${t} - ${sql.ref(col)})) / 86400)::int`;
  const w = s.rfm.weights;
  const wsum = w.r + w.f + w.m;
  const l = s.lifecycle;
  await db.transaction().execute(async (trx) => {
    await analyticsSession(trx);
    const q = s.rfm.method === 'quintile' ? await quintileBreakpoints(trx, workspaceId, daysSince('last_order_at')) : null;
    const { r, f, m } = scoreExpr(s, q);
    await sql`
      with base as (
        select customer_id, first_order_at, last_order_at, last_event_at, orders_window, spend_window, orders_90d,
               -- the customer's own rhythm: orders per 90 days over up to 12 months before the
               -- last 90 days, once at least 90 days of that history exist
               case when first_order_at <= (select ${t} - make_interval(days => 180))
                    then orders_base * 90.0 / least(365.0, extract(epoch from ((select ${t} - make_interval(days => 90)) - first_order_at)) / 86400.0)
               end as orders_baseline_90d,
               ${daysSince('last_order_at')} as recency_days,
               ${daysSince('first_order_at')} as tenure_days,
               floor(extract(epoch from (${t} - greatest(last_order_at, last_event_at))) / 86400)::int as idle_days,
               -- the stored values, to write only what moves
               recency_days as old_recency, orders_baseline_90d as old_baseline, r_score as old_r, f_score as old_f, m_score as old_m,
               rfm_score as old_rfm_score, tier as old_tier, rfm_segment as old_segment, lifecycle_stage as old_stage
        from customer_metrics where workspace_id = ${workspaceId}
        -- offset 0 keeps each step a subquery: its columns are computed once per row
        -- instead of the planner pasting the expressions into every later use
        -- (the segment and tier cases use r, f, m and the score a dozen times).
        offset 0
      ),
      -- Scores are row-local (thresholds, no windows), so one pass over the table does it all.
      scored as (
        select *,
               case when last_order_at is not null then ${r} end as r,
               case when last_order_at is not null then ${f} end as f,
               case when last_order_at is not null then ${m} end as m
        from base
        offset 0
      ),
      rated as (
        select *,
               round(((${w.r}::numeric * r + ${w.f}::numeric * f + ${w.m}::numeric * m) / ${wsum}::numeric - 1) / 4 * 100, 2) as rfm_score,
               case when r is not null then ${SEGMENT} end as rfm_segment
        from scored
        offset 0
      ),
      next as (
        select customer_id, recency_days, orders_baseline_90d, r, f, m, rfm_score, rfm_segment, old_stage,
          case when rfm_score is null then null
               when rfm_score >= ${s.tiers.a}::numeric then 'A'
               when rfm_score >= ${s.tiers.b}::numeric then 'B'
               when rfm_score > ${s.tiers.c}::numeric then 'C'
               else 'D' end as tier,
          case when first_order_at is null then 'prospect'
               when recency_days > ${l.churnDays}::int then 'churned'
               when recency_days > ${l.dormantDays}::int then 'dormant'
               when idle_days > ${l.inactiveDays}::int then 'at_risk'
               when orders_baseline_90d >= 1 and orders_90d <= (1 - ${l.frequencyDrop}::float8) * orders_baseline_90d then 'at_risk'
               when tenure_days <= ${l.newDays}::int then 'new'
               when tenure_days <= ${l.growingDays}::int then 'growing'
               else 'mature' end as stage,
          old_recency, old_baseline, old_r, old_f, old_m, old_rfm_score, old_tier, old_segment
        from rated
        offset 0
      ),
      -- Only rows whose scores or stage move are written: on most days that is the
      -- buyers (recency grows by a day) and not the rest.
      changed as materialized (
        select * from next
        where (old_recency, old_baseline, old_r, old_f, old_m, old_rfm_score, old_tier, old_segment, old_stage)
          is distinct from (recency_days, orders_baseline_90d, r, f, m, rfm_score, tier, rfm_segment, stage)
      ),
      transitions as (
        insert into lifecycle_transitions (workspace_id, customer_id, at, from_stage, to_stage)
        select ${workspaceId}::int, n.customer_id, ${t}, n.old_stage, n.stage
        from changed n
        where n.old_stage is distinct from n.stage
        on conflict (workspace_id, customer_id, at) do update set to_stage = excluded.to_stage
      ),
      closed as (
        update tier_history h set valid_to = ${t}
        from changed n
        where h.workspace_id = ${workspaceId} and h.customer_id = n.customer_id and h.valid_to is null
          and h.tier is distinct from n.tier and h.valid_from < ${t}
      ),
      opened as (
        insert into tier_history (workspace_id, customer_id, valid_from, valid_to, tier, rfm_score)
        select ${workspaceId}::int, n.customer_id, ${t}, null, n.tier, n.rfm_score
        from changed n
        where n.tier is not null and not exists (
          select 1 from tier_history h
          where h.workspace_id = ${workspaceId} and h.customer_id = n.customer_id and h.valid_to is null and h.tier = n.tier)
        on conflict (workspace_id, customer_id, valid_from) do update set tier = excluded.tier, rfm_score = excluded.rfm_score
      )
      update customer_metrics cm set
        recency_days = n.recency_days, orders_baseline_90d = n.orders_baseline_90d, r_score = n.r, f_score = n.f, m_score = n.m, rfm_score = n.rfm_score,
        tier = n.tier, rfm_segment = n.rfm_segment, lifecycle_stage = n.stage,
        stage_since = case when cm.lifecycle_stage is distinct from n.stage then ${t} else coalesce(cm.stage_since, ${t}) end
      from changed n
      where cm.workspace_id = ${workspaceId} and cm.customer_id = n.customer_id`.execute(trx);
  });
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

/** The pipeline's RFM and lifecycle step. */
export async function runScoringStep(ctx: StepContext): Promise<Record<string, unknown> | undefined> {
  const s = await loadAnalyticsSettings(ctx.db, ctx.workspaceId);
  await scoreCustomers(ctx.db, ctx.workspaceId, ctx.now, s);
  return undefined;
}

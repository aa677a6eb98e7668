// The analytics steps of the daily pipeline.
import { sql } from 'kysely';
import { refreshCustomerStats } from '../customers/customers.stats.ts';
import type { Step } from '../pipeline/pipeline.ts';
import { refreshCohorts } from './cohorts.ts';
import { refreshKpis } from './kpis.ts';
import { deleteStaleMetrics, touchedCustomers, upsertCustomerFigures } from './metrics.repository.ts';
import { scoreCustomers } from './scoring.repository.ts';
import { analyticsSession, loadAnalyticsSettings, workspaceTimeZone } from './settings.ts';

export const customerMetricsStep: Step = {
  name: 'customer_metrics',
  title: { en: 'Customer figures (orders, activity, service)', zh: '客户指标（订单、活跃、服务）' },
  async run(ctx) {
    const s = await loadAnalyticsSettings(ctx.db, ctx.workspaceId);
    let ids: string[] | null = null;
    if (ctx.mode === 'incremental' && ctx.since && ctx.previousAsOf) {
      ids = await touchedCustomers(ctx.db, ctx.workspaceId, ctx.since, ctx.previousAsOf, ctx.now, s);
    }
    // Fresh statistics after bulk loads keep the planner off nested loops; PGlite has no autovacuum to do it.
    if (!ids) await sql`analyze customers, orders, order_lines, events, tickets, survey_responses`.execute(ctx.db);
    // A merge touches the customer row (updated_at), so an incremental run sees it among ids.
    const removed = await deleteStaleMetrics(ctx.db, ctx.workspaceId, ids);
    const updated = ids && ids.length === 0 ? 0 : await upsertCustomerFigures(ctx.db, ctx.workspaceId, ctx.now, s, ids);
    // The scoring pass reads every row of customer_metrics: plan it on fresh counts, not on an empty table's.
    if (!ids) await sql`analyze customer_metrics`.execute(ctx.db);
    // Imports and ingestion refresh the list's summary too; this catches every other way data arrived.
    if (!ids || ids.length > 0) {
      await ctx.db.transaction().execute(async (trx) => {
        await analyticsSession(trx);
        await refreshCustomerStats(trx, ctx.workspaceId, ids ?? undefined, ctx.now);
      });
    }
    return { mode: ids ? 'incremental' : 'full', customers: updated, removed };
  },
};

export const scoringStep: Step = {
  name: 'rfm_lifecycle',
  title: { en: 'RFM scores, value tiers and lifecycle stages', zh: 'RFM 评分、价值分层与生命周期' },
  async run(ctx) {
    const s = await loadAnalyticsSettings(ctx.db, ctx.workspaceId);
    await scoreCustomers(ctx.db, ctx.workspaceId, ctx.now, s);
    return undefined;
  },
};

export const cohortsStep: Step = {
  name: 'cohorts',
  title: { en: 'Cohort retention by first-purchase month', zh: '首购月份同期群留存' },
  async run(ctx) {
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
  },
};

export const kpisStep: Step = {
  name: 'kpis',
  title: { en: 'KPIs with targets, trend and anomaly flags', zh: '关键指标、目标、趋势与异常' },
  async run(ctx) {
    const s = await loadAnalyticsSettings(ctx.db, ctx.workspaceId);
    const values = await refreshKpis(ctx.db, ctx.workspaceId, ctx.now, await workspaceTimeZone(ctx.db, ctx.workspaceId), s);
    return { values };
  },
};

// The analytics steps of the daily pipeline.
import { sql } from 'kysely';
import { refreshCustomerStats } from '../customers/customers.stats.ts';
import type { Step } from '../pipeline/pipeline.ts';
import { runCohortsStep } from './cohorts.ts';
import { runKpisStep } from './kpis.ts';
import { deleteStaleMetrics, touchedCustomers, upsertCustomerFigures } from './metrics.repository.ts';
import { runScoringStep } from './scoring.repository.ts';
import { analyticsSession, loadAnalyticsSettings } from './settings.ts';

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
  run: runScoringStep,
};

export const cohortsStep: Step = {
  name: 'cohorts',
  title: { en: 'Cohort retention by first-purchase month', zh: '首购月份同期群留存' },
  run: runCohortsStep,
};

export const kpisStep: Step = {
  name: 'kpis',
  title: { en: 'KPIs with targets, trend and anomaly flags', zh: '关键指标、目标、趋势与异常' },
  run: runKpisStep,
};

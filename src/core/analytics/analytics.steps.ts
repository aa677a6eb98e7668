// The analytics steps of the daily pipeline.
import type { Step } from '../pipeline/pipeline.ts';
import { deleteStaleMetrics, touchedCustomers, upsertCustomerFigures } from './metrics.repository.ts';
import { scoreCustomers } from './scoring.repository.ts';
import { loadAnalyticsSettings } from './settings.ts';

export const customerMetricsStep: Step = {
  name: 'customer_metrics',
  title: { en: 'Customer figures (orders, activity, service)', zh: '客户指标（订单、活跃、服务）' },
  async run(ctx) {
    const s = await loadAnalyticsSettings(ctx.db, ctx.workspaceId);
    let ids: string[] | null = null;
    if (ctx.mode === 'incremental' && ctx.since && ctx.previousAsOf) {
      ids = await touchedCustomers(ctx.db, ctx.workspaceId, ctx.since, ctx.previousAsOf, ctx.now, s);
    }
    const removed = await deleteStaleMetrics(ctx.db, ctx.workspaceId);
    const updated = ids && ids.length === 0 ? 0 : await upsertCustomerFigures(ctx.db, ctx.workspaceId, ctx.now, s, ids);
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

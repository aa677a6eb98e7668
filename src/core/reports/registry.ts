// Every named report, for `liuke report NAME` and GET /api/reports/:name.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { indicatorsReport, lifecycleReport, rfmGridReport, segmentReport, tierReport, transitionsReport } from '../analytics/analytics.reports.ts';
import { cohortReport } from '../analytics/cohorts.ts';
import { kpiReport } from '../analytics/kpis.ts';
import { retentionReport } from '../analytics/retention.ts';
import { loadAnalyticsSettings, workspaceTimeZone } from '../analytics/settings.ts';
import type { Report } from './report.ts';

export interface ReportContext {
  db: Kysely<Database>;
  workspaceId: number;
  now: Date;
  /** Report-specific options from the query string or CLI flags. */
  params: Record<string, string | undefined>;
}

export const REPORTS: Record<string, (ctx: ReportContext) => Promise<Report>> = {
  tiers: (c) => tierReport(c.db, c.workspaceId),
  rfm: (c) => rfmGridReport(c.db, c.workspaceId),
  segments: (c) => segmentReport(c.db, c.workspaceId),
  indicators: (c) => indicatorsReport(c.db, c.workspaceId),
  lifecycle: (c) => lifecycleReport(c.db, c.workspaceId, c.now),
  cohorts: (c) => cohortReport(c.db, c.workspaceId, c.params.basis === 'activity' ? 'activity' : 'purchase'),
  retention: async (c) => {
    const s = await loadAnalyticsSettings(c.db, c.workspaceId);
    const period = c.params.period === 'quarter' ? 'quarter' : 'month';
    return retentionReport(c.db, c.workspaceId, c.now, await workspaceTimeZone(c.db, c.workspaceId), s, period, Math.min(24, Number(c.params.periods ?? 6) || 6));
  },
  kpis: async (c) => kpiReport(c.db, c.workspaceId, await loadAnalyticsSettings(c.db, c.workspaceId)),
  transitions: (c) => transitionsReport(c.db, c.workspaceId, c.now, Number(c.params.days ?? 30) || 30),
};

export class UnknownReportError extends Error {
  constructor(name: string) {
    super(`unknown report "${name}"; the reports are: ${Object.keys(REPORTS).join(', ')}`);
  }
}

export async function runReport(name: string, ctx: ReportContext): Promise<Report> {
  const fn = REPORTS[name];
  if (!fn) throw new UnknownReportError(name);
  return fn(ctx);
}

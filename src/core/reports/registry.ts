// Every named report, for `liuke report NAME` and GET /api/reports/:name.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { lifecycleReport, rfmGridReport, segmentReport, tierReport, transitionsReport } from '../analytics/analytics.reports.ts';
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
  lifecycle: (c) => lifecycleReport(c.db, c.workspaceId, c.now),
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

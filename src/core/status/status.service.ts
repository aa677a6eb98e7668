// Entity counts, the last pipeline run and import, and whether the customer figures are
// being computed again after a crash: what `liuke status` and /api/status show.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { figuresLost } from '../analytics/metrics.repository.ts';

export const COUNTED_TABLES = [
  'customers',
  'products',
  'orders',
  'order_lines',
  'events',
  'tickets',
  'survey_responses',
  'referrals',
  'coupons',
] as const;

export interface Status {
  workspaceId: number;
  counts: Record<(typeof COUNTED_TABLES)[number], number>;
  lastPipelineRun: { id: number; status: string; startedAt: string; finishedAt: string | null } | null;
  lastImport: { entity: string; fileName: string; status: string; finishedAt: string | null } | null;
  /**
   * The customer figures and scores are gone (a crash empties their unlogged tables) and
   * are being computed again: the worker has queued a pipeline run (docs/analytics.md, "After a crash").
   */
  figuresLost: boolean;
}

export async function getStatus(db: Kysely<Database>, workspaceId: number): Promise<Status> {
  const counts = {} as Status['counts'];
  for (const t of COUNTED_TABLES) {
    const r = await db
      .selectFrom(t)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('workspace_id', '=', workspaceId)
      .executeTakeFirstOrThrow();
    counts[t] = Number(r.n);
  }
  const run = await db
    .selectFrom('pipeline_runs')
    .select(['id', 'status', 'started_at', 'finished_at'])
    .where('workspace_id', '=', workspaceId)
    .orderBy('started_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  const imp = await db
    .selectFrom('import_runs')
    .select(['entity', 'file_name', 'status', 'finished_at'])
    .where('workspace_id', '=', workspaceId)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return {
    workspaceId,
    counts,
    lastPipelineRun: run
      ? { id: run.id, status: run.status, startedAt: run.started_at.toISOString(), finishedAt: run.finished_at?.toISOString() ?? null }
      : null,
    lastImport: imp
      ? { entity: imp.entity, fileName: imp.file_name, status: imp.status, finishedAt: imp.finished_at?.toISOString() ?? null }
      : null,
    figuresLost: await figuresLost(db, workspaceId),
  };
}

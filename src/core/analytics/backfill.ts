// Builds tier and lifecycle history for data imported all at once: runs the
// analytics as of the start of each of the last N months, oldest first, then
// now. Without it, the retention evaluation and tier KPIs have no history
// until Liuke has been running for a while.
import type { Store } from '../../db/store.ts';
import { runPipeline } from '../pipeline/pipeline.ts';
import { PIPELINE_STEPS } from '../pipeline/steps.ts';
import { customerMetricsStep, scoringStep } from './analytics.steps.ts';

export async function backfillHistory(
  store: Store,
  workspaceId: number,
  now: Date,
  months: number,
  onProgress?: (done: number, total: number) => void,
): Promise<{ runs: number }> {
  await store.db.transaction().execute(async (trx) => {
    for (const t of ['tier_history', 'lifecycle_transitions', 'customer_metrics', 'kpi_values'] as const) {
      await trx.deleteFrom(t).where('workspace_id', '=', workspaceId).execute();
    }
  });
  for (let i = months; i >= 1; i--) {
    const at = new Date(now);
    at.setUTCMonth(at.getUTCMonth() - i);
    const r = await runPipeline(store, { workspaceId, now: at, steps: [customerMetricsStep, scoringStep], mode: 'full', kind: 'backfill' });
    if (r.status === 'failed') throw new Error(`backfill as of ${at.toISOString()}: ${r.error}`);
    onProgress?.(months - i + 1, months + 1);
  }
  const last = await runPipeline(store, { workspaceId, now, steps: PIPELINE_STEPS, mode: 'full' });
  if (last.status === 'failed') throw new Error(last.error);
  onProgress?.(months + 1, months + 1);
  return { runs: months + 1 };
}

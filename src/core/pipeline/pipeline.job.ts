// The pipeline as a queued job, and the worker every Liuke process runs.
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Store } from '../../db/store.ts';
import { createWorker, enqueue, type JobHandler, upsertSchedule, type Worker } from '../jobs/queue.ts';
import { MODEL_TRAIN_TASK, modelTrainHandler } from '../churn/churn.job.ts';
import { lostFigures } from '../analytics/metrics.repository.ts';
import { runningSteps, runPipeline } from './pipeline.ts';
import { DAILY_SCHEDULE, PIPELINE_STEPS, PIPELINE_TASK } from './steps.ts';

export const pipelineHandler: JobHandler = async (ctx) => {
  const mode = ctx.payload.mode === 'full' ? 'full' : 'incremental';
  const only = Array.isArray(ctx.payload.only) ? (ctx.payload.only as string[]) : undefined;
  const result = await runPipeline(ctx.store, {
    workspaceId: ctx.workspaceId,
    now: ctx.now(),
    steps: PIPELINE_STEPS,
    mode,
    ...(only ? { only } : {}),
    onUpdate: (steps) => {
      const done = steps.filter((s) => s.status === 'done').length;
      void ctx.progress({ done, total: steps.length, current: runningSteps(steps) || null });
    },
  });
  if (result.status === 'failed') throw new Error(result.error);
  return { runId: result.runId };
};

/** Makes sure every workspace has its daily pipeline at 09:00 in its own time zone. */
export async function ensureDailySchedules(db: Kysely<Database>, now: Date): Promise<void> {
  const workspaces = await db.selectFrom('workspaces').select(['id', 'time_zone', 'settings']).execute();
  for (const w of workspaces) {
    const settings = (w.settings ?? {}) as { pipeline_cron?: string };
    await upsertSchedule(
      db,
      {
        workspaceId: w.id,
        name: DAILY_SCHEDULE.name,
        task: PIPELINE_TASK,
        cron: settings.pipeline_cron ?? DAILY_SCHEDULE.cron,
        timeZone: w.time_zone,
        payload: { mode: 'incremental' },
      },
      now,
    );
  }
}

/** How often a worker looks for workspaces whose figures a crash emptied, and the least time between two runs it queues for one. */
export const LOST_FIGURES_CHECK_MS = 60_000;
const LOST_FIGURES_RETRY_MS = 10 * 60_000;

/**
 * Queues a pipeline run for each workspace whose customer figures are gone (lostFigures:
 * it has customers, had figures, and customer_metrics holds none of its rows). The table
 * is unlogged (migration 0033), so a crash of the server, or of the process holding an
 * embedded store, empties it, and without this the figures, scores and everything read
 * from them would stay blank until the next scheduled run. Not while a pipeline run of
 * the workspace is queued or running, and at most one such run per ten minutes (the
 * job's key), so a run that fails is not started again every minute. Returns the
 * workspaces queued.
 */
export async function queueRunsForLostFigures(db: Kysely<Database>, now: Date): Promise<number[]> {
  const r = await sql<{ id: number }>`
    select w.id from workspaces w
    where ${lostFigures(sql.ref('w.id'))}
      and not exists (select 1 from jobs j where j.workspace_id = w.id and j.task = ${PIPELINE_TASK} and j.status in ('queued', 'running'))
    order by w.id`.execute(db);
  const slot = new Date(Math.floor(now.getTime() / LOST_FIGURES_RETRY_MS) * LOST_FIGURES_RETRY_MS).toISOString();
  const queued: number[] = [];
  for (const { id } of r.rows) {
    const job = await enqueue(db, { workspaceId: id, task: PIPELINE_TASK, payload: { mode: 'incremental' }, key: `figures-lost@${slot}`, maxAttempts: 1 });
    if (job !== null) queued.push(id);
  }
  return queued;
}

export async function startWorker(store: Store, log: (m: string) => void, extraHandlers: Record<string, JobHandler> = {}): Promise<Worker> {
  await ensureDailySchedules(store.db, new Date());
  const worker = createWorker({ store, handlers: { [PIPELINE_TASK]: pipelineHandler, [MODEL_TRAIN_TASK]: modelTrainHandler, ...extraHandlers }, log });
  const lost = async () => {
    try {
      for (const id of await queueRunsForLostFigures(store.db, new Date())) {
        log(`workspace ${id} has customers but no figures (a crash empties them): pipeline run queued to compute them again`);
      }
    } catch (e) {
      log(`looking for lost figures failed: ${(e as Error).message}`);
    }
  };
  await lost();
  // A server crash while this process lives on empties the figures too.
  const timer = setInterval(() => void lost(), LOST_FIGURES_CHECK_MS);
  timer.unref();
  worker.start();
  return {
    id: worker.id,
    start: () => worker.start(),
    runOnce: () => worker.runOnce(),
    async stop() {
      clearInterval(timer);
      await worker.stop();
    },
  };
}

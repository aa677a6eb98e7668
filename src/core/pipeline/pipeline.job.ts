// The pipeline as a queued job, and the worker every Liuke process runs.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Store } from '../../db/store.ts';
import { createWorker, type JobHandler, upsertSchedule, type Worker } from '../jobs/queue.ts';
import { MODEL_TRAIN_TASK, modelTrainHandler } from '../churn/churn.job.ts';
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

export async function startWorker(store: Store, log: (m: string) => void, extraHandlers: Record<string, JobHandler> = {}): Promise<Worker> {
  await ensureDailySchedules(store.db, new Date());
  const worker = createWorker({ store, handlers: { [PIPELINE_TASK]: pipelineHandler, [MODEL_TRAIN_TASK]: modelTrainHandler, ...extraHandlers }, log });
  worker.start();
  return worker;
}

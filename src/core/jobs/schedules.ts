// Cron schedules (croner computes the next time in the schedule's time zone).
// Each due occurrence is enqueued once, whichever process sees it first: the
// schedule row moves forward with a compare-and-set, and the job key names the
// occurrence.
import { Cron } from 'croner';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { insertJob } from './jobs.repository.ts';

export interface ScheduleSpec {
  workspaceId: number;
  name: string;
  task: string;
  /** Five-field cron, e.g. "0 9 * * *" for 09:00 daily. */
  cron: string;
  timeZone: string;
  payload?: unknown;
  enabled?: boolean;
}

export class InvalidScheduleError extends Error {}

export function nextRun(cron: string, timeZone: string, after: Date): Date {
  let c: Cron;
  try {
    c = new Cron(cron, { timezone: timeZone, paused: true });
  } catch (e) {
    throw new InvalidScheduleError(`invalid cron expression "${cron}" or time zone "${timeZone}": ${(e as Error).message}`);
  }
  const next = c.nextRun(after);
  if (!next) throw new InvalidScheduleError(`cron expression "${cron}" never fires`);
  return next;
}

/** Creates or updates a schedule; next_run_at is recomputed when the timing changes. */
export async function upsertSchedule(db: Kysely<Database>, s: ScheduleSpec, now: Date): Promise<void> {
  const next = nextRun(s.cron, s.timeZone, now);
  await db
    .insertInto('schedules')
    .values({
      workspace_id: s.workspaceId,
      name: s.name,
      task: s.task,
      cron: s.cron,
      time_zone: s.timeZone,
      payload: JSON.stringify(s.payload ?? {}),
      enabled: s.enabled ?? true,
      next_run_at: next,
      last_run_at: null,
    })
    .onConflict((oc) =>
      oc.columns(['workspace_id', 'name']).doUpdateSet((eb) => ({
        task: eb.ref('excluded.task'),
        payload: eb.ref('excluded.payload'),
        enabled: eb.ref('excluded.enabled'),
        cron: eb.ref('excluded.cron'),
        time_zone: eb.ref('excluded.time_zone'),
        next_run_at: eb
          .case()
          .when(eb.or([eb('schedules.cron', '!=', eb.ref('excluded.cron')), eb('schedules.time_zone', '!=', eb.ref('excluded.time_zone'))]))
          .then(eb.ref('excluded.next_run_at'))
          .else(eb.ref('schedules.next_run_at'))
          .end(),
      })),
    )
    .execute();
}

/** Enqueues every due occurrence; returns the job ids created. Safe to run from many processes. */
export async function enqueueDueSchedules(db: Kysely<Database>, now: Date): Promise<number[]> {
  const due = await db.selectFrom('schedules').selectAll().where('enabled', '=', true).where('next_run_at', '<=', now).execute();
  const created: number[] = [];
  for (const s of due) {
    const next = nextRun(s.cron, s.time_zone, now);
    const id = await db.transaction().execute(async (trx) => {
      const moved = await trx
        .updateTable('schedules')
        .set({ next_run_at: next, last_run_at: s.next_run_at })
        .where('workspace_id', '=', s.workspace_id)
        .where('name', '=', s.name)
        .where('next_run_at', '=', s.next_run_at)
        .executeTakeFirst();
      if (Number(moved.numUpdatedRows) === 0) return null; // another process got there first
      // Occurrences missed while nothing ran collapse into this one run.
      return insertJob(trx, {
        workspaceId: s.workspace_id,
        task: s.task,
        payload: { ...(s.payload as object), schedule: s.name, scheduledFor: s.next_run_at.toISOString() },
        key: `schedule:${s.name}@${s.next_run_at.toISOString()}`,
      });
    });
    if (id !== null) created.push(id);
  }
  return created;
}

export function listSchedules(db: Kysely<Database>, workspaceId: number) {
  return db.selectFrom('schedules').selectAll().where('workspace_id', '=', workspaceId).orderBy('name').execute();
}

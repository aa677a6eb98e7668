// SQL of the job queue. `now` is always passed in, never read from the
// database clock, so tests can move time.
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';

export interface NewJob {
  workspaceId: number;
  task: string;
  payload?: unknown;
  /** Identifies one occurrence: a second enqueue with the same key is ignored. */
  key?: string | null;
  runAt?: Date;
  maxAttempts?: number;
}

/** Returns the new job's id, or null when a job with the same key exists. */
export async function insertJob(db: Kysely<Database>, job: NewJob): Promise<number | null> {
  const row = await db
    .insertInto('jobs')
    .values({
      workspace_id: job.workspaceId,
      task: job.task,
      payload: JSON.stringify(job.payload ?? {}),
      key: job.key ?? null,
      ...(job.runAt ? { run_at: job.runAt } : {}),
      ...(job.maxAttempts ? { max_attempts: job.maxAttempts } : {}),
      locked_by: null,
      locked_at: null,
      heartbeat_at: null,
      last_error: null,
      finished_at: null,
    })
    .onConflict((oc) => oc.columns(['workspace_id', 'key']).where('key', 'is not', null).doNothing())
    .returning('id')
    .executeTakeFirst();
  return row?.id ?? null;
}

export interface ClaimedJob {
  id: number;
  workspace_id: number;
  task: string;
  payload: unknown;
  attempts: number;
  max_attempts: number;
}

/** Takes the oldest ready job of the given tasks; SKIP LOCKED keeps two workers off the same one. */
export async function claimJob(db: Kysely<Database>, workerId: string, tasks: string[], now: Date): Promise<ClaimedJob | null> {
  if (tasks.length === 0) return null;
  const r = await sql<ClaimedJob>`
    update jobs set status = 'running', locked_by = ${workerId}, locked_at = ${now}, heartbeat_at = ${now},
                    attempts = attempts + 1
    where id = (
      select id from jobs
      where status = 'queued' and run_at <= ${now} and task = any(${tasks})
      order by run_at, id
      for update skip locked
      limit 1)
    returning id, workspace_id, task, payload, attempts, max_attempts`.execute(db);
  return r.rows[0] ?? null;
}

export async function heartbeat(db: Kysely<Database>, id: number, workerId: string, now: Date, progress?: unknown): Promise<boolean> {
  const r = await db
    .updateTable('jobs')
    .set({ heartbeat_at: now, ...(progress === undefined ? {} : { progress: JSON.stringify(progress) }) })
    .where('id', '=', id)
    .where('locked_by', '=', workerId)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function completeJob(db: Kysely<Database>, id: number, workerId: string, now: Date, result: unknown): Promise<void> {
  await db
    .updateTable('jobs')
    .set({ status: 'done', finished_at: now, result: JSON.stringify(result ?? null), last_error: null })
    .where('id', '=', id)
    .where('locked_by', '=', workerId)
    .execute();
}

/** A failed attempt: back to the queue after `retryAt`, or failed for good when out of attempts. */
export async function failJob(db: Kysely<Database>, id: number, workerId: string, now: Date, error: string, retryAt: Date): Promise<void> {
  await sql`
    update jobs set
      status = case when attempts >= max_attempts then 'failed' else 'queued' end,
      finished_at = case when attempts >= max_attempts then ${now}::timestamptz else null end,
      run_at = case when attempts >= max_attempts then run_at else ${retryAt}::timestamptz end,
      locked_by = null, last_error = ${error}
    where id = ${id} and locked_by = ${workerId}`.execute(db);
}

/** Jobs whose worker stopped heartbeating (killed, crashed) go back to the queue. Returns how many. */
export async function reapStale(db: Kysely<Database>, now: Date, staleBefore: Date): Promise<number> {
  const r = await sql`
    update jobs set
      status = case when attempts >= max_attempts then 'failed' else 'queued' end,
      finished_at = case when attempts >= max_attempts then ${now}::timestamptz else null end,
      last_error = 'worker ' || coalesce(locked_by, '?') || ' stopped heartbeating; presumed dead',
      locked_by = null
    where status = 'running' and heartbeat_at < ${staleBefore}`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

export function listJobs(db: Kysely<Database>, workspaceId: number, opts: { task?: string; limit?: number } = {}) {
  let q = db
    .selectFrom('jobs')
    .select(['id', 'task', 'status', 'attempts', 'max_attempts', 'run_at', 'created_at', 'finished_at', 'locked_by', 'progress', 'last_error', 'result'])
    .where('workspace_id', '=', workspaceId);
  if (opts.task) q = q.where('task', '=', opts.task);
  return q.orderBy('id', 'desc').limit(opts.limit ?? 50).execute();
}

export function getJob(db: Kysely<Database>, id: number) {
  return db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
}

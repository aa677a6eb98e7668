// A worker takes jobs from the queue and runs their handlers. Several worker
// processes may share one PostgreSQL; on PGlite the server runs one in-process.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Store } from '../../db/store.ts';
import { type ClaimedJob, claimJob, completeJob, failJob, heartbeat, reapStale } from './jobs.repository.ts';
import { enqueueDueSchedules } from './schedules.ts';

export interface JobContext {
  store: Store;
  db: Kysely<Database>;
  job: ClaimedJob;
  workspaceId: number;
  payload: Record<string, unknown>;
  now: () => Date;
  /** Records progress (shown in the CLI and UI); also counts as a heartbeat. */
  progress(p: unknown): Promise<void>;
  /** Aborted when the worker is asked to stop. */
  signal: AbortSignal;
}

export type JobHandler = (ctx: JobContext) => Promise<unknown>;

export interface WorkerOptions {
  store: Store;
  handlers: Record<string, JobHandler>;
  workerId?: string;
  pollMs?: number;
  heartbeatMs?: number;
  /** A running job whose heartbeat is older than this is presumed orphaned. */
  staleMs?: number;
  now?: () => Date;
  /** Delay before attempt n+1 (default 30 s × 2^(n-1)). */
  retryDelayMs?: (attempt: number) => number;
  log?: (msg: string) => void;
}

export interface Worker {
  readonly id: string;
  start(): void;
  /** Stops taking jobs and waits for the one in hand. */
  stop(): Promise<void>;
  /** One pass: reap, enqueue due schedules, run at most one job. True when a job ran. */
  runOnce(): Promise<boolean>;
}

export function createWorker(opts: WorkerOptions): Worker {
  const id = opts.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const now = opts.now ?? (() => new Date());
  const pollMs = opts.pollMs ?? 1000;
  const heartbeatMs = opts.heartbeatMs ?? 5000;
  const staleMs = opts.staleMs ?? 60_000;
  const retryDelay = opts.retryDelayMs ?? ((n) => 30_000 * 2 ** (n - 1));
  const log = opts.log ?? (() => {});
  const db = opts.store.db;
  const tasks = Object.keys(opts.handlers);
  const abort = new AbortController();
  let loop: Promise<void> | null = null;
  let wake: (() => void) | null = null;

  async function run(job: ClaimedJob): Promise<void> {
    const handler = opts.handlers[job.task]!;
    const beat = setInterval(() => {
      heartbeat(db, job.id, id, now()).catch((e) => log(`heartbeat failed for job ${job.id}: ${e.message}`));
    }, heartbeatMs);
    try {
      const result = await handler({
        store: opts.store,
        db,
        job,
        workspaceId: job.workspace_id,
        payload: (job.payload ?? {}) as Record<string, unknown>,
        now,
        progress: async (p) => {
          await heartbeat(db, job.id, id, now(), p);
        },
        signal: abort.signal,
      });
      await completeJob(db, job.id, id, now(), result);
      log(`job ${job.id} (${job.task}) done`);
    } catch (e) {
      const msg = (e as Error)?.message ?? String(e);
      await failJob(db, job.id, id, now(), msg, new Date(now().getTime() + retryDelay(job.attempts)));
      log(`job ${job.id} (${job.task}) failed on attempt ${job.attempts}/${job.max_attempts}: ${msg}`);
    } finally {
      clearInterval(beat);
    }
  }

  async function runOnce(): Promise<boolean> {
    const t = now();
    const reaped = await reapStale(db, t, new Date(t.getTime() - staleMs));
    if (reaped) log(`requeued ${reaped} job(s) whose worker died`);
    await enqueueDueSchedules(db, t);
    const job = await claimJob(db, id, tasks, t);
    if (!job) return false;
    await run(job);
    return true;
  }

  return {
    id,
    start() {
      if (loop) return;
      loop = (async () => {
        while (!abort.signal.aborted) {
          let ran = false;
          try {
            ran = await runOnce();
          } catch (e) {
            log(`worker pass failed: ${(e as Error).message}`);
          }
          if (!ran && !abort.signal.aborted) {
            await new Promise<void>((r) => {
              const t = setTimeout(r, pollMs);
              wake = () => {
                clearTimeout(t);
                r();
              };
            });
            wake = null;
          }
        }
      })();
    },
    async stop() {
      abort.abort();
      wake?.();
      await loop;
      loop = null;
    },
    runOnce,
  };
}

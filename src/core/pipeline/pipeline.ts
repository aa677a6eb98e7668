// The daily pipeline: a chain of named steps, each testable alone. A run is a
// row in pipeline_runs whose `steps` array shows each step's status, progress,
// duration and error as it goes, so the CLI and UI can follow it.
//
// A step names the steps whose results it reads (`after`); on a PostgreSQL server
// two steps that do not depend on each other run at once, each on its own
// connection, so the second core works too (most of a step is one backend's
// CPU). PGlite has one connection: there the steps run one after another.
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Store } from '../../db/store.ts';
import { workspaceExists } from '../../db/workspaces.ts';

export interface StepContext {
  store: Store;
  db: Kysely<Database>;
  workspaceId: number;
  /** The reference time of the run: "today" for every step. */
  now: Date;
  /** Start of the last successful run, or null: steps may recompute only what changed since. */
  since: Date | null;
  /** That run's reference time (its `now`), or null. */
  previousAsOf: Date | null;
  mode: 'full' | 'incremental';
  /** The pipeline run (pipeline_runs.id): lets a step reuse what an earlier step of the same run computed. */
  runId?: number;
  progress(done: number, total: number, note?: string): Promise<void>;
  log(msg: string): void;
}

export interface Step {
  name: string;
  /** One line for people, English and Chinese. */
  title: { en: string; zh: string };
  /**
   * The steps (by name) whose results this one reads: it starts once they are done.
   * Omitted, it waits for every step listed before it. Only earlier steps may be named.
   */
  after?: readonly string[];
  run(ctx: StepContext): Promise<Record<string, unknown> | undefined>;
}

export type StepStatus = 'pending' | 'running' | 'done' | 'failed' | 'skipped';

export interface StepState {
  name: string;
  title: { en: string; zh: string };
  status: StepStatus;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  progress?: { done: number; total: number; note?: string };
  result?: Record<string, unknown>;
  error?: string;
}

export interface RunOptions {
  workspaceId: number;
  now: Date;
  steps: Step[];
  mode?: 'full' | 'incremental';
  /** Run only these steps (by name), in pipeline order. */
  only?: string[];
  kind?: string;
  log?: (msg: string) => void;
  /** Called after each state change (for a progress display). */
  onUpdate?: (steps: StepState[]) => void;
  /**
   * How many independent steps may run at once: default 2 on a PostgreSQL server
   * (these machines have two cores), 1 on PGlite (one connection).
   */
  concurrency?: number;
}

export interface RunResult {
  runId: number;
  status: 'done' | 'failed';
  steps: StepState[];
  error?: string;
}

export async function lastSuccessfulRun(
  db: Kysely<Database>,
  workspaceId: number,
  kind = 'daily',
): Promise<{ startedAt: Date; asOf: Date | null } | null> {
  const r = await db
    .selectFrom('pipeline_runs')
    .select(['started_at', 'as_of'])
    .where('workspace_id', '=', workspaceId)
    .where('kind', '=', kind)
    .where('status', '=', 'done')
    .orderBy('started_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return r ? { startedAt: r.started_at, asOf: r.as_of } : null;
}

export async function runPipeline(store: Store, opts: RunOptions): Promise<RunResult> {
  const { db } = store;
  const kind = opts.kind ?? 'daily';
  const log = opts.log ?? (() => {});
  const unknown = (opts.only ?? []).filter((n) => !opts.steps.some((s) => s.name === n));
  if (unknown.length) {
    throw new Error(`unknown pipeline step ${unknown.join(', ')}; the steps are: ${opts.steps.map((s) => s.name).join(', ')}`);
  }
  const chosen = opts.only?.length ? opts.steps.filter((s) => opts.only!.includes(s.name)) : opts.steps;
  // The per-customer tables the steps write have no foreign key to workspaces (migration 0030): a run is for an existing one.
  if (!(await workspaceExists(db, opts.workspaceId))) throw new Error(`workspace ${opts.workspaceId} does not exist: a pipeline runs for an existing workspace`);
  const waitsFor = dependencies(opts.steps, chosen);
  const limit = Math.max(1, Math.floor(opts.concurrency ?? (store.kind === 'postgres' ? 2 : 1)));
  const states: StepState[] = chosen.map((s) => ({ name: s.name, title: s.title, status: 'pending' }));
  const last = opts.mode === 'incremental' ? await lastSuccessfulRun(db, opts.workspaceId, kind) : null;
  // Incremental needs a previous run that covered every step, at an earlier reference time.
  const incremental = Boolean(last?.asOf && last.asOf <= opts.now && !opts.only?.length);
  const since = incremental ? last!.startedAt : null;
  const previousAsOf = incremental ? last!.asOf : null;
  const mode = incremental ? 'incremental' : 'full';

  const row = await db
    .insertInto('pipeline_runs')
    .values({
      workspace_id: opts.workspaceId,
      // A partial run (only some steps) is not a baseline for the next incremental run.
      kind: opts.only?.length ? `${kind}:partial` : kind,
      status: 'running',
      steps: JSON.stringify(states),
      error: null,
      finished_at: null,
      as_of: opts.now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const runId = row.id;
  // Steps running at once save the whole array: one write at a time, in order, so an
  // older picture never lands after a newer one.
  let saving: Promise<void> = Promise.resolve();
  const save = (extra: { status?: 'done' | 'failed'; error?: string } = {}): Promise<void> => {
    opts.onUpdate?.(states);
    const json = JSON.stringify(states);
    const write = saving.then(async () => {
      await db
        .updateTable('pipeline_runs')
        .set({
          steps: json,
          ...(extra.status ? { status: extra.status, finished_at: new Date(), error: extra.error ?? null } : {}),
        })
        .where('id', '=', runId)
        .execute();
    });
    saving = write.catch(() => {});
    return write;
  };

  const runStep = async (i: number): Promise<void> => {
    const step = chosen[i]!;
    const st = states[i]!;
    const t0 = performance.now();
    st.status = 'running';
    st.startedAt = new Date().toISOString();
    try {
      await save();
      const result = await step.run({
        store,
        db,
        workspaceId: opts.workspaceId,
        now: opts.now,
        since,
        previousAsOf,
        mode,
        runId,
        log,
        progress: async (done, total, note) => {
          st.progress = { done, total, ...(note ? { note } : {}) };
          await save();
        },
      });
      st.status = 'done';
      if (result) st.result = result;
    } catch (e) {
      st.status = 'failed';
      st.error = (e as Error)?.message ?? String(e);
    }
    st.finishedAt = new Date().toISOString();
    st.durationMs = Math.round(performance.now() - t0);
    log(`${step.name}: ${st.status} in ${st.durationMs} ms${st.error ? ` — ${st.error}` : ''}`);
  };

  // Start, in pipeline order, every step whose dependencies are done while a slot is
  // free. After a failure nothing new starts; the steps already running finish.
  const running = new Map<number, Promise<void>>();
  const failed = () => states.findIndex((s) => s.status === 'failed');
  for (;;) {
    if (failed() < 0) {
      for (let i = 0; i < chosen.length && running.size < limit; i++) {
        if (states[i]!.status !== 'pending') continue; // runStep marks it running at once
        if (![...waitsFor[i]!].every((k) => states[k]!.status === 'done')) continue;
        running.set(i, runStep(i).finally(() => running.delete(i)));
      }
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
  }
  const f = failed();
  if (f >= 0) {
    for (const rest of states) if (rest.status === 'pending') rest.status = 'skipped';
    const error = `step ${states[f]!.name} failed: ${states[f]!.error}`;
    await save({ status: 'failed', error });
    return { runId, status: 'failed', steps: states, error };
  }
  await save({ status: 'done' });
  return { runId, status: 'done', steps: states };
}

/**
 * For each chosen step, the indexes (into `chosen`) of the chosen steps it waits for:
 * those it names in `after`, or every chosen step before it. A step not chosen is
 * not waited for (a partial run asked for the steps it runs).
 */
function dependencies(all: readonly Step[], chosen: readonly Step[]): Set<number>[] {
  return chosen.map((s, i) => {
    if (!s.after) return new Set(chosen.slice(0, i).map((_, k) => k));
    // A name absent from the steps given is not waited for (a caller running only some
    // steps left it out); one listed after this step would be a cycle.
    const at = all.indexOf(s);
    for (const n of s.after) {
      if (all.findIndex((x) => x.name === n) >= at) throw new Error(`pipeline step ${s.name} waits for ${n}, which comes after it`);
    }
    return new Set(chosen.flatMap((c, k) => (s.after!.includes(c.name) ? [k] : [])));
  });
}

/** The steps running now, for a one-line progress display ("a + b": two can run at once on a server). */
export function runningSteps(steps: readonly StepState[]): string {
  return steps.filter((s) => s.status === 'running').map((s) => s.name).join(' + ');
}

export function listRuns(db: Kysely<Database>, workspaceId: number, limit = 20) {
  return db
    .selectFrom('pipeline_runs')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .orderBy('started_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}

/** A run left 'running' by a process that died is marked failed (embedded mode: at start). */
export async function failOrphanedRuns(db: Kysely<Database>, workspaceId: number): Promise<number> {
  const r = await sql`
    update pipeline_runs set status = 'failed', finished_at = now(),
      error = 'the process running this pipeline stopped before it finished'
    where workspace_id = ${workspaceId} and status = 'running'`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

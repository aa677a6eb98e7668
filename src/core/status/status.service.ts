// Entity counts, the last pipeline run and import, whether the customer figures are
// being computed again after a crash, and server settings too small for the data: what
// `liuke status` and /api/status show.
import { type Kysely, sql } from 'kysely';
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
  /** PostgreSQL settings below what the data needs (none on the embedded store, docs/architecture.md, "Server settings"). */
  serverAdvice: ServerAdvice[];
}

export interface ServerAdvice {
  setting: 'shared_buffers' | 'max_wal_size';
  /** The server's value as it shows it (e.g. "128MB"). */
  value: string;
  /** The least this advice asks for, in the server's notation (e.g. "1GB"). */
  minimum: string;
  /** What to change and why, in English (the CLI prints it; the web app says it in the user's language from the fields). */
  advice: string;
}

/**
 * From this many customers in a workspace status gives the advice: the packaged settings'
 * cost was measured at 1M (bench/RESULTS.md, nineteenth session); a tenth of that is a
 * threshold chosen, not measured: below it customer_metrics is a few tens of MB.
 */
export const ADVISE_FROM_CUSTOMERS = 100_000;
/** Below these the settings are the packaged defaults' sizes (128 MB, 1 GB), not ones set for the machine. */
export const ADVISED_MINIMUM = { shared_buffers: 1024 ** 3, max_wal_size: 2 * 1024 ** 3 } as const;

/**
 * What to change on a PostgreSQL server for a workspace of `customers`. At 1M customers
 * on 2 cores a day's run took 5.0–6.5 s with the packaged shared_buffers 128 MB and
 * 4.4–5.0 s with 2 or 6 GB: the run rewrites customer_metrics, whose pages then leave a
 * small pool one by one, each written out by the backend that needs the room. With
 * max_wal_size 1 GB a checkpoint could begin in the middle of a run (a full pass writes
 * about 560 MB of WAL; such days took 5.4–5.5 s); with 6 GB and 4 GB, 4.3–4.7 s on six days of seven.
 */
export async function serverAdvice(db: Kysely<Database>, customers: number): Promise<ServerAdvice[]> {
  if (customers < ADVISE_FROM_CUSTOMERS) return [];
  const r = await sql<{ name: keyof typeof ADVISED_MINIMUM; bytes: string; value: string }>`
    select name, pg_size_bytes(current_setting(name)) as bytes, current_setting(name) as value
    from pg_settings where name in ('shared_buffers', 'max_wal_size') order by name desc`.execute(db);
  const n = customers.toLocaleString('en');
  const why = {
    shared_buffers: `with ${n} customers, give shared_buffers about a quarter of the machine's memory (at least 1GB) and restart PostgreSQL: the daily analytics run at 1M customers took about 15 % less time with it`,
    max_wal_size: `with ${n} customers, set max_wal_size to a few GB (4GB) and reload PostgreSQL: with less, a checkpoint can begin in the middle of the daily run and slow it`,
  };
  return r.rows
    .filter((x) => Number(x.bytes) < ADVISED_MINIMUM[x.name])
    .map((x) => ({ setting: x.name, value: x.value, minimum: `${ADVISED_MINIMUM[x.name] / 1024 ** 3}GB`, advice: `${why[x.name]} (docs/architecture.md, "Server settings")` }));
}

/** `server`: the store is a PostgreSQL server (its settings are then checked; PGlite's are its own). */
export async function getStatus(db: Kysely<Database>, workspaceId: number, opts: { server?: boolean } = {}): Promise<Status> {
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
    serverAdvice: opts.server ? await serverAdvice(db, counts.customers) : [],
  };
}

// Loads a generated demo business into the store in bounded batches, through
// the same COPY path imports use (Session.copyCsv), in one transaction: a
// failed load leaves the store as it was.
import { Worker } from 'node:worker_threads';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Session, Store } from '../../db/store.ts';
import { conflict } from '../../server/errors.ts';
import { recordAudit } from '../audit/audit.service.ts';
import { BATCH_TABLES, type Batch, catalogueCsv, DEMO_COLUMNS, type DemoParams, generateBatch } from './generator.ts';
import type { BatchRequest } from './generator.worker.ts';

/** Business tables a reset empties (children first). */
export const BUSINESS_TABLES = [
  'order_lines',
  'orders',
  'events',
  'tickets',
  'survey_responses',
  'referrals',
  'coupons',
  'demo_truth',
  'customers',
  'products',
] as const;

export interface LoadOptions {
  /** delete the workspace's business data first; without it a store with customers is refused */
  reset?: boolean;
  /** customers per batch (default 5,000) */
  batchSize?: number;
  /** generate in a worker thread while loading (default: from 20,000 customers on) */
  worker?: boolean;
  onProgress?: (customersDone: number, total: number) => void;
  /** each key, index and foreign key put back by the fast path, with the seconds it took (for the bench) */
  onStep?: (step: string, seconds: number) => void;
  actor?: string;
  /**
   * PostgreSQL fast path: connections building the plain (non-unique) indexes
   * after the commit, side by side (default 2; 0 builds them inside the load's
   * transaction, one after another, as PGlite always does).
   */
  indexConnections?: number;
  /** PostgreSQL maintenance_work_mem for the index and key builds (default MAINTENANCE_WORK_MEM) */
  indexMemory?: string;
}

export interface LoadResult {
  customers: number;
  rows: Record<string, number>;
  seconds: number;
  /**
   * Wall seconds per phase: `first batch` (until the first customers were
   * generated), `copy` (all COPYs), `keys` (keys, unique indexes and foreign
   * keys put back in the transaction), `indexes` (plain indexes after the commit).
   */
  phases: Record<string, number>;
}

type Step = LoadOptions['onStep'];

async function timed<T>(onStep: Step, step: string, fn: () => Promise<T>): Promise<T> {
  if (!onStep) return fn();
  const t = performance.now();
  const r = await fn();
  onStep(step, (performance.now() - t) / 1000);
  return r;
}

/** Worker threads generating ahead (two cores: one generating while the other loads, or both generating). */
const WORKERS = 2;
/** Batches requested ahead of the one being loaded. */
const AHEAD = 4;
/** Customers in the first batch; each next batch doubles up to the batch size, so the first COPY starts early. */
const FIRST_BATCH = 500;

type AnyBatch = Batch<string> | Batch<Uint8Array>;

/** [from, to) per batch: FIRST_BATCH customers, then twice as many each time up to `size`. */
export function batchRanges(customers: number, size: number): [number, number][] {
  const ranges: [number, number][] = [];
  for (let from = 0, n = Math.min(size, FIRST_BATCH); from < customers; from += n, n = Math.min(size, n * 2)) {
    ranges.push([from, Math.min(customers, from + n)]);
  }
  return ranges;
}

interface Batches extends AsyncIterable<AnyBatch> {
  /** stops the workers (also done when the iteration ends) */
  close(): Promise<void>;
}

/**
 * Batches in order, generated here or in worker threads that take turns (batch k
 * goes to worker k mod WORKERS) and stay up to AHEAD batches ahead. The workers
 * start at once, so the first batches are ready by the time the store is.
 */
function startBatches(params: DemoParams, size: number, useWorker: boolean): Batches {
  const ranges = batchRanges(params.customers, size);
  if (!useWorker) {
    return {
      async *[Symbol.asyncIterator]() {
        for (const [from, to] of ranges) yield generateBatch(params, from, to);
      },
      close: async () => {},
    };
  }
  const workers = Array.from({ length: Math.min(WORKERS, ranges.length) }, () => {
    const worker = new Worker(new URL('./generator.worker.ts', import.meta.url));
    // each worker answers its requests in order
    const waiting: { resolve: (b: AnyBatch) => void; reject: (e: unknown) => void }[] = [];
    worker.on('message', (b: AnyBatch) => waiting.shift()?.resolve(b));
    worker.on('error', (e) => {
      for (const w of waiting.splice(0)) w.reject(e);
    });
    return { worker, waiting };
  });
  const results: (Promise<AnyBatch> | undefined)[] = [];
  const request = (k: number) => {
    const [from, to] = ranges[k]!;
    const w = workers[k % workers.length]!;
    const p = new Promise<AnyBatch>((resolve, reject) => w.waiting.push({ resolve, reject }));
    p.catch(() => {}); // surfaced when awaited
    results[k] = p;
    w.worker.postMessage({ params, from, to } satisfies BatchRequest);
  };
  for (let k = 0; k < Math.min(AHEAD, ranges.length); k++) request(k);
  let closed: Promise<unknown> | null = null;
  const close = async () => {
    closed ??= Promise.all(workers.map((w) => w.worker.terminate()));
    await closed;
  };
  return {
    close,
    async *[Symbol.asyncIterator]() {
      try {
        for (let k = 0; k < ranges.length; k++) {
          const b = await results[k]!;
          results[k] = undefined;
          if (k + AHEAD < ranges.length) request(k + AHEAD);
          yield b;
        }
      } finally {
        await close();
      }
    },
  };
}

/** What the fast path drops before the COPYs and puts back after them, as read from the catalogue. */
interface Dropped {
  /** CREATE INDEX statements of the indexes that belong to no constraint */
  indexes: { name: string; def: string }[];
  /** primary key, unique and foreign key constraints, keys first */
  constraints: { table: string; name: string; def: string }[];
}

const q = (s: string) => `"${s.replace(/"/g, '""')}"`;

/**
 * True when the fast path may be used: no business data outside this workspace
 * and, without a reset, none inside it either — a first load, or a reset of the
 * only workspace with data.
 */
async function emptyButThisWorkspace(db: Kysely<Database>, ws: number, reset: boolean): Promise<boolean> {
  for (const t of BUSINESS_TABLES) {
    const other = await sql<{ x: number }>`select 1 as x from ${sql.table(t)} where ${reset ? sql`workspace_id <> ${ws}` : sql`true`} limit 1`.execute(db);
    if (other.rows.length > 0) return false;
  }
  return true;
}

/**
 * Fast path: takes the business tables for this transaction (giving up after a
 * few seconds if another session holds them, in which case nothing has changed
 * and the ordinary path is used), truncates them, and drops their secondary
 * indexes, keys and foreign keys, to be rebuilt in one sort each after the COPYs.
 * Returns null when the tables could not be taken.
 */
async function prepareFastLoad(s: Session): Promise<Dropped | null> {
  const tables = sql.join(BUSINESS_TABLES.map((t) => sql.table(t)));
  await sql`savepoint liuke_demo_fast`.execute(s.db);
  try {
    await sql`set local lock_timeout = '5s'`.execute(s.db);
    await sql`lock table ${tables} in access exclusive mode`.execute(s.db);
    await sql`set local lock_timeout = 0`.execute(s.db);
  } catch {
    await sql`rollback to savepoint liuke_demo_fast`.execute(s.db);
    return null;
  }
  await sql`release savepoint liuke_demo_fast`.execute(s.db);
  await sql`truncate ${tables}`.execute(s.db);
  const names = [...BUSINESS_TABLES];
  const idx = await sql<{ name: string; def: string }>`
    select i.indexname as name, i.indexdef as def from pg_indexes i
    where i.schemaname = current_schema() and i.tablename in (${sql.join(names)})
      and not exists (select 1 from pg_constraint k
                      where k.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass
                        and k.contype in ('p', 'u', 'x'))
    order by i.tablename, i.indexname`.execute(s.db);
  const con = await sql<{ table: string; name: string; def: string }>`
    select c.relname as "table", k.conname as name, pg_get_constraintdef(k.oid) as def
    from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = current_schema() and c.relname in (${sql.join(names)}) and k.contype in ('p', 'u', 'f')
    order by k.contype <> 'f' desc, c.relname, k.conname`.execute(s.db);
  const dropped: Dropped = { indexes: idx.rows, constraints: con.rows };
  for (const k of [...dropped.constraints].reverse()) await sql.raw(`alter table ${q(k.table)} drop constraint ${q(k.name)}`).execute(s.db);
  for (const i of dropped.indexes) await sql.raw(`drop index ${q(i.name)}`).execute(s.db);
  return dropped;
}

/** Index builds sort in memory instead of on disk (PGlite keeps its default: its heap is small). */
const MAINTENANCE_WORK_MEM = '512MB';

/**
 * Puts back what prepareFastLoad dropped, exactly as it was defined, except the
 * `deferred` indexes, which loadDemo builds after the commit.
 */
async function finishFastLoad(s: Session, dropped: Dropped, deferred: ReadonlySet<string>, memory: string, onStep?: Step): Promise<void> {
  if (s.kind === 'postgres') await sql`set local maintenance_work_mem = ${sql.lit(memory)}`.execute(s.db);
  const add = (k: { table: string; name: string; def: string }) =>
    timed(onStep, k.name, () => sql.raw(`alter table ${q(k.table)} add constraint ${q(k.name)} ${k.def}`).execute(s.db));
  for (const k of dropped.constraints) if (!k.def.startsWith('FOREIGN KEY')) await add(k);
  for (const i of dropped.indexes) if (!deferred.has(i.name)) await timed(onStep, i.name, () => sql.raw(i.def).execute(s.db));
  // foreign keys last: one anti-join each instead of a trigger per row
  for (const k of dropped.constraints) if (k.def.startsWith('FOREIGN KEY')) await add(k);
}

/**
 * Plain indexes may wait until after the commit: they make queries fast but
 * guard nothing. Unique indexes, keys and foreign keys never wait.
 */
const deferrable = (i: { def: string }) => /^CREATE INDEX /.test(i.def);

/** Key columns of `CREATE INDEX … USING btree (a, lower(b), c) …` (3), INCLUDE columns not counted. */
export function keyColumns(def: string): number {
  const start = def.indexOf('(', def.indexOf(' USING '));
  let depth = 0;
  let n = 1;
  for (let i = start; i >= 0 && i < def.length; i++) {
    const c = def[i];
    if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return n;
    else if (c === ',' && depth === 1) n++;
  }
  return n;
}

/** `CREATE INDEX name …` as `CREATE INDEX IF NOT EXISTS name …`: building one twice is harmless. */
const ifNotExists = (def: string) => def.replace(/^CREATE INDEX /, 'CREATE INDEX IF NOT EXISTS ');

/**
 * Builds indexes on `connections` connections at once, biggest tables first,
 * each build in its own transaction. On PostgreSQL each build also uses the
 * server's parallel maintenance workers; side by side, one build's serial part
 * (merging the sorted runs and writing the tree) overlaps another's scan. A
 * build that fails is tried once more on its own; what still fails is thrown.
 */
async function buildIndexes(
  store: Store,
  defs: { name: string; def: string }[],
  connections: number,
  memory = MAINTENANCE_WORK_MEM,
  onStep?: Step,
): Promise<void> {
  if (defs.length === 0) return;
  const table = (def: string) => /\bON (\S+) /.exec(def)?.[1] ?? '';
  const sizes = new Map<string, number>();
  for (const t of new Set(defs.map((d) => table(d.def)))) {
    const r = await sql<{ n: number }>`select pg_relation_size(${t}::regclass)::int8 as n`.execute(store.db);
    sizes.set(t, Number(r.rows[0]!.n));
  }
  // longest first, so that no long build starts last while the other connections idle: a
  // table's full indexes with more key columns sort longer (every key ties on workspace_id)
  const cost = (def: string) => sizes.get(table(def))! * (/ WHERE /.test(def) ? 0.5 : 1) * (1 + keyColumns(def) / 10);
  const queue = [...defs].sort((a, b) => cost(b.def) - cost(a.def));
  const failed: typeof defs = [];
  const build = (s: Session, d: { name: string; def: string }) => timed(onStep, d.name, () => sql.raw(ifNotExists(d.def)).execute(s.db));
  const withMemory = (fn: (s: Session) => Promise<void>) =>
    store.session(async (s) => {
      await sql`set maintenance_work_mem = ${sql.lit(memory)}`.execute(s.db);
      try {
        await fn(s);
      } finally {
        await sql`reset maintenance_work_mem`.execute(s.db);
      }
    });
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(connections, queue.length)) }, () =>
      withMemory(async (s) => {
        for (let d = queue.shift(); d; d = queue.shift()) await build(s, d).catch(() => failed.push(d!));
      }),
    ),
  );
  if (failed.length === 0) return;
  const still: string[] = [];
  await withMemory(async (s) => {
    for (const d of failed) {
      await build(s, d).catch((e: unknown) => still.push(`${d.def} (${e instanceof Error ? e.message : String(e)})`));
    }
  });
  if (still.length) {
    throw new Error(`the demo is loaded but ${still.length} index(es) could not be built; the next start tries again: ${still.join('; ')}`);
  }
}

/**
 * Builds the indexes a demo load deferred past its commit and did not finish
 * (the process stopped during the build). They are read from the load's audit
 * entry; idempotent and cheap when nothing is missing. Called before every
 * load and at every start.
 */
export async function restoreDeferredIndexes(store: Store, workspaceId: number): Promise<number> {
  if (store.kind !== 'postgres') return 0;
  const last = await sql<{ defs: { name: string; def: string }[] | null }>`
    select after -> 'deferred_indexes' as defs from audit_log
    where workspace_id = ${workspaceId} and entity = 'workspace' and entity_id = ${String(workspaceId)}
      and action in ('load_demo', 'reset_and_load_demo')
    order by at desc, id desc limit 1`.execute(store.db);
  const defs = last.rows[0]?.defs ?? [];
  if (defs.length === 0) return 0;
  const present = await sql<{ name: string }>`
    select indexname as name from pg_indexes where schemaname = current_schema() and indexname in (${sql.join(defs.map((d) => d.name))})`.execute(store.db);
  const have = new Set(present.rows.map((r) => r.name));
  const missing = defs.filter((d) => !have.has(d.name));
  await buildIndexes(store, missing, 2);
  return missing.length;
}

export async function loadDemo(store: Store, params: DemoParams, opts: LoadOptions = {}): Promise<LoadResult> {
  const t0 = performance.now();
  const phases: Record<string, number> = {};
  let mark = t0;
  const phase = (name: string) => {
    const now = performance.now();
    phases[name] = (now - mark) / 1000;
    mark = now;
  };
  const ws = params.workspaceId;
  const size = Math.max(1, opts.batchSize ?? 5_000);
  const useWorker = opts.worker ?? params.customers >= 20_000;
  const rows: Record<string, number> = { products: 0 };
  for (const t of BATCH_TABLES) rows[t] = 0;
  const indexConnections = store.kind === 'postgres' ? Math.max(0, opts.indexConnections ?? 2) : 0;
  const memory = opts.indexMemory ?? MAINTENANCE_WORK_MEM;
  if (!/^\d+(kB|MB|GB)$/.test(memory)) throw new Error(`indexMemory must look like 64MB, not "${memory}"`);
  // generation starts now, while the store is prepared
  const source = startBatches(params, size, useWorker);
  let deferred: { name: string; def: string }[] = [];
  try {
    // a load that stopped during its index builds: finish them before reading the catalogue again
    await restoreDeferredIndexes(store, ws);
    await store.session(async (s) => {
    await sql`begin`.execute(s.db);
    // one long transaction: its commit need not wait for the disk (a crash loses the load, never corrupts)
    await sql`set local synchronous_commit = off`.execute(s.db);
    const existing = await s.db.selectFrom('customers').select('id').where('workspace_id', '=', ws).limit(1).executeTakeFirst();
    if (existing && !opts.reset) {
      throw conflict('the store already has customers; pass --reset to delete this workspace\'s business data and load the demo instead');
    }
    const dropped = (await emptyButThisWorkspace(s.db, ws, opts.reset ?? false)) ? await prepareFastLoad(s) : null;
    if (opts.reset && !dropped) {
      for (const t of BUSINESS_TABLES) await s.db.deleteFrom(t).where('workspace_id', '=', ws).execute();
    }
    const copy = { freeze: dropped !== null };
    rows.products = await s.copyCsv('products', DEMO_COLUMNS.products, [catalogueCsv(params)], copy);
    let first = true;
    for await (const b of source) {
      if (first) phase('first batch');
      first = false;
      for (const t of BATCH_TABLES) {
        const chunks = b.chunks[t]!;
        if (chunks.length === 0) continue;
        rows[t]! += await s.copyCsv(t, DEMO_COLUMNS[t], chunks, copy);
        chunks.length = 0; // let the batch go as soon as it is in
      }
      opts.onProgress?.(b.to, params.customers);
    }
    phase('copy');
    if (dropped) {
      deferred = indexConnections > 0 ? dropped.indexes.filter(deferrable) : [];
      await finishFastLoad(s, dropped, new Set(deferred.map((i) => i.name)), memory, opts.onStep);
    }
    await s.db.updateTable('workspaces').set({ industry: params.industry }).where('id', '=', ws).execute();
    await recordAudit(s.db, {
      workspaceId: ws,
      actor: opts.actor ?? 'system',
      action: opts.reset ? 'reset_and_load_demo' : 'load_demo',
      entity: 'workspace',
      entityId: String(ws),
      after: {
        industry: params.industry,
        seed: params.seed,
        customers: params.customers,
        now: params.now.toISOString(),
        rows,
        // what is still to build after the commit (restoreDeferredIndexes finishes it if the process stops)
        ...(deferred.length ? { deferred_indexes: deferred } : {}),
      },
    });
    await sql`commit`.execute(s.db);
    phase('keys');
  });
  } finally {
    await source.close();
  }
  // After the commit the data is visible and every key and foreign key holds; the plain
  // indexes are built side by side on separate connections (docs/demo.md, "Fast path").
  await buildIndexes(store, deferred, indexConnections, memory, opts.onStep);
  phase('indexes');
  return { customers: params.customers, rows, seconds: (performance.now() - t0) / 1000, phases };
}

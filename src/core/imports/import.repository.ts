// SQL for imports: a temporary staging table filled by COPY, then one
// set-based upsert per batch that writes only rows whose values differ and
// reports inserted vs. updated (a plain INSERT when the workspace has no rows
// in the table yet); stub customers for unknown customer ids, once per file;
// the import_runs record. Identifiers come only from the entity specs (a whitelist).
import { type Kysely, sql } from 'kysely';
import { estimatedRows } from '../../db/planner.ts';
import { withLocalSetting } from '../../db/local-setting.ts';
import type { Database } from '../../db/schema.ts';
import { copyFiguresToCustomers, orderFigures, refreshCustomerStats } from '../customers/customers.stats.ts';
import type { EntitySpec } from './entities.ts';
import type { LoadColumn } from './validate.ts';

export const STAGE = 'liuke_import_stage';

const SAFE = /^[a-z_][a-z0-9_]*$/;
function ident(s: string): string {
  if (!SAFE.test(s)) throw new Error(`not a safe SQL identifier: ${s}`);
  return `"${s}"`;
}

const SQL_TYPE: Record<LoadColumn['sqlType'], string> = {
  text: 'text',
  timestamptz: 'timestamptz',
  date: 'date',
  numeric: 'numeric',
  integer: 'integer',
  jsonb: 'jsonb',
};

export async function sqlBegin(db: Kysely<Database>): Promise<void> {
  await sql`begin`.execute(db);
}
export async function sqlCommit(db: Kysely<Database>): Promise<void> {
  await sql`commit`.execute(db);
}
export async function sqlRollback(db: Kysely<Database>): Promise<void> {
  await sql`rollback`.execute(db);
}

export async function workspaceTimeZone(db: Kysely<Database>, workspaceId: number): Promise<string> {
  const row = await db.selectFrom('workspaces').select('time_zone').where('id', '=', workspaceId).executeTakeFirst();
  if (!row) throw new Error(`workspace ${workspaceId} does not exist`);
  return row.time_zone;
}

/** Session time zone for this transaction: timestamps without an offset are read in it. */
export async function setLocalTimeZone(db: Kysely<Database>, tz: string): Promise<void> {
  await sql`select set_config('TimeZone', ${tz}, true)`.execute(db);
}

/** `rn`: the raw CSV path keeps each row's number in the stage (to find duplicates and name the first). */
export async function createStage(db: Kysely<Database>, columns: readonly LoadColumn[], o: { rn?: boolean } = {}): Promise<void> {
  const extra = o.rn ? ['"rn" integer'] : [];
  const cols = [...extra, ...columns.map((c) => `${ident(c.name)} ${SQL_TYPE[c.sqlType]}`)].join(', ');
  await sql.raw(`create temporary table ${STAGE} (${cols}) on commit drop`).execute(db);
}

export async function clearStage(db: Kysely<Database>): Promise<void> {
  await sql.raw(`truncate ${STAGE}`).execute(db);
}

/** Customer ids named by the file so far, one row per batch and id (deduplicated into TOUCHED at the end). */
export const REFS = 'liuke_import_refs';
/** The distinct customer ids the file named: for stubs and the refresh of their order figures. */
export const TOUCHED = 'liuke_import_touched';

export async function createRefs(db: Kysely<Database>): Promise<void> {
  // No key: appending a batch's distinct ids is a heap write; one hash
  // aggregate at the end removes the repeats across batches.
  await sql.raw(`create temporary table ${REFS} (customer_id text) on commit drop`).execute(db);
}

/** Adds the stage's customer ids to the file's set of referenced customers. */
export async function collectRefs(db: Kysely<Database>): Promise<void> {
  await sql.raw(`insert into ${REFS} select distinct customer_id from ${STAGE} where customer_id is not null`).execute(db);
}

/** TOUCHED := the distinct ids of REFS. Returns how many. */
export async function finishRefs(db: Kysely<Database>): Promise<number> {
  await sql.raw(`create temporary table ${TOUCHED} on commit drop as select distinct customer_id from ${REFS}`).execute(db);
  // Temporary tables are never analysed automatically: without this the
  // planner guesses their size and may loop over customers per id.
  await sql.raw(`analyze ${TOUCHED}`).execute(db);
  const r = await sql<{ n: number }>`select count(*)::integer as n from ${sql.raw(TOUCHED)}`.execute(db);
  return Number(r.rows[0]?.n ?? 0);
}

/** The touched customer ids that do not exist yet: the stubs to create. */
export const FRESH = 'liuke_import_fresh';

/** FRESH := the touched customer ids not in customers yet. Returns how many (the stubs to create). */
export async function countNewCustomers(db: Kysely<Database>, workspaceId: number): Promise<number> {
  await sql`create temporary table ${sql.raw(FRESH)} on commit drop as
    select r.customer_id from ${sql.raw(TOUCHED)} r
    where not exists (select 1 from customers c where c.workspace_id = ${workspaceId} and c.id = r.customer_id)`.execute(db);
  await sql.raw(`analyze ${FRESH}`).execute(db);
  const r = await sql<{ n: number }>`select count(*)::integer as n from ${sql.raw(FRESH)}`.execute(db);
  return Number(r.rows[0]?.n ?? 0);
}

/** Order figures of the touched customers, computed once for the stubs and the customer rows. */
export const FIGURES = 'liuke_import_figures';

export async function collectFigures(db: Kysely<Database>, workspaceId: number, touched: number): Promise<void> {
  // A day's file touches a few percent of the customers: their orders through the
  // (workspace, customer, time) index, each customer's range in turn. The planner, which
  // puts far too many orders on each customer (it undercounts distinct customers in a
  // sample of orders), hashed the touched ids against a pass over every order instead:
  // 14k customers at 1M customers and 8.6M orders, 1.7-1.9 s against 0.2-0.6 s. A file
  // touching a large share of the customers keeps the planner's choice.
  const few = touched * 3 <= (await estimatedRows(db, 'customers'));
  if (few) await sql`select set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)`.execute(db);
  await sql`create temporary table ${sql.raw(FIGURES)} on commit drop as
    ${orderFigures(workspaceId, sql`and o.customer_id in (select t.customer_id from ${sql.raw(TOUCHED)} t)`)}`.execute(db);
  if (few) {
    await sql`reset enable_hashjoin`.execute(db);
    await sql`reset enable_mergejoin`.execute(db);
  }
  await sql.raw(`analyze ${FIGURES}`).execute(db);
}

/**
 * After a direct load of orders into a workspace that had none, every order
 * of the workspace is the file's: FIGURES aggregates them all (no list of
 * customers to filter by) and TOUCHED is its customer ids (what finishRefs
 * would have collected). Returns how many.
 */
export async function figuresOfWorkspace(db: Kysely<Database>, workspaceId: number, o: { tallied?: boolean } = {}): Promise<number> {
  // `tallied`: FIGURES was filled from the figures Node tallied during the load (figures.ts).
  if (!o.tallied) await sql`create temporary table ${sql.raw(FIGURES)} on commit drop as ${orderFigures(workspaceId, sql``)}`.execute(db);
  await sql.raw(`analyze ${FIGURES}`).execute(db);
  await sql.raw(`create temporary table ${TOUCHED} on commit drop as select customer_id from ${FIGURES}`).execute(db);
  await sql.raw(`analyze ${TOUCHED}`).execute(db);
  const r = await sql<{ n: number }>`select count(*)::integer as n from ${sql.raw(TOUCHED)}`.execute(db);
  return Number(r.rows[0]?.n ?? 0);
}

/**
 * What refreshCustomerStats does for the touched customers of an orders import
 * (which created none of them without creating its stub first), from FIGURES
 * instead of a second pass over their orders: the figures copied onto existing
 * customers' rows where they differ (the stubs got theirs when they were made).
 */
export async function refreshTouchedStats(db: Kysely<Database>, workspaceId: number): Promise<void> {
  await copyFiguresToCustomers(db, workspaceId, sql.raw(FIGURES), sql`and f.customer_id not in (select n.customer_id from ${sql.raw(FRESH)} n)`);
}

/**
 * Figures for the workspace's customers that have none yet (null until a first
 * refresh: a customers file's new customers), from their orders (zeros for those
 * without any), instead of a refresh of every customer, which at 1M customers
 * aggregates all of their orders for a file that changed none.
 */
export async function refreshStatsOfUnrefreshed(db: Kysely<Database>, workspaceId: number): Promise<void> {
  await sql`create temporary table liuke_import_unrefreshed on commit drop as
    select id as customer_id from customers where workspace_id = ${workspaceId} and stats_orders is null`.execute(db);
  await sql`analyze liuke_import_unrefreshed`.execute(db);
  await refreshCustomerStats(db, workspaceId, { table: 'liuke_import_unrefreshed' });
}

/**
 * Creates a stub customer for each customer id the file named that does not
 * exist yet: once per file, in id order (btree inserts in key order touch far
 * fewer pages than the file's order; with the keys dropped, the rebuilds of
 * the indexes that order stubs by id — the key, name and
 * registration sorts, whose other columns a stub leaves empty — find their
 * input already sorted: at 200k stubs about 0.5 s less backend CPU for a
 * 0.05 s sort). The order figures the customer list
 * sorts on (customers.stats_*) are written with the row from FIGURES (orders
 * imports: withFigures), so the stats refresh that follows does not touch it. With the table's keys dropped
 * (bulk) the table is locked, so FRESH alone keeps ids unique.
 */
export async function createStubCustomers(
  db: Kysely<Database>,
  workspaceId: number,
  now: Date,
  o: { keysDropped: boolean; withFigures: boolean },
): Promise<number> {
  const figures = o.withFigures
    ? sql`f.first_order_at, f.last_order_at, coalesce(f.orders, 0), coalesce(f.spend, 0)`
    : sql`null::timestamptz, null::timestamptz, null::integer, null::numeric`;
  const join = o.withFigures ? sql`left join ${sql.raw(FIGURES)} f on f.customer_id = r.customer_id` : sql``;
  // No anti-join against customers here: FRESH was read before any write, and a customer
  // someone else wrote since is either impossible (bulk: we hold the table's lock) or left
  // alone by ON CONFLICT. An anti-join inside this insert also risked a nested loop that
  // rescans every page the insert adds when the statistics say the table is empty.
  const r = await sql`
    insert into customers (workspace_id, id, is_stub, created_at, updated_at, stats_first_order_at, stats_last_order_at, stats_orders, stats_spend)
    select ${workspaceId}::integer, r.customer_id, true, ${now}::timestamptz, ${now}::timestamptz, ${figures}
    from ${sql.raw(FRESH)} r
    ${join}
    order by r.customer_id
    ${o.keysDropped ? sql`` : sql`on conflict (workspace_id, id) do nothing`}`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

/** Rows in the table (all workspaces), counting no further than `limit`. */
export async function countUpTo(db: Kysely<Database>, table: string, limit: number): Promise<number> {
  const r = await sql<{ n: number }>`select count(*)::integer as n from (select 1 from ${sql.raw(ident(table))} limit ${limit}) x`.execute(db);
  return Number(r.rows[0]?.n ?? 0);
}

/** What dropKeys took off a table, to be put back exactly as it was defined. */
export interface DroppedKeys {
  table: string;
  /** CREATE INDEX statements of the indexes that back no constraint. */
  indexes: { name: string; def: string }[];
  /** Primary key and unique constraints. */
  constraints: { name: string; def: string }[];
}

/**
 * Takes the table for the rest of the transaction (ACCESS EXCLUSIVE: readers
 * and writers wait until the import commits), giving up after a few seconds
 * if another session holds it. Inside a savepoint that the caller releases
 * (keep) or rolls back to (which also lets the lock go). False: not taken,
 * nothing changed.
 */
export async function lockTable(db: Kysely<Database>, table: string): Promise<boolean> {
  await sql`savepoint liuke_import_bulk`.execute(db);
  try {
    await withLocalSetting(db, 'lock_timeout', '5s', () => sql.raw(`lock table ${ident(table)} in access exclusive mode`).execute(db));
    return true;
  } catch {
    await sql`rollback to savepoint liuke_import_bulk`.execute(db);
    await sql`release savepoint liuke_import_bulk`.execute(db);
    return false;
  }
}
export async function releaseLockSavepoint(db: Kysely<Database>): Promise<void> {
  await sql`release savepoint liuke_import_bulk`.execute(db);
}
export async function rollbackLockSavepoint(db: Kysely<Database>): Promise<void> {
  await sql`rollback to savepoint liuke_import_bulk`.execute(db);
  await sql`release savepoint liuke_import_bulk`.execute(db);
}

/**
 * Drops the table's secondary indexes and its primary key and unique
 * constraints (read from the catalogue), so a load large relative to the
 * table writes its heap alone and restoreKeys rebuilds each index in one
 * sort. The table must be locked. Foreign keys stay: dropping one would take
 * the referenced table (workspaces, which every request reads) for the whole
 * import.
 */
export async function dropKeys(db: Kysely<Database>, table: string): Promise<DroppedKeys> {
  const idx = await sql<{ name: string; def: string }>`
    select i.indexname as name, i.indexdef as def from pg_indexes i
    where i.schemaname = current_schema() and i.tablename = ${table}
      and not exists (select 1 from pg_constraint k
                      where k.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass
                        and k.contype in ('p', 'u', 'x'))
    order by i.indexname`.execute(db);
  const con = await sql<{ name: string; def: string }>`
    select k.conname as name, pg_get_constraintdef(k.oid) as def
    from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = current_schema() and c.relname = ${table} and k.contype in ('p', 'u')
    order by k.conname`.execute(db);
  const t = ident(table);
  for (const k of con.rows) await sql.raw(`alter table ${t} drop constraint ${quoted(k.name)}`).execute(db);
  for (const i of idx.rows) await sql.raw(`drop index ${quoted(i.name)}`).execute(db);
  return { table, indexes: idx.rows, constraints: con.rows };
}

/** Puts back what dropKeys took off. A key the load broke (a duplicate) fails here, and with it the import. */
export async function restoreKeys(db: Kysely<Database>, d: DroppedKeys, postgres: boolean): Promise<void> {
  await restoreConstraints(db, d, postgres);
  for (const i of d.indexes) await sql.raw(i.def).execute(db);
}

/**
 * Puts back the primary key and unique constraints alone (restoreKeys then
 * builds only the indexes): the raw CSV path does it right after its insert,
 * so a duplicate key in the file fails there (23505) and is sorted out.
 */
export async function restoreConstraints(db: Kysely<Database>, d: DroppedKeys, postgres: boolean): Promise<void> {
  // Index builds sort in memory instead of on disk (PGlite keeps its default: its heap is small).
  if (postgres) await sql`select set_config('maintenance_work_mem', '256MB', true)`.execute(db);
  const t = ident(d.table);
  for (const k of d.constraints) await sql.raw(`alter table ${t} add constraint ${quoted(k.name)} ${k.def}`).execute(db);
  d.constraints = [];
}

/** More memory for this transaction's sorts and hashes (the stats refresh groups every touched customer). */
export async function setLocalWorkMem(db: Kysely<Database>): Promise<void> {
  await sql`select set_config('work_mem', '64MB', true)`.execute(db);
}

/** A catalogue name (index, constraint) as an identifier. */
function quoted(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}

/** Whether the workspace has any row in the table (an empty one takes the plain-insert path). */
export async function hasRows(db: Kysely<Database>, spec: EntitySpec, workspaceId: number): Promise<boolean> {
  const r = await sql<{ e: boolean }>`select exists (select 1 from ${sql.raw(ident(spec.table))} where workspace_id = ${workspaceId}) as e`.execute(db);
  return Boolean(r.rows[0]?.e);
}

type SavepointName = 'liuke_import_fast' | 'liuke_import_raw' | 'liuke_import_load' | 'liuke_import_direct';
export async function savepoint(db: Kysely<Database>, name: SavepointName = 'liuke_import_fast'): Promise<void> {
  await sql.raw(`savepoint ${name}`).execute(db);
}
export async function releaseSavepoint(db: Kysely<Database>, name: SavepointName = 'liuke_import_fast'): Promise<void> {
  await sql.raw(`release savepoint ${name}`).execute(db);
}
export async function rollbackToSavepoint(db: Kysely<Database>, name: SavepointName = 'liuke_import_fast'): Promise<void> {
  await sql.raw(`rollback to savepoint ${name}`).execute(db);
}

/**
 * Upserts the stage into the entity's table. A row whose values equal the
 * stored ones is not written (so a re-import changes nothing). Returns how
 * many rows were inserted and updated; the rest of the stage was unchanged.
 */
export async function upsertStage(
  db: Kysely<Database>,
  spec: EntitySpec,
  columns: readonly LoadColumn[],
  workspaceId: number,
  now: Date,
  mode: 'upsert' | 'insert' = 'upsert',
): Promise<{ inserted: number; updated: number }> {
  const t = ident(spec.table);
  const names = columns.map((c) => c.name);
  const keys = spec.key.map(ident);
  const nowP = sql`${now}::timestamptz`;
  const insertCols: string[] = names.map(ident);
  const selectCols = names.map((n) => sql.raw(ident(n)));
  const set = [] as ReturnType<typeof sql.raw>[];
  const before: string[] = [];
  const after: string[] = [];
  for (const name of names) {
    if (spec.key.includes(name)) continue;
    const c = ident(name);
    if (name === 'attributes') {
      // Custom attributes merge: keys not in this file stay as they were.
      set.push(sql.raw(`${c} = ${t}.${c} || excluded.${c}`));
      before.push(`${t}.${c}`);
      after.push(`${t}.${c} || excluded.${c}`);
    } else {
      set.push(sql.raw(`${c} = excluded.${c}`));
      before.push(`${t}.${c}`);
      after.push(`excluded.${c}`);
    }
  }
  if (spec.entity === 'customers') {
    // An imported customer is a real one, even if an order made a stub of it first.
    insertCols.push('"is_stub"');
    selectCols.push(sql.raw('false'));
    set.push(sql.raw('"is_stub" = false'));
    before.push(`${t}."is_stub"`);
    after.push('false');
  }
  if (spec.updatedAt) {
    insertCols.push('"updated_at"');
    selectCols.push(nowP);
    if (set.length > 0) set.push(sql`"updated_at" = ${now}::timestamptz`);
  }
  if (spec.entity === 'events') {
    insertCols.push('"received_at"');
    selectCols.push(nowP);
  }
  if (mode === 'insert') {
    // The workspace had no rows in this table and keys are unique within a file:
    // a plain INSERT writes the same rows without the speculative-insert work.
    // A key that exists after all (a concurrent writer) fails it; the caller
    // rolls back to a savepoint and upserts instead.
    const r = await sql`
      insert into ${sql.raw(t)} ("workspace_id", ${sql.raw(insertCols.join(', '))})
      select ${workspaceId}::integer, ${sql.join(selectCols)} from ${sql.raw(STAGE)}`.execute(db);
    return { inserted: Number(r.numAffectedRows ?? 0), updated: 0 };
  }
  // Rows equal to the stored ones are left out before the upsert: they would not be written,
  // but the upsert would still probe and lock each one (a re-import of an unchanged file is
  // all such rows). Not for customers (attributes merge; is_stub) — their upsert compares.
  const cols = names.filter((n) => !spec.key.includes(n)).map(ident);
  const unchanged =
    spec.entity === 'customers' || names.includes('attributes')
      ? sql``
      : sql`where not exists (select 1 from ${sql.raw(t)} t where t."workspace_id" = ${workspaceId}
          ${sql.raw(keys.map((k) => ` and t.${k} = s.${k}`).join(''))}
          ${cols.length > 0 ? sql.raw(`and (${cols.map((c) => `t.${c}`).join(', ')}) is not distinct from (${cols.map((c) => `s.${c}`).join(', ')})`) : sql``})`;
  const conflict =
    set.length === 0
      ? sql`do nothing`
      : sql`do update set ${sql.join(set)} where (${sql.raw(before.join(', '))}) is distinct from (${sql.raw(after.join(', '))})`;
  const r = await sql<{ inserted: number; updated: number }>`
    with up as (
      insert into ${sql.raw(t)} ("workspace_id", ${sql.raw(insertCols.join(', '))})
      select ${workspaceId}::integer, ${sql.join(selectCols)} from ${sql.raw(STAGE)} s ${unchanged}
      on conflict ("workspace_id", ${sql.raw(keys.join(', '))}) ${conflict}
      returning (xmax = 0) as ins)
    select count(*) filter (where ins) as inserted, count(*) filter (where not ins) as updated from up`.execute(db);
  const row = r.rows[0];
  return { inserted: Number(row?.inserted ?? 0), updated: Number(row?.updated ?? 0) };
}

export async function insertRun(db: Kysely<Database>, workspaceId: number, entity: string, fileName: string, now: Date): Promise<number> {
  const r = await db
    .insertInto('import_runs')
    .values({ workspace_id: workspaceId, entity, file_name: fileName, started_at: now, report: '{}' })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(r.id);
}

export async function finishRun(
  db: Kysely<Database>,
  workspaceId: number,
  id: number,
  r: {
    status: 'done' | 'failed' | 'dry_run';
    finishedAt: Date;
    rowsTotal: number;
    inserted: number;
    updated: number;
    unchanged: number;
    rejected: number;
    report: unknown;
  },
): Promise<void> {
  await db
    .updateTable('import_runs')
    .set({
      status: r.status,
      finished_at: r.finishedAt,
      rows_total: r.rowsTotal,
      inserted: r.inserted,
      updated: r.updated,
      unchanged: r.unchanged,
      rejected: r.rejected,
      report: JSON.stringify(r.report),
    })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .execute();
}

export async function getRun(db: Kysely<Database>, workspaceId: number, id: number) {
  return db.selectFrom('import_runs').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
}

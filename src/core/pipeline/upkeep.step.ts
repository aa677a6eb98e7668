// The pipeline's last step: the upkeep PostgreSQL's autovacuum does, where it
// does not run. Every daily run rewrites a tenth of customer_metrics and the
// per-customer state tables, and imports append to orders and events. Vacuum
// makes the dead row versions' space reusable (in tables and their indexes)
// and keeps the visibility map, on which index-only scans rely; analyze keeps
// the statistics the planner needs. The embedded store (PGlite) runs
// PostgreSQL as a single process, which has no autovacuum (its `autovacuum`
// setting still says on), and a server may have it turned off: there this step
// does the same work, by autovacuum's own thresholds, once per run. Where
// autovacuum runs, the step does nothing.
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { StoreKind } from '../../db/store.ts';
import type { Step } from './pipeline.ts';

/** Whether an autovacuum launcher is running on the server (PGlite: never; a server: unless turned off). */
export async function autovacuumRuns(db: Kysely<Database>): Promise<boolean> {
  const r = await sql<{ on: boolean }>`
    select current_setting('autovacuum') = 'on' and current_setting('track_counts') = 'on'
       and exists (select 1 from pg_stat_activity where backend_type = 'autovacuum launcher') as on`.execute(db);
  return r.rows[0]!.on;
}

export interface UpkeepResult {
  /** Why nothing was done (autovacuum does it), if so. */
  skipped?: string;
  vacuumed: string[];
  analyzed: string[];
}

/**
 * Vacuums (with analyze) the tables autovacuum would vacuum now — dead rows past
 * 50 + 20 % of the table, or rows inserted since the last vacuum past 1,000 + 20 %
 * — and analyzes those it would analyze (rows changed since the last analyze past
 * 50 + 10 %). The same thresholds as autovacuum's defaults, read from the settings.
 */
export async function upkeep(db: Kysely<Database>, kind: StoreKind): Promise<UpkeepResult> {
  if (await autovacuumRuns(db)) return { skipped: 'autovacuum runs on this server', vacuumed: [], analyzed: [] };
  // PGlite, a single process, keeps its table counters in the session until told to
  // flush them (the next statement's end does); a server's sessions flush their own.
  if (kind === 'pglite') await sql`select pg_stat_force_next_flush()`.execute(db);
  const setting = (name: string) => sql`current_setting(${name})::float8`;
  const r = await sql<{ relname: string; vacuum: boolean; analyze: boolean }>`
    select s.relname,
           s.n_dead_tup > ${setting('autovacuum_vacuum_threshold')} + ${setting('autovacuum_vacuum_scale_factor')} * greatest(c.reltuples, 0)
             or s.n_ins_since_vacuum > ${setting('autovacuum_vacuum_insert_threshold')} + ${setting('autovacuum_vacuum_insert_scale_factor')} * greatest(c.reltuples, 0)
             as vacuum,
           s.n_mod_since_analyze > ${setting('autovacuum_analyze_threshold')} + ${setting('autovacuum_analyze_scale_factor')} * greatest(c.reltuples, 0)
             as analyze
    from pg_stat_user_tables s join pg_class c on c.oid = s.relid
    where s.schemaname = current_schema() and c.relpersistence <> 't'
    order by s.relname`.execute(db);
  const vacuumed = r.rows.filter((t) => t.vacuum).map((t) => t.relname);
  const analyzed = r.rows.filter((t) => !t.vacuum && t.analyze).map((t) => t.relname);
  // One table at a time (VACUUM cannot run in a transaction); SKIP_LOCKED: a table another
  // worker's upkeep (or a schema change) holds is left for the next run instead of waited for.
  for (const t of vacuumed) await sql`vacuum (analyze, skip_locked) ${sql.table(t)}`.execute(db);
  for (const t of analyzed) await sql`analyze (skip_locked) ${sql.table(t)}`.execute(db);
  return { vacuumed, analyzed };
}

export const upkeepStep: Step = {
  name: 'upkeep',
  title: { en: 'Store upkeep (vacuum and analyze where autovacuum does not run)', zh: '存储维护（无自动清理时执行 VACUUM 与 ANALYZE）' },
  async run(ctx) {
    return { ...(await upkeep(ctx.db, ctx.store.kind)) };
  },
};

import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database } from './schema.ts';

/**
 * The planner's count of a table's rows, all workspaces (pg_class.reltuples; 0 before
 * the table's first analyze): what a pass compares its own row count with to choose
 * between key lookups and one pass over the table, without counting the table.
 */
export async function estimatedRows(db: Kysely<Database>, table: 'customers' | 'customer_metrics'): Promise<number> {
  const r = await sql<{ n: number }>`select greatest(reltuples, 0)::float8 as n from pg_class where oid = ${table}::regclass`.execute(db);
  return Number(r.rows[0]?.n ?? 0);
}

/**
 * The planner's estimate of the rows `query` returns (its plan's top node, `explain
 * (format json)`; 0 if the plan has none). PGlite returns the plan as text, a server as
 * parsed JSON.
 */
export async function plannedRows(db: Kysely<Database>, query: RawBuilder<unknown>): Promise<number> {
  const r = await sql<{ 'QUERY PLAN': unknown }>`explain (format json) ${query}`.execute(db);
  const raw = r.rows[0]?.['QUERY PLAN'];
  const doc = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { Plan?: { 'Plan Rows'?: number } }[] | undefined;
  return Number(doc?.[0]?.Plan?.['Plan Rows'] ?? 0);
}

/** Rows in a temporary table of the current pass. */
export async function countRows(db: Kysely<Database>, temp: 'cm_shift' | 'scoring_changed'): Promise<number> {
  const r = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(temp)}`.execute(db);
  return Number(r.rows[0]!.n);
}

/**
 * Quantiles (`fractions`) of `expr` over the workspace's rows of customer_metrics,
 * from a sample of about 1,000 of its blocks (every block of a small table): where
 * to cut the rows into shards of about as many rows. Null when no row was sampled.
 */
export async function sampledQuantiles<T>(db: Kysely<Database>, workspaceId: number, expr: RawBuilder<unknown>, fractions: number[]): Promise<T[] | null> {
  const b = await sql<{ n: number }>`select (pg_relation_size('customer_metrics') / current_setting('block_size')::int)::int as n`.execute(db);
  const percent = Math.min(100, (1_000 * 100) / Math.max(1, Number(b.rows[0]!.n)));
  const r = await sql<{ q: T[] | null }>`
    select percentile_disc(${fractions}::float8[]) within group (order by ${expr}) as q
    from customer_metrics tablesample system (${percent}) where workspace_id = ${workspaceId}`.execute(db);
  const q = r.rows[0]?.q;
  return q && q.length === fractions.length ? q : null;
}

import { type Kysely, sql } from 'kysely';
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

/** Rows in a temporary table of the current pass. */
export async function countRows(db: Kysely<Database>, temp: 'cm_shift' | 'scoring_changed'): Promise<number> {
  const r = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(temp)}`.execute(db);
  return Number(r.rows[0]!.n);
}

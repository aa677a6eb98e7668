// Reading a large result a batch at a time through a server-side cursor, so that only
// one batch of rows is ever held as JavaScript objects. At 1M customers a per-customer
// result read whole took 1.4 GB as row objects (churn features) where its columns take
// tens of MB; the readers copy each batch into typed columns and let the rows go.
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database } from './schema.ts';

/** Rows fetched at a time unless a reader says otherwise. */
export const FETCH_ROWS = 20_000;

export interface CursorOptions {
  /** rows per fetch (default FETCH_ROWS; tests use a few, to cross batch boundaries) */
  batch?: number;
  /** settings for the cursor's transaction only (`set_config(name, value, true)`) */
  settings?: Record<string, string>;
  /**
   * Statements run first in the cursor's transaction. A cursor's plan never has parallel
   * workers, so a heavy aggregate goes into a temporary table here (`on commit drop`),
   * where it gets them, and the cursor reads that table.
   */
  before?: RawBuilder<unknown>[];
}

/**
 * Runs `query` in its own transaction as a no-scroll cursor and calls `each` with every
 * batch of rows, in the query's order. Works the same on PGlite and on a server.
 */
export async function forEachBatch<R>(
  db: Kysely<Database>,
  query: RawBuilder<R>,
  each: (rows: R[]) => void,
  opts: CursorOptions = {},
): Promise<void> {
  const batch = Math.max(1, Math.floor(opts.batch ?? FETCH_ROWS));
  await db.transaction().execute(async (trx) => {
    for (const [name, value] of Object.entries(opts.settings ?? {})) await sql`select set_config(${name}, ${value}, true)`.execute(trx);
    for (const statement of opts.before ?? []) await statement.execute(trx);
    await sql`declare liuke_batches no scroll cursor for ${query}`.execute(trx);
    for (;;) {
      const rows = (await sql<R>`fetch ${sql.raw(String(batch))} from liuke_batches`.execute(trx)).rows;
      if (rows.length === 0) break;
      each(rows);
    }
    await sql`close liuke_batches`.execute(trx);
  });
}

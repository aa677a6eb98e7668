// A setting changed for one statement or a few, inside the caller's transaction, and put back
// to what it was afterwards (for the rest of that transaction).
import { type Kysely, sql } from 'kysely';
import type { Database } from './schema.ts';

/**
 * Runs `fn` with `name` set to `value` (`set_config(…, true)`: this transaction only), then
 * restores the value it had. When `fn` throws, nothing is restored: the caller's rollback (of
 * the transaction or a savepoint) undoes the setting with everything else.
 */
export async function withLocalSetting<T>(db: Kysely<Database>, name: string, value: string, fn: () => Promise<T>): Promise<T> {
  const was = (await sql<{ v: string }>`select current_setting(${name}) as v`.execute(db)).rows[0]!.v;
  await sql`select set_config(${name}, ${value}, true)`.execute(db);
  const result = await fn();
  await sql`select set_config(${name}, ${was}, true)`.execute(db);
  return result;
}

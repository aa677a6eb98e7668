// Numbered, forward-only SQL migrations from src/db/migrations, applied in
// order, each in its own transaction, identically on PGlite and PostgreSQL.
// An advisory lock keeps two processes starting at once from racing.
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import type { Store } from './store.ts';

const DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
const LOCK_KEY = 7_226_301; // arbitrary, constant: "liuke migrations"

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export async function loadMigrations(dir = DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f)).sort();
  const out: Migration[] = [];
  for (const f of files) {
    out.push({ version: Number(f.slice(0, 4)), name: f.replace(/\.sql$/, ''), sql: await readFile(dir + f, 'utf8') });
  }
  out.forEach((m, i) => {
    if (i > 0 && m.version === out[i - 1]!.version) throw new Error(`two migrations are numbered ${m.version}: ${m.name}`);
  });
  return out;
}

/** Applies pending migrations; returns the names applied. */
export async function migrate(store: Store): Promise<string[]> {
  const migrations = await loadMigrations();
  return store.session(async ({ db }) => {
    await sql`select pg_advisory_lock(${LOCK_KEY})`.execute(db);
    try {
      await sql`create table if not exists liuke_migrations (
        version integer primary key, name text not null, applied_at timestamptz not null default now())`.execute(db);
      const done = new Set((await db.selectFrom('liuke_migrations').select('version').execute()).map((r) => r.version));
      const known = new Set(migrations.map((m) => m.version));
      const unknown = [...done].filter((v) => !known.has(v));
      if (unknown.length > 0) {
        throw new Error(
          `the store has migration ${unknown.join(', ')} that this Liuke does not know: upgrade Liuke, never downgrade a store`,
        );
      }
      const applied: string[] = [];
      for (const m of migrations) {
        if (done.has(m.version)) continue;
        await db.transaction().execute(async (trx) => {
          await sql.raw(m.sql).execute(trx);
          await trx.insertInto('liuke_migrations').values({ version: m.version, name: m.name }).execute();
        });
        applied.push(m.name);
      }
      return applied;
    } finally {
      await sql`select pg_advisory_unlock(${LOCK_KEY})`.execute(db);
    }
  });
}

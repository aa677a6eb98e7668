// The one database factory: PGlite in a data folder by default, a PostgreSQL
// server when DATABASE_URL names one. Everything above this file sees the same
// Kysely API and the same bulk-load path on both.
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { from as copyFromStream } from 'pg-copy-streams';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Mutex, PGliteDialect } from './pglite-dialect.ts';
import type { Database } from './schema.ts';

export type StoreKind = 'pglite' | 'postgres';

/** A connection held by one caller: temporary tables and COPY live here. */
export interface Session {
  readonly kind: StoreKind;
  readonly db: Kysely<Database>;
  /**
   * Bulk-loads CSV text (no header, RFC 4180 quoting, empty unquoted field = NULL)
   * into `table(columns)`: COPY FROM STDIN on PostgreSQL, COPY from a blob on PGlite.
   * Chunks are text or UTF-8 bytes (bytes go to the store as they are, no re-encoding).
   * `freeze` loads with COPY … FREEZE: only for a table created or truncated in the
   * current transaction (the rows are written frozen, so nothing rewrites them later).
   * Returns the number of rows loaded.
   */
  copyCsv(
    table: string,
    columns: readonly string[],
    chunks: AsyncIterable<CsvChunk> | Iterable<CsvChunk>,
    opts?: { freeze?: boolean },
  ): Promise<number>;
}

/** A piece of CSV: text, or its UTF-8 bytes. */
export type CsvChunk = string | Uint8Array;

export interface Store {
  readonly kind: StoreKind;
  readonly db: Kysely<Database>;
  /** Where the data lives, for messages: the folder or the server URL without password. */
  readonly location: string;
  session<T>(fn: (s: Session) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** postgres://… — when set, PostgreSQL is used. */
  databaseUrl?: string | undefined;
  /** PGlite data folder; 'memory://' for a throw-away in-memory store. */
  dataDir?: string | undefined;
  /** Pool size on PostgreSQL. */
  poolSize?: number | undefined;
}

// Both stores return the same JavaScript values: int8 and numeric as numbers
// (counts and money in this product fit in a double), date as 'YYYY-MM-DD'
// text (a date has no time zone; a JS Date would invent one).
const INT8 = 20;
const NUMERIC = 1700;
const DATE = 1082;
const parseNum = (v: string) => (v === null ? null : Number(v));

let pgTypesSet = false;
function setPgTypeParsers(): void {
  if (pgTypesSet) return;
  pgTypesSet = true;
  pg.types.setTypeParser(INT8, parseNum);
  pg.types.setTypeParser(NUMERIC, parseNum);
  pg.types.setTypeParser(DATE, (v: string) => v);
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}

const CSV_CHUNK_ROWS = 20_000;
/** PGlite: at most this many bytes of CSV per COPY blob (besides CSV_CHUNK_ROWS chunks). */
const CSV_BLOB_BYTES = 32 << 20;

function copySql(table: string, columns: readonly string[], source: string, freeze = false): string {
  const ident = (s: string) => {
    if (!/^[a-z_][a-z0-9_]*$/.test(s)) throw new Error(`not a safe SQL identifier: ${s}`);
    return `"${s}"`;
  };
  const t = table.split('.').map(ident).join('.');
  return `COPY ${t} (${columns.map(ident).join(', ')}) FROM ${source} WITH (FORMAT csv${freeze ? ', FREEZE' : ''})`;
}

async function openPostgres(url: string, poolSize: number): Promise<Store> {
  setPgTypeParsers();
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  // An idle connection the server closes (restart, admin shutdown, dropped database) emits
  // 'error' on the pool; without a listener that would crash the process. The pool replaces
  // it, and the next query reports any real outage.
  pool.on('error', () => {});
  // A PostgreSQL that is down should say so now, not at the first query.
  try {
    const c = await pool.connect();
    c.release();
  } catch (e) {
    await pool.end().catch(() => {});
    throw new Error(
      `cannot connect to PostgreSQL at ${redactUrl(url)}: ${(e as Error).message}. ` +
        'Check DATABASE_URL, or unset it to use the embedded store.',
    );
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    kind: 'postgres',
    db,
    location: redactUrl(url),
    async session(fn) {
      const client = await pool.connect();
      // A Kysely bound to this one client: every query, transaction and COPY
      // in the session shares its temporary tables.
      const single = {
        connect: async () => ({ query: client.query.bind(client), release: () => {} }),
        end: async () => {},
      };
      const sdb = new Kysely<Database>({ dialect: new PostgresDialect({ pool: single as unknown as pg.Pool }) });
      let broken = false;
      try {
        return await fn({
          kind: 'postgres',
          db: sdb,
          async copyCsv(table, columns, chunks, opts) {
            const stream = client.query(copyFromStream(copySql(table, columns, 'STDIN', opts?.freeze)));
            await pipeline(Readable.from(chunks as AsyncIterable<CsvChunk>), stream);
            return Number(stream.rowCount ?? 0);
          },
        });
      } catch (e) {
        broken = true;
        throw e;
      } finally {
        // A client that failed mid-COPY or mid-transaction is not reused.
        if (broken) await client.query('rollback').catch(() => {});
        client.release();
      }
    },
    async close() {
      await db.destroy();
    },
  };
}

async function openPGlite(dataDir: string): Promise<Store> {
  const pgl = await PGlite.create(dataDir === 'memory://' ? undefined : dataDir, {
    parsers: {
      [INT8]: (v: string) => Number(v),
      [NUMERIC]: (v: string) => Number(v),
      [DATE]: (v: string) => v,
    },
  });
  const mutex = new Mutex();
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pgl, mutex, true) });
  return {
    kind: 'pglite',
    db,
    location: dataDir,
    async session(fn) {
      const release = await mutex.lock();
      const sdb = new Kysely<Database>({ dialect: new PGliteDialect(pgl, null, false) });
      try {
        return await fn({
          kind: 'pglite',
          db: sdb,
          async copyCsv(table, columns, chunks, opts) {
            // PGlite reads COPY input from a blob; feed it in bounded pieces so a
            // large load never sits whole in memory.
            let total = 0;
            let buf: CsvChunk[] = [];
            let lines = 0;
            let bytes = 0;
            const flush = async () => {
              if (buf.length === 0) return;
              const res = await pgl.query(copySql(table, columns, `'/dev/blob'`, opts?.freeze), [], {
                blob: new Blob(buf as BlobPart[]),
              });
              total += res.affectedRows ?? 0;
              buf = [];
              lines = 0;
              bytes = 0;
            };
            for await (const chunk of chunks as AsyncIterable<CsvChunk>) {
              buf.push(chunk);
              lines++;
              bytes += chunk.length; // characters for text: a bound, not an exact size
              if (lines >= CSV_CHUNK_ROWS || bytes >= CSV_BLOB_BYTES) await flush();
            }
            await flush();
            return total;
          },
        });
      } catch (e) {
        await sql`rollback`.execute(sdb).catch(() => {});
        throw e;
      } finally {
        release();
      }
    },
    async close() {
      await db.destroy();
    },
  };
}

export async function openStore(opts: StoreOptions): Promise<Store> {
  if (opts.databaseUrl) return openPostgres(opts.databaseUrl, opts.poolSize ?? 10);
  return openPGlite(opts.dataDir ?? './liuke-data');
}

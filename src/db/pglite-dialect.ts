// A Kysely dialect for PGlite. PGlite is one connection in one process, so the
// driver hands that connection to one caller at a time: a transaction keeps it
// until commit or rollback, and everyone else waits in line.
import type { PGlite } from '@electric-sql/pglite';
import {
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryResult,
  type TransactionSettings,
  CompiledQuery as CQ,
} from 'kysely';

class PGliteConnection implements DatabaseConnection {
  readonly #pg: PGlite;
  constructor(pg: PGlite) {
    this.#pg = pg;
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    // Without parameters, use the simple protocol (exec) so that a migration
    // file with many statements runs as one, as node-postgres does.
    const res =
      compiled.parameters.length === 0
        ? ((await this.#pg.exec(compiled.sql)).at(-1) ?? { rows: [], affectedRows: 0 })
        : await this.#pg.query<R>(compiled.sql, compiled.parameters as unknown[]);
    const affected = res.affectedRows === undefined ? undefined : BigInt(res.affectedRows);
    return { rows: res.rows as R[], numAffectedRows: affected };
  }

  // Streaming is not needed for PGlite: it lives in this process's memory anyway.
  // biome-ignore lint/correctness/useYield: required by the interface, never used
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streamQuery is not supported on PGlite; page with LIMIT/OFFSET or keyset instead');
  }
}

export class Mutex {
  #tail: Promise<void> = Promise.resolve();
  lock(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((r) => {
      release = r;
    });
    const ready = this.#tail.then(() => release);
    this.#tail = this.#tail.then(() => next);
    return ready;
  }
}

class PGliteDriver implements Driver {
  readonly #pg: PGlite;
  readonly #conn: PGliteConnection;
  /** null when the caller already holds the lock (a session). */
  readonly #mutex: Mutex | null;
  readonly #owned: boolean;
  #release: (() => void) | undefined;

  constructor(pg: PGlite, mutex: Mutex | null, owned: boolean) {
    this.#pg = pg;
    this.#conn = new PGliteConnection(pg);
    this.#mutex = mutex;
    this.#owned = owned;
  }
  async init(): Promise<void> {}
  async acquireConnection(): Promise<DatabaseConnection> {
    if (this.#mutex) this.#release = await this.#mutex.lock();
    return this.#conn;
  }
  async beginTransaction(c: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const iso = settings.isolationLevel ? ` isolation level ${settings.isolationLevel}` : '';
    await c.executeQuery(CQ.raw(`begin${iso}`));
  }
  async commitTransaction(c: DatabaseConnection): Promise<void> {
    await c.executeQuery(CQ.raw('commit'));
  }
  async rollbackTransaction(c: DatabaseConnection): Promise<void> {
    await c.executeQuery(CQ.raw('rollback'));
  }
  async releaseConnection(): Promise<void> {
    const r = this.#release;
    this.#release = undefined;
    r?.();
  }
  async destroy(): Promise<void> {
    if (this.#owned && !this.#pg.closed) await this.#pg.close();
  }
}

export class PGliteDialect implements Dialect {
  readonly #pg: PGlite;
  readonly #mutex: Mutex | null;
  readonly #owned: boolean;
  /**
   * mutex: the store-wide lock, or null for a Kysely bound to a session that
   * already holds it. owned: whether destroying this Kysely closes PGlite.
   */
  constructor(pg: PGlite, mutex: Mutex | null, owned: boolean) {
    this.#pg = pg;
    this.#mutex = mutex;
    this.#owned = owned;
  }
  createAdapter() {
    return new PostgresAdapter();
  }
  createDriver(): Driver {
    return new PGliteDriver(this.#pg, this.#mutex, this.#owned);
  }
  createQueryCompiler() {
    return new PostgresQueryCompiler();
  }
  createIntrospector(db: Kysely<unknown>) {
    return new PostgresIntrospector(db);
  }
}

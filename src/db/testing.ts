// Test helpers: run a suite against both stores, each test file with a fresh,
// migrated database — an in-memory PGlite and a new database on the
// PostgreSQL server (LIUKE_TEST_PG_URL, default postgres://postgres@127.0.0.1:5432/postgres).
// LIUKE_TEST_STORES=pglite (or postgres) narrows the loop.
import { after, before, describe } from 'node:test';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate } from './migrate.ts';
import { openStore, type Store, type StoreKind } from './store.ts';

const ADMIN_URL = process.env.LIUKE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function testStoreKinds(): StoreKind[] {
  const only = process.env.LIUKE_TEST_STORES;
  if (!only) return ['pglite', 'postgres'];
  return only.split(',').map((s) => s.trim()) as StoreKind[];
}

export interface TestStore extends Store {
  /** URL of the throw-away PostgreSQL database (postgres only). */
  readonly url?: string;
}

/** Opens a fresh, migrated store of the given kind; close() drops it again. */
export async function openTestStore(kind: StoreKind): Promise<TestStore> {
  if (kind === 'pglite') {
    const store = await openStore({ dataDir: 'memory://' });
    await migrate(store);
    return store;
  }
  const name = `liuke_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const store = await openStore({ databaseUrl: url.toString(), poolSize: 4 });
  await migrate(store);
  return {
    ...store,
    url: url.toString(),
    async close() {
      await store.close();
      await dropTestDatabase(name);
    },
  };
}

async function dropTestDatabase(name: string): Promise<void> {
  // Destructive: refuses anything that is not one of our throw-away databases.
  if (!/^liuke_test_\d+_[0-9a-f]{8}$/.test(name)) throw new Error(`refusing to drop ${name}: not a test database`);
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${name} with (force)`);
  } finally {
    await admin.end();
  }
}

/**
 * describe() once per store kind. `get()` returns the store inside tests:
 *
 *   forEachStore('orders', (get) => { it('…', async () => { const { db } = get(); … }) })
 */
export function forEachStore(name: string, body: (get: () => TestStore, kind: StoreKind) => void): void {
  for (const kind of testStoreKinds()) {
    describe(`${name} [${kind}]`, () => {
      let store: TestStore | undefined;
      before(async () => {
        store = await openTestStore(kind);
      });
      after(async () => {
        await store?.close();
      });
      body(() => {
        if (!store) throw new Error('store not open yet: call get() inside a test, not at describe time');
        return store;
      }, kind);
    });
  }
}

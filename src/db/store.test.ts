import assert from 'node:assert/strict';
import { it } from 'node:test';
import { sql } from 'kysely';
import { forEachStore } from './testing.ts';
import { migrate } from './migrate.ts';

forEachStore('store', (get) => {
  it('applies every migration once and is idempotent', async () => {
    const store = get();
    assert.deepEqual(await migrate(store), []);
    const rows = await store.db.selectFrom('liuke_migrations').select('name').execute();
    assert.ok(rows.some((r) => r.name === '0001_init'));
  });

  it('returns the same value types on both stores', async () => {
    const { db } = get();
    const r = await sql<{ n: number; m: number; d: string; t: Date; j: unknown }>`
      select 12345678901::int8 as n, 12.34::numeric(14,2) as m, '2024-02-29'::date as d,
             '2024-01-01T00:00:00Z'::timestamptz as t, '{"a":1}'::jsonb as j`.execute(db);
    assert.deepEqual(r.rows[0], { n: 12345678901, m: 12.34, d: '2024-02-29', t: new Date('2024-01-01T00:00:00Z'), j: { a: 1 } });
  });

  it('bulk-loads CSV with quoting and NULLs through copyCsv', async () => {
    const store = get();
    const n = await store.session((s) =>
      s.copyCsv('products', ['workspace_id', 'id', 'name', 'price'], ['1,p1,"a, ""b""",3.5\n', '1,p2,,\n']),
    );
    assert.equal(n, 2);
    const rows = await store.db.selectFrom('products').select(['id', 'name', 'price']).orderBy('id').execute();
    assert.deepEqual(rows, [
      { id: 'p1', name: 'a, "b"', price: 3.5 },
      { id: 'p2', name: null, price: null },
    ]);
  });

  it('rolls back a failed transaction inside a session and keeps working', async () => {
    const store = get();
    await assert.rejects(
      store.session((s) =>
        s.db.transaction().execute(async (trx) => {
          await trx.insertInto('products').values({ workspace_id: 1, id: 'x1', name: 'x', price: 1, category: null }).execute();
          await trx.insertInto('products').values({ workspace_id: 1, id: 'x2', name: 'x', price: -1, category: null }).execute();
        }),
      ),
      /check constraint|violates/,
    );
    const left = await store.db.selectFrom('products').select('id').where('id', 'like', 'x%').execute();
    assert.deepEqual(left, []);
  });
});

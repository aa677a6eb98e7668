import assert from 'node:assert/strict';
import { it } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import type { Store } from '../../db/store.ts';
import { forEachStore } from '../../db/testing.ts';
import { createDemoBusiness } from './demo.service.ts';
import { BUSINESS_TABLES, batchRanges, keyColumns, restoreDeferredIndexes } from './loader.ts';

const NOW = new Date('2025-06-30T12:00:00Z');

/** Every index and constraint on the business tables, as the catalogue defines them. */
async function schemaOf(store: Store): Promise<string[]> {
  const names = [...BUSINESS_TABLES];
  const idx = await sql<{ d: string }>`
    select c.relname || ' ' || i.relname || ': ' || pg_get_indexdef(i.oid) as d
    from pg_index x join pg_class i on i.oid = x.indexrelid join pg_class c on c.oid = x.indrelid
    join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = current_schema() and c.relname in (${sql.join(names)})`.execute(store.db);
  const con = await sql<{ d: string }>`
    select c.relname || ' ' || k.conname || ': ' || pg_get_constraintdef(k.oid) || ' valid=' || k.convalidated as d
    from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = current_schema() and c.relname in (${sql.join(names)})`.execute(store.db);
  return [...idx.rows, ...con.rows].map((r) => r.d).sort();
}

const count = async (store: Store, table: 'customers' | 'orders', ws: number) =>
  Number((await store.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).where('workspace_id', '=', ws).executeTakeFirstOrThrow()).n);

/** Changes when a table is truncated (the fast path), not when rows are deleted. */
const filenode = async (store: Store) =>
  Number((await sql<{ f: number }>`select pg_relation_filenode('orders')::int8 as f`.execute(store.db)).rows[0]!.f);

it('batches every customer once, in order, starting small so the first COPY starts early', () => {
  for (const [customers, size] of [[1_000_000, 5_000], [12_345, 5_000], [300, 5_000], [1_000, 77], [1, 1]] as const) {
    const ranges = batchRanges(customers, size);
    assert.equal(ranges[0]![0], 0);
    assert.equal(ranges.at(-1)![1], customers);
    for (let k = 1; k < ranges.length; k++) assert.equal(ranges[k]![0], ranges[k - 1]![1]);
    assert.ok(ranges.every(([from, to]) => to > from && to - from <= size));
  }
  assert.deepEqual(
    batchRanges(1_000_000, 5_000).slice(0, 5).map(([from, to]) => to - from),
    [500, 1_000, 2_000, 4_000, 5_000],
  );
});

it('counts the key columns of an index definition (longer sorts are built first)', () => {
  assert.equal(keyColumns('CREATE INDEX a ON public.events USING btree (workspace_id, type, occurred_at)'), 3);
  assert.equal(keyColumns('CREATE INDEX b ON public.customers USING btree (workspace_id, lower(email)) WHERE (email IS NOT NULL)'), 2);
  assert.equal(keyColumns('CREATE INDEX c ON public.order_lines USING btree (workspace_id, order_id) INCLUDE (quantity, price)'), 2);
  assert.equal(keyColumns('CREATE INDEX d ON public.customers USING btree (workspace_id, reverse(phone) text_pattern_ops)'), 2);
});

forEachStore('demo load', (get, kind) => {
  it('puts back every index, key and foreign key exactly as they were after a first load and a reset', async () => {
    const store = get();
    const before = await schemaOf(store);
    const node = await filenode(store);
    assert.ok(before.some((d) => d.startsWith('events events_type_time:')) && before.some((d) => /FOREIGN KEY/.test(d)));
    const r = await createDemoBusiness(store, { customers: 120, seed: 5, industry: 'retail', now: NOW });
    assert.deepEqual(await schemaOf(store), before);
    assert.notEqual(await filenode(store), node, 'the fast path was taken');
    assert.equal(await count(store, 'customers', 1), r.rows.customers);
    const again = await createDemoBusiness(store, { customers: 60, seed: 6, industry: 'fitness', now: NOW, reset: true });
    assert.deepEqual(await schemaOf(store), before);
    assert.equal(await count(store, 'customers', 1), again.rows.customers);
    assert.equal(await count(store, 'orders', 1), again.rows.orders);
    // the keys work again: a duplicate order is refused
    await assert.rejects(
      store.db.insertInto('orders').values({ workspace_id: 1, id: 'C0000001-1', customer_id: 'C0000001', ordered_at: NOW, amount: 1 }).execute(),
      /duplicate key/,
    );
  });

  it('leaves another workspace\'s data alone on --reset', async () => {
    const store = get();
    await store.db.insertInto('workspaces').values({ id: 2, slug: 'other', name: 'Other' }).execute();
    await store.db.insertInto('customers').values({ workspace_id: 2, id: 'X1', name: 'x' }).execute();
    const before = await schemaOf(store);
    const r = await createDemoBusiness(store, { customers: 40, seed: 9, industry: 'retail', now: NOW, reset: true });
    assert.equal(await count(store, 'customers', 2), 1);
    assert.equal(await count(store, 'customers', 1), r.rows.customers);
    assert.deepEqual(await schemaOf(store), before);
    await store.db.deleteFrom('customers').where('workspace_id', '=', 2).execute();
  });

  if (kind === 'postgres') {
    it('builds the indexes left unbuilt by a load that stopped after its commit', async () => {
      const store = get();
      const before = await schemaOf(store);
      await createDemoBusiness(store, { customers: 50, seed: 3, industry: 'retail', now: NOW, reset: true });
      // as if the process had stopped while building the indexes it builds after the commit
      await sql`drop index events_type_time, orders_updated`.execute(store.db);
      assert.equal(await restoreDeferredIndexes(store, 1), 2);
      assert.deepEqual(await schemaOf(store), before);
      assert.equal(await restoreDeferredIndexes(store, 1), 0, 'nothing to do once they are there');
    });

    it('loads the ordinary way when another session is reading the tables', async () => {
      const store = get();
      const other = new pg.Client({ connectionString: store.url });
      await other.connect();
      try {
        const node = await filenode(store);
        await other.query('begin');
        await other.query('select count(*) from customers');
        const r = await createDemoBusiness(store, { customers: 30, seed: 2, industry: 'retail', now: NOW, reset: true });
        const seen = await other.query('select count(*)::int as n from customers where workspace_id = 1');
        assert.ok(seen.rows[0].n > 0, 'the reader kept its snapshot and was not blocked');
        await other.query('commit');
        assert.equal(await filenode(store), node, 'rows were deleted, not truncated');
        assert.equal(await count(store, 'customers', 1), r.rows.customers);
      } finally {
        await other.end();
      }
    });
  }
});

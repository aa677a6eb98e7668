// The per-customer order summary (customer_stats) that the customer list
// sorts and filters on. Refreshed set-based — one INSERT … SELECT … GROUP BY —
// never per request. Whoever writes orders calls it afterwards:
//
//   await refreshCustomerStats(db, workspaceId)            // everyone (after a demo load or a full import)
//   await refreshCustomerStats(db, workspaceId, ids)       // just the customers a batch touched
//   await refreshCustomerStats(db, workspaceId, { table }) // the customer ids in a (temporary) table's customer_id column
//
// Orders and spend count paid orders only; refunded_orders counts the rest.
// Every customer gets a row, with zeros when they have no orders, so sorting
// by spend, orders or last order covers everyone refreshed. The figures are
// also copied onto the customer row (customers.stats_*, migration 0010) so
// the list filters and sorts through one table's indexes; this module is the
// only writer of those columns. The analytics pipeline computes the same
// figures in its own pass over orders and hands them to writeCustomerStats.
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';

/**
 * The figures per customer, from orders (alias o) of the workspace matching
 * `filter` (an `and …` on o): customer_id, first_order_at, last_order_at,
 * orders, spend, refunded_orders. Also used by imports to create stub
 * customers with their figures already in place.
 */
export function orderFigures(workspaceId: number, filter: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`
      select o.customer_id,
             min(o.ordered_at) filter (where o.status = 'paid') as first_order_at,
             max(o.ordered_at) filter (where o.status = 'paid') as last_order_at,
             count(*) filter (where o.status = 'paid') as orders,
             coalesce(sum(o.amount) filter (where o.status = 'paid'), 0) as spend,
             count(*) filter (where o.status <> 'paid') as refunded_orders
      from orders o
      where o.workspace_id = ${workspaceId} ${filter}
      group by o.customer_id`;
}

/** The tail of an insert into customer_stats: a customer's row is replaced only where its figures moved. */
export const STATS_UPSERT = sql`
    on conflict (workspace_id, customer_id) do update set
      first_order_at = excluded.first_order_at,
      last_order_at = excluded.last_order_at,
      orders = excluded.orders,
      spend = excluded.spend,
      refunded_orders = excluded.refunded_orders,
      refreshed_at = excluded.refreshed_at
    where (customer_stats.first_order_at, customer_stats.last_order_at, customer_stats.orders, customer_stats.spend, customer_stats.refunded_orders)
      is distinct from (excluded.first_order_at, excluded.last_order_at, excluded.orders, excluded.spend, excluded.refunded_orders)`;

/**
 * Copies order figures onto the customer rows the list filters and sorts on
 * (customers.stats_*, migration 0010), only where they differ. `source` is a
 * from-item read as f (customer_id, first_order_at, last_order_at, orders, spend);
 * `filter` an `and …` on f.
 */
export async function copyFiguresToCustomers(db: Kysely<Database>, workspaceId: number, source: RawBuilder<unknown>, filter: RawBuilder<unknown> = sql``): Promise<void> {
  await sql`
    update customers c set
      stats_first_order_at = f.first_order_at,
      stats_last_order_at = f.last_order_at,
      stats_orders = f.orders,
      stats_spend = f.spend
    from ${source} f
    where c.workspace_id = ${workspaceId} and c.id = f.customer_id ${filter}
      and (c.stats_first_order_at, c.stats_last_order_at, c.stats_orders, c.stats_spend)
        is distinct from (f.first_order_at, f.last_order_at, f.orders, f.spend)`.execute(db);
}

/** Returns the number of rows written. `now` stamps refreshed_at. */
export async function refreshCustomerStats(
  db: Kysely<Database>,
  workspaceId: number,
  customerIds?: readonly string[] | { table: string },
  now: Date = new Date(),
): Promise<number> {
  // Hundreds of thousands of ids (a large import) join better from a table than from an array parameter.
  const table = customerIds && 'table' in customerIds ? customerIds.table : null;
  if (table !== null && !/^[a-z_][a-z0-9_]*$/.test(table)) throw new Error(`not a safe table name: ${table}`);
  const list = customerIds && !('table' in customerIds) ? customerIds : null;
  if (list && list.length === 0) return 0;
  const ids = list ? [...new Set(list)] : null;
  const only = (col: string) =>
    table !== null ? sql`and ${sql.raw(col)} in (select customer_id from ${sql.raw(table)})` : ids ? sql`and ${sql.raw(col)} = any(${ids}::text[])` : sql``;
  const onlyOrders = only('o.customer_id');
  const onlyCustomers = only('c.id');
  const r = await sql`
    insert into customer_stats (workspace_id, customer_id, first_order_at, last_order_at, orders, spend, refunded_orders, refreshed_at)
    select c.workspace_id, c.id, o.first_order_at, o.last_order_at, coalesce(o.orders, 0), coalesce(o.spend, 0), coalesce(o.refunded_orders, 0), ${now}
    from customers c
    left join (${orderFigures(workspaceId, onlyOrders)}) o on o.customer_id = c.id
    where c.workspace_id = ${workspaceId} ${onlyCustomers}
    ${STATS_UPSERT}`.execute(db);
  // The copies on the customer row that the list filters and sorts on
  // (migration 0010), for the same customers, only where they differ.
  await copyFiguresToCustomers(db, workspaceId, sql`customer_stats`, sql`and f.workspace_id = ${workspaceId} ${only('f.customer_id')}`);
  // Rows for customers that no longer exist (merged away, deleted) go too.
  const onlyStats = only('s.customer_id');
  await sql`
    delete from customer_stats s
    where s.workspace_id = ${workspaceId} ${onlyStats}
      and not exists (select 1 from customers c where c.workspace_id = s.workspace_id and c.id = s.customer_id)`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

/**
 * Writes figures computed elsewhere into customer_stats and the customers.stats_*
 * copies. `figures` selects customer_id, first_order_at, last_order_at, orders,
 * spend, refunded_orders (the same definitions as orderFigures, over every order of
 * the customer) for every existing customer in scope: the customer ids that
 * `scope` selects, or the whole workspace when null. Only rows that differ are
 * written; stats of customers in scope that no longer exist are removed.
 * Returns the number of customer_stats rows written.
 */
export async function writeCustomerStats(
  db: Kysely<Database>,
  workspaceId: number,
  figures: RawBuilder<unknown>,
  scope: RawBuilder<unknown> | null,
  now: Date,
): Promise<number> {
  const u = await sql`
    update customer_stats s set
      first_order_at = f.first_order_at, last_order_at = f.last_order_at, orders = f.orders, spend = f.spend,
      refunded_orders = f.refunded_orders, refreshed_at = ${now}
    from (${figures}) f
    where s.workspace_id = ${workspaceId} and s.customer_id = f.customer_id
      and (s.first_order_at, s.last_order_at, s.orders, s.spend, s.refunded_orders)
        is distinct from (f.first_order_at, f.last_order_at, f.orders, f.spend, f.refunded_orders)`.execute(db);
  // Which customers lack a row is decided by a read-only statement first: an anti-join
  // inside the insert, planned when the table looked empty, could become a nested loop
  // that rescans every page the insert adds (quadratic at a million customers).
  await sql`drop table if exists liuke_stats_missing`.execute(db);
  await sql`
    create temp table liuke_stats_missing as
    select f.customer_id from (${figures}) f
    where not exists (select 1 from customer_stats s where s.workspace_id = ${workspaceId} and s.customer_id = f.customer_id)`.execute(db);
  const i = await sql`
    insert into customer_stats (workspace_id, customer_id, first_order_at, last_order_at, orders, spend, refunded_orders, refreshed_at)
    select ${workspaceId}::int, f.customer_id, f.first_order_at, f.last_order_at, f.orders, f.spend, f.refunded_orders, ${now}
    from (${figures}) f join liuke_stats_missing m on m.customer_id = f.customer_id`.execute(db);
  await sql`drop table liuke_stats_missing`.execute(db);
  await copyFiguresToCustomers(db, workspaceId, sql`(${figures})`);
  await sql`
    delete from customer_stats s
    where s.workspace_id = ${workspaceId} ${scope !== null ? sql`and s.customer_id in (${scope})` : sql``}
      and not exists (select 1 from (${figures}) f where f.customer_id = s.customer_id)`.execute(db);
  return Number(u.numAffectedRows ?? 0) + Number(i.numAffectedRows ?? 0);
}

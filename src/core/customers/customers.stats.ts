// The per-customer order summary that the customer list sorts and filters on:
// customers.stats_* (first and last paid order, paid orders, paid spend; migration
// 0010), so the list filters and sorts through one table's indexes. Refreshed
// set-based — one UPDATE … FROM (… GROUP BY …) — never per request. Whoever writes
// orders calls it afterwards:
//
//   await refreshCustomerStats(db, workspaceId)            // everyone (after a demo load or a full import)
//   await refreshCustomerStats(db, workspaceId, ids)       // just the customers a batch touched
//   await refreshCustomerStats(db, workspaceId, { table }) // the customer ids in a (temporary) table's customer_id column
//
// Orders and spend count paid orders only. This module is the only writer of
// those columns: imports and the analytics pipeline compute the same figures in
// their own passes over orders and hand them to copyFiguresToCustomers.
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { sumMoney } from '../../db/money.ts';
import type { Database } from '../../db/schema.ts';

/**
 * The figures per customer, from orders (alias o) of the workspace matching
 * `filter` (an `and …` on o): customer_id, first_order_at, last_order_at,
 * orders, spend (paid orders only). Also used by imports to create stub
 * customers with their figures already in place.
 */
export function orderFigures(workspaceId: number, filter: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`
      select o.customer_id,
             min(o.ordered_at) filter (where o.status = 'paid') as first_order_at,
             max(o.ordered_at) filter (where o.status = 'paid') as last_order_at,
             count(*) filter (where o.status = 'paid') as orders,
             coalesce(${sumMoney(sql`o.amount`, sql`o.status = 'paid'`)}, 0) as spend
      from orders o
      where o.workspace_id = ${workspaceId} ${filter}
      group by o.customer_id`;
}

/**
 * Copies order figures onto the customer rows the list filters and sorts on
 * (customers.stats_*, migration 0010), only where they differ. `source` is a
 * from-item read as f (customer_id, first_order_at, last_order_at, orders, spend);
 * `filter` an `and …` on f.
 */
export async function copyFiguresToCustomers(db: Kysely<Database>, workspaceId: number, source: RawBuilder<unknown>, filter: RawBuilder<unknown> = sql``): Promise<number> {
  const r = await sql`
    update customers c set
      stats_first_order_at = f.first_order_at,
      stats_last_order_at = f.last_order_at,
      stats_orders = f.orders,
      stats_spend = f.spend
    from ${source} f
    where c.workspace_id = ${workspaceId} and c.id = f.customer_id ${filter}
      and (c.stats_first_order_at, c.stats_last_order_at, c.stats_orders, c.stats_spend)
        is distinct from (f.first_order_at, f.last_order_at, f.orders, f.spend)`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

/**
 * Recomputes the order figures of the workspace's customers (all, or those listed)
 * from their orders and writes them onto the customer rows where they differ.
 * Returns the number of customers whose figures were written.
 */
export async function refreshCustomerStats(
  db: Kysely<Database>,
  workspaceId: number,
  customerIds?: readonly string[] | { table: string },
): Promise<number> {
  // Hundreds of thousands of ids (a large import) join better from a table than from an array parameter.
  const table = customerIds && 'table' in customerIds ? customerIds.table : null;
  if (table !== null && !/^[a-z_][a-z0-9_]*$/.test(table)) throw new Error(`not a safe table name: ${table}`);
  const list = customerIds && !('table' in customerIds) ? customerIds : null;
  if (list && list.length === 0) return 0;
  const ids = list ? [...new Set(list)] : null;
  const only = (col: string) =>
    table !== null ? sql`and ${sql.raw(col)} in (select customer_id from ${sql.raw(table)})` : ids ? sql`and ${sql.raw(col)} = any(${ids}::text[])` : sql``;
  // Every customer in scope gets figures, zeros when they have no orders, so sorting by
  // spend, orders or last order covers everyone refreshed.
  return copyFiguresToCustomers(
    db,
    workspaceId,
    sql`(
      select c.id as customer_id, o.first_order_at, o.last_order_at, coalesce(o.orders, 0) as orders, coalesce(o.spend, 0) as spend
      from customers c
      left join (${orderFigures(workspaceId, only('o.customer_id'))}) o on o.customer_id = c.id
      where c.workspace_id = ${workspaceId} ${only('c.id')})`,
  );
}

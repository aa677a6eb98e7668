// Product patterns, set-based over order_lines ⨝ orders (docs/next-best-product.md):
// - sequence A → B: a customer's first purchase of B follows their first purchase of A
//   by 1..maxLagDays days; support = such customers / all buyers, confidence = / buyers
//   of A, lift = confidence / (buyers of B / all buyers), and the median lag in days;
// - co-purchase A + B: both in one paid order; support, confidence and lift over orders.
// Both read the transaction's temporary tables made by createPurchaseDays.
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { withLocalSetting } from '../../db/local-setting.ts';
import type { Session } from '../../db/store.ts';

/** What createPurchaseDays counted: the denominators of support and lift. */
export interface PurchaseCounts {
  /** products of paid orders, each once per order */
  orderProducts: number;
  /** customers with at least one paid product line */
  customers: number;
  /** paid orders with at least one product line */
  orders: number;
}

/**
 * The transaction's temporary tables (dropped at its end), keyed by small integers so that the joins
 * and groupings below hash and sort 4-byte keys instead of ids (with the other changes of that
 * commit, the step went from 40–58 s to 19–23 s at 100k customers; bench/RESULTS.md):
 * - pred_cust(id, k): the workspace's customers that are not merged into another, k their number here;
 * - pred_prod(product_id, p): the products on order lines, p in the order of their ids (collation "C",
 *   as the ids are), so that ordering by p orders by product id;
 * - pred_ol(k, o, p, day): each product of each paid order up to `now` once, o the order's number
 *   here (1 … the orders with a product), day its UTC day (orders of customers not in pred_cust left out);
 * - pred_per(k, p, first_day, last_day): per customer and product, the first and last such day.
 * No indexes: every statement reads them whole, through hash joins and in-memory sorts (the caller
 * sets analyticsSession's work_mem); an index scan of a temporary table larger than temp_buffers
 * (8 MB) read it back from disk page by page (5.6 s of the 8.5 s repurchase statement at 100k).
 */
export async function createPurchaseDays(s: Session, workspaceId: number, now: Date): Promise<PurchaseCounts> {
  await sql`
    create temporary table pred_cust on commit drop as
    select id, (row_number() over ())::int as k from customers where workspace_id = ${workspaceId} and merged_into is null`.execute(s.db);
  await sql`
    create temporary table pred_prod on commit drop as
    select product_id, (row_number() over (order by product_id))::int as p
    from (select distinct product_id from order_lines where workspace_id = ${workspaceId} and product_id is not null) x`.execute(s.db);
  await sql`analyze pred_cust`.execute(s.db);
  await sql`analyze pred_prod`.execute(s.db);
  // A product once per order (two lines of it are one purchase); the customer and the day
  // come with the order. DISTINCT ON sorts: a hash aggregate of these 1.6M nearly unique
  // groups took twice as long (100k customers). The orders are numbered again, densely, in
  // that sorted stream (no second sort), so that the largest number is the count of orders
  // with a product: the counts with a distinct count of orders took 16.6 s at 1M customers.
  await sql`
    create temporary table pred_ol on commit drop as
    with po as (
      select o.id, c.k, (o.ordered_at at time zone 'UTC')::date - date '1970-01-01' as day, (row_number() over ())::int as o
      from orders o join pred_cust c on c.id = o.customer_id
      where o.workspace_id = ${workspaceId} and o.status = 'paid' and o.ordered_at <= ${now}
    )
    select k, (dense_rank() over (order by o))::int as o, p, day
    from (
      select distinct on (po.o, pp.p) po.k, po.o, pp.p, po.day
      from po
      join order_lines l on l.workspace_id = ${workspaceId} and l.order_id = po.id
      join pred_prod pp on pp.product_id = l.product_id
      order by po.o, pp.p
    ) x`.execute(s.db);
  await sql`
    create temporary table pred_per on commit drop as
    select k, p, min(day) as first_day, max(day) as last_day from pred_ol group by k, p`.execute(s.db);
  await sql`analyze pred_ol`.execute(s.db);
  await sql`analyze pred_per`.execute(s.db);
  const r = await sql<PurchaseCounts>`
    select "orderProducts", orders, (select count(*) from (select k from pred_per group by 1) x)::int as customers
    from (select count(*)::int as "orderProducts", coalesce(max(o), 0)::int as orders from pred_ol) ol`.execute(s.db);
  return r.rows[0]!;
}

/**
 * Per group of a histogram h(…groups, v, c) — c values v in the group — the number n of values and
 * their median as percentile_cont(0.5) gives it (the mean of the two middle values when n is even).
 * Counting the values first and taking the median from their running counts sorts thousands of
 * rows where percentile_cont sorted millions.
 */
export function medianOf(h: string, groups: string[], v: string) {
  const g = sql.join(groups.map((x) => sql.ref(x)));
  const value = sql.ref(v);
  return sql`
    select ${g}, n, (min(${value}) filter (where hi >= (n + 1) / 2) + min(${value}) filter (where hi >= n / 2 + 1))::float8 / 2 as median
    from (
      select ${g}, ${value},
        (sum(c) over (partition by ${g} order by ${value}))::bigint as hi,
        (sum(c) over (partition by ${g}))::bigint as n
      from ${sql.table(h)}
    ) w
    group by ${g}, n`;
}

export interface AffinityOptions {
  maxLagDays: number;
  minCustomers: number;
}

/** Rewrites the workspace's product_affinities from pred_per, pred_ol and their counts. Returns the patterns kept per kind. */
export async function refreshAffinities(
  s: Session,
  workspaceId: number,
  now: Date,
  counts: PurchaseCounts,
  opts: AffinityOptions,
): Promise<{ sequence: number; co_purchase: number }> {
  await s.db.deleteFrom('product_affinities').where('workspace_id', '=', workspaceId).execute();
  const customers = sql`${counts.customers}::float8`;
  const orders = sql`${counts.orders}::float8`;
  // 18M (a, b, lag) rows at 1M customers fall into some 180k groups, but the planner expects about
  // as many groups as rows and sorted them all on disk: 50 s, against 33 s counted in a hash table,
  // which the CTE (materialized, so planned apart from the medians' window) gets with sorts off.
  const seq = await withLocalSetting(s.db, 'enable_sort', 'off', () => sql`
    insert into product_affinities (workspace_id, kind, from_product, to_product, customers, support, confidence, lift, median_lag_days, computed_at)
    with lags as materialized (
      -- (a, b) per lag: how many customers first bought b that many days after a
      select a.p as a, b.p as b, b.first_day - a.first_day as lag, count(*) as c
      from pred_per a join pred_per b on b.k = a.k and b.p <> a.p
        and b.first_day > a.first_day and b.first_day <= a.first_day + ${opts.maxLagDays}::int
      group by 1, 2, 3
    ),
    m as (${medianOf('lags', ['a', 'b'], 'lag')}),
    buyers as (select p, count(*)::float8 as n from pred_per group by 1)
    select ${workspaceId}, 'sequence', pa.product_id, pb.product_id, m.n::int,
      m.n / ${customers}, m.n / ba.n, (m.n / ba.n) / (bb.n / ${customers}), m.median, ${now}::timestamptz
    from m
    join buyers ba on ba.p = m.a join buyers bb on bb.p = m.b
    join pred_prod pa on pa.p = m.a join pred_prod pb on pb.p = m.b
    where m.n >= ${opts.minCustomers}::int`.execute(s.db));
  const co = await sql`
    insert into product_affinities (workspace_id, kind, from_product, to_product, customers, support, confidence, lift, median_lag_days, computed_at)
    with with_p as (select p, count(*)::float8 as n from pred_ol group by 1),
    pairs as (
      select a.p as a, b.p as b, count(*) as n
      from pred_ol a join pred_ol b on b.o = a.o and b.p <> a.p
      group by 1, 2
      having count(*) >= ${opts.minCustomers}::int
    )
    select ${workspaceId}, 'co_purchase', pa.product_id, pb.product_id, x.n::int,
      x.n / ${orders}, x.n / wa.n, (x.n / wa.n) / (wb.n / ${orders}), null::float8, ${now}::timestamptz
    from pairs x
    join with_p wa on wa.p = x.a join with_p wb on wb.p = x.b
    join pred_prod pa on pa.p = x.a join pred_prod pb on pb.p = x.b`.execute(s.db);
  return { sequence: Number(seq.numAffectedRows ?? 0), co_purchase: Number(co.numAffectedRows ?? 0) };
}

export interface AffinityRow {
  kind: 'sequence' | 'co_purchase';
  from_product: string;
  from_name: string | null;
  to_product: string;
  to_name: string | null;
  customers: number;
  support: number;
  confidence: number;
  lift: number;
  median_lag_days: number | null;
  computed_at: Date;
}

/** The strongest patterns: by lift among those with at least minCustomers, then by customers. */
export async function topAffinities(
  db: Kysely<Database>,
  workspaceId: number,
  opts: { limit: number; kind?: 'sequence' | 'co_purchase'; minLift?: number },
): Promise<AffinityRow[]> {
  const r = await sql<AffinityRow>`
    select a.kind, a.from_product, pf.name as from_name, a.to_product, pt.name as to_name, a.customers,
      a.support, a.confidence, a.lift, a.median_lag_days, a.computed_at
    from product_affinities a
    left join products pf on pf.workspace_id = a.workspace_id and pf.id = a.from_product
    left join products pt on pt.workspace_id = a.workspace_id and pt.id = a.to_product
    where a.workspace_id = ${workspaceId} and a.lift >= ${opts.minLift ?? 0}
      ${opts.kind ? sql`and a.kind = ${opts.kind}` : sql``}
    order by a.confidence * least(a.lift, 10) desc, a.customers desc, a.from_product collate "C", a.to_product collate "C"
    limit ${opts.limit}`.execute(db);
  return r.rows;
}

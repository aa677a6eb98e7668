// Product patterns, set-based over order_lines ⨝ orders (docs/next-best-product.md):
// - sequence A → B: a customer's first purchase of B follows their first purchase of A
//   by 1..maxLagDays days; support = such customers / all buyers, confidence = / buyers
//   of A, lift = confidence / (buyers of B / all buyers), and the median lag in days;
// - co-purchase A + B: both in one paid order; support, confidence and lift over orders.
// Both read the session's temporary tables made by createPurchaseDays.
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Session } from '../../db/store.ts';

export async function dropPurchaseDays(s: Session): Promise<void> {
  for (const t of ['pred_ol', 'pred_cp', 'pred_per']) await sql`drop table if exists ${sql.table(t)}`.execute(s.db);
}

/**
 * The session's temporary tables pred_ol(customer_id, order_id, product_id, day): the products of each
 * paid order; pred_cp: each product a customer bought on a UTC day; pred_per: per customer and product
 * the first and last such day; from
 * customer bought on a UTC day (paid orders up to `now`, merged customers left out).
 */
export async function createPurchaseDays(s: Session, workspaceId: number, now: Date): Promise<number> {
  await dropPurchaseDays(s);
  await sql`
    create temporary table pred_ol as
    select o.customer_id, o.id as order_id, l.product_id, floor(extract(epoch from o.ordered_at) / 86400)::int as day
    from orders o
    join order_lines l on l.workspace_id = o.workspace_id and l.order_id = o.id
    where o.workspace_id = ${workspaceId} and o.status = 'paid' and o.ordered_at <= ${now} and l.product_id is not null
      and not exists (select 1 from customers c where c.workspace_id = o.workspace_id and c.id = o.customer_id and c.merged_into is not null)
    group by 1, 2, 3, 4`.execute(s.db);
  await sql`create temporary table pred_cp as select customer_id, product_id, day from pred_ol group by 1, 2, 3`.execute(s.db);
  await sql`create temporary table pred_per as
    select customer_id, product_id, min(day) as first_day, max(day) as last_day from pred_cp group by 1, 2`.execute(s.db);
  await sql`create index on pred_ol (order_id)`.execute(s.db);
  await sql`create index on pred_cp (customer_id, product_id, day)`.execute(s.db);
  await sql`create index on pred_per (customer_id, product_id)`.execute(s.db);
  await sql`analyze pred_ol`.execute(s.db);
  await sql`analyze pred_cp`.execute(s.db);
  await sql`analyze pred_per`.execute(s.db);
  const r = await sql<{ n: number }>`select count(*)::int as n from pred_cp`.execute(s.db);
  return r.rows[0]!.n;
}

export interface AffinityOptions {
  maxLagDays: number;
  minCustomers: number;
}

/** Rewrites the workspace's product_affinities from pred_cp and the paid orders. Returns the patterns kept per kind. */
export async function refreshAffinities(
  s: Session,
  workspaceId: number,
  now: Date,
  opts: AffinityOptions,
): Promise<{ sequence: number; co_purchase: number }> {
  await s.db.deleteFrom('product_affinities').where('workspace_id', '=', workspaceId).execute();
  const seq = await sql`
    insert into product_affinities (workspace_id, kind, from_product, to_product, customers, support, confidence, lift, median_lag_days, computed_at)
    with firsts as (select customer_id, product_id, first_day as day from pred_per), n_all as (
      select count(distinct customer_id)::float8 as n from pred_cp
    ), buyers as (
      select product_id, count(*)::float8 as n from firsts group by 1
    ), pairs as (
      select a.product_id as a, b.product_id as b, b.day - a.day as lag
      from firsts a join firsts b on b.customer_id = a.customer_id and b.product_id <> a.product_id
       and b.day > a.day and b.day <= a.day + ${opts.maxLagDays}
    )
    select ${workspaceId}, 'sequence', p.a, p.b, count(*)::int,
      count(*) / n_all.n, count(*) / ba.n, (count(*) / ba.n) / (bb.n / n_all.n),
      percentile_cont(0.5) within group (order by p.lag), ${now}::timestamptz
    from pairs p join buyers ba on ba.product_id = p.a join buyers bb on bb.product_id = p.b cross join n_all
    group by p.a, p.b, ba.n, bb.n, n_all.n
    having count(*) >= ${opts.minCustomers}`.execute(s.db);
  const co = await sql`
    insert into product_affinities (workspace_id, kind, from_product, to_product, customers, support, confidence, lift, median_lag_days, computed_at)
    with lines as (select order_id, product_id from pred_ol), n_all as (
      select count(distinct order_id)::float8 as n from lines
    ), orders_with as (
      select product_id, count(*)::float8 as n from lines group by 1
    )
    select ${workspaceId}, 'co_purchase', a.product_id, b.product_id, count(*)::int,
      count(*) / n_all.n, count(*) / wa.n, (count(*) / wa.n) / (wb.n / n_all.n), null::float8, ${now}::timestamptz
    from lines a join lines b on b.order_id = a.order_id and b.product_id <> a.product_id
    join orders_with wa on wa.product_id = a.product_id join orders_with wb on wb.product_id = b.product_id
    cross join n_all
    group by a.product_id, b.product_id, wa.n, wb.n, n_all.n
    having count(*) >= ${opts.minCustomers}`.execute(s.db);
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

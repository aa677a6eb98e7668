// Next-best products per customer (docs/next-best-product.md), set-based from pred_per (affinities.ts),
// product_repurchase and product_affinities, top `perCustomer` each:
// 1. due: a repurchase product whose days since the customer's last purchase of it reached
//    dueFactor × its median interval (and at most 3 × the interval: beyond that the habit is gone);
// 2. next: B for a customer who first bought A at least 0.9 × the median lag of A → B ago
//    (and at most maxLagDays), who never bought B;
// 3. co_purchase: B often in the same order as A, for a customer who bought A in the last 90 days.
// Products bought in the last recentDays are left out of 2 and 3; each product once per customer.
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Session } from '../../db/store.ts';
import type { Step } from '../pipeline/pipeline.ts';
import { analyticsSession } from '../analytics/settings.ts';
import { createPurchaseDays, refreshAffinities } from './affinities.ts';
import { utcDay } from './clv.repository.ts';
import { refreshRepurchase } from './repurchase.ts';
import { loadPredictionSettings, type PredictionSettings } from './settings.ts';

export async function refreshRecommendations(s: Session, workspaceId: number, now: Date, o: PredictionSettings['nextProducts']): Promise<number> {
  await s.db.deleteFrom('customer_next_products').where('workspace_id', '=', workspaceId).execute();
  const today = utcDay(now);
  const r = await sql`
    insert into customer_next_products (workspace_id, customer_id, product_id, rank, reason, score, due_at, from_product, computed_at)
    with due as (
      select p.k, p.p, 1 as grp,
        (${today}::int - p.last_day) / r.median_interval_days as score,
        p.last_day + r.median_interval_days as due_day, null::int as from_p
      from pred_per p join pred_prod pp on pp.p = p.p
      join product_repurchase r on r.workspace_id = ${workspaceId} and r.product_id = pp.product_id
      where ${today}::int - p.last_day >= ${o.dueFactor}::float8 * r.median_interval_days
        and ${today}::int - p.last_day <= 3 * r.median_interval_days
    ), aff as materialized (
      -- the patterns in pred_prod's numbers (a few hundred rows); joined to them, pred_per is read
      -- once per pattern kind. Left to itself the planner paired every customer with every product first.
      select a.kind, fp.p as from_p, tp.p as to_p, a.confidence * least(a.lift, 10) as score, a.median_lag_days
      from product_affinities a
      join pred_prod fp on fp.product_id = a.from_product
      join pred_prod tp on tp.product_id = a.to_product
      where a.workspace_id = ${workspaceId} and a.lift >= ${o.minLift}
    ), nxt as (
      select p.k, a.to_p as p, 2 as grp, a.score, p.first_day + a.median_lag_days as due_day, a.from_p
      from pred_per p join aff a on a.kind = 'sequence' and a.from_p = p.p
      where ${today}::int - p.first_day >= 0.9 * a.median_lag_days and ${today}::int - p.first_day <= ${o.maxLagDays}
        and not exists (select 1 from pred_per b where b.k = p.k and b.p = a.to_p)
    ), co as (
      select p.k, a.to_p as p, 3 as grp, a.score, null::float8 as due_day, a.from_p
      from pred_per p join aff a on a.kind = 'co_purchase' and a.from_p = p.p
      where ${today}::int - p.last_day <= 90
        and not exists (select 1 from pred_per b where b.k = p.k and b.p = a.to_p
          and b.last_day > ${today}::int - ${o.recentDays}::int)
    ), cand as (
      select * from due union all select * from nxt union all select * from co
    ), best as (
      -- 11M candidates at 1M customers: sorted as integers (pred_prod numbers products in id order,
      -- so p and from_p order as the ids do); the ids and the reason are put in for the three kept.
      select distinct on (k, p) * from cand
      order by k, p, grp, score desc, from_p
    ), ranked as (
      select *, row_number() over (partition by k order by grp, score desc, p) as rank from best
    )
    select ${workspaceId}, c.id, pp.product_id, x.rank,
      case x.grp when 1 then 'due' when 2 then 'next' else 'co_purchase' end, x.score,
      case when x.due_day is null then null else to_timestamp(x.due_day * 86400) end, fp.product_id, ${now}::timestamptz
    from ranked x join pred_cust c on c.k = x.k
    join pred_prod pp on pp.p = x.p
    left join pred_prod fp on fp.p = x.from_p
    where x.rank <= ${o.perCustomer}`.execute(s.db);
  return Number(r.numAffectedRows ?? 0);
}

export interface NextProductsResult {
  orderProducts: number;
  sequences: number;
  coPurchases: number;
  repurchaseProducts: number;
  recommendations: number;
}

/** Affinities, repurchase intervals and recommendations as of `now`, each table rewritten in one transaction. */
export async function computeNextProducts(store: { session: <T>(fn: (s: Session) => Promise<T>) => Promise<T>; db: Kysely<Database> }, workspaceId: number, now: Date, settings?: PredictionSettings, log: (msg: string) => void = () => {}): Promise<NextProductsResult> {
  const o = (settings ?? (await loadPredictionSettings(store.db, workspaceId))).nextProducts;
  return store.session(async (s) => {
    await sql`begin`.execute(s.db);
    try {
      // Sorts and hashes of a million rows in memory, no JIT (the temporary tables are the transaction's).
      await analyticsSession(s.db);
      let t = performance.now();
      const lap = (what: string) => {
        log(`next_products: ${what} in ${Math.round(performance.now() - t)} ms`);
        t = performance.now();
      };
      const counts = await createPurchaseDays(s, workspaceId, now);
      lap('purchase days');
      const aff = await refreshAffinities(s, workspaceId, now, counts, o);
      lap('affinities');
      const rep = await refreshRepurchase(s, workspaceId, now, o);
      lap('repurchase intervals');
      const recs = await refreshRecommendations(s, workspaceId, now, o);
      lap('recommendations');
      await sql`commit`.execute(s.db);
      return { orderProducts: counts.orderProducts, sequences: aff.sequence, coPurchases: aff.co_purchase, repurchaseProducts: rep, recommendations: recs };
    } catch (e) {
      await sql`rollback`.execute(s.db);
      throw e;
    }
  });
}

export const nextProductsStep: Step = {
  name: 'next_products',
  title: { en: 'Next-best products (sequences, co-purchases, repurchase due)', zh: '下一件推荐商品（购买顺序、同单购买、复购到期）' },
  async run(ctx) {
    return { ...(await computeNextProducts(ctx.store, ctx.workspaceId, ctx.now, undefined, ctx.log)) };
  },
};

export interface NextProductRow {
  product_id: string;
  name: string | null;
  category: string | null;
  rank: number;
  reason: 'next' | 'due' | 'co_purchase';
  score: number;
  due_at: Date | null;
  from_product: string | null;
  from_name: string | null;
  computed_at: Date;
}

export async function customerNextProducts(db: Kysely<Database>, workspaceId: number, customerId: string): Promise<NextProductRow[]> {
  const r = await sql<NextProductRow>`
    select n.product_id, p.name, p.category, n.rank, n.reason, n.score, n.due_at, n.from_product, f.name as from_name, n.computed_at
    from customer_next_products n
    left join products p on p.workspace_id = n.workspace_id and p.id = n.product_id
    left join products f on f.workspace_id = n.workspace_id and f.id = n.from_product
    where n.workspace_id = ${workspaceId} and n.customer_id = ${customerId}
    order by n.rank`.execute(db);
  return r.rows;
}

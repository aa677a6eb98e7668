// Products bought again at regular intervals (consumables), from pred_cp: per product
// the median of the intervals between a customer's consecutive purchase days of it,
// kept when at least minRepeatBuyers customers bought it again and they are at least
// minRepeatShare of its buyers (docs/next-best-product.md).
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Session } from '../../db/store.ts';

export async function refreshRepurchase(s: Session, workspaceId: number, now: Date, o: { minRepeatBuyers: number; minRepeatShare: number }): Promise<number> {
  await s.db.deleteFrom('product_repurchase').where('workspace_id', '=', workspaceId).execute();
  const r = await sql`
    insert into product_repurchase (workspace_id, product_id, median_interval_days, buyers, intervals, computed_at)
    with gaps as (
      select customer_id, product_id, day - lag(day) over (partition by customer_id, product_id order by day) as gap
      from pred_cp
    )
    select ${workspaceId}, product_id, percentile_cont(0.5) within group (order by gap), count(distinct customer_id) filter (where gap is not null)::int,
      count(gap)::int, ${now}::timestamptz
    from gaps
    group by product_id
    having count(distinct customer_id) filter (where gap is not null) >= ${o.minRepeatBuyers}
      and count(distinct customer_id) filter (where gap is not null) >= ${o.minRepeatShare}::float8 * count(distinct customer_id)`.execute(s.db);
  return Number(r.numAffectedRows ?? 0);
}

export function repurchaseProducts(db: Kysely<Database>, workspaceId: number) {
  return db
    .selectFrom('product_repurchase as r')
    .leftJoin('products as p', (j) => j.onRef('p.workspace_id', '=', 'r.workspace_id').onRef('p.id', '=', 'r.product_id'))
    .select(['r.product_id', 'p.name', 'r.median_interval_days', 'r.buyers', 'r.intervals', 'r.computed_at'])
    .where('r.workspace_id', '=', workspaceId)
    .orderBy('r.buyers', 'desc')
    .execute();
}

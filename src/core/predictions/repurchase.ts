// Products bought again at regular intervals (consumables), from pred_ol and pred_per
// (affinities.ts): per product the median of the intervals between a customer's
// consecutive purchase days of it, kept when at least minRepeatBuyers customers bought
// it again and they are at least minRepeatShare of its buyers (docs/next-best-product.md).
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Session } from '../../db/store.ts';
import { medianOf } from './affinities.ts';

export async function refreshRepurchase(s: Session, workspaceId: number, now: Date, o: { minRepeatBuyers: number; minRepeatShare: number }): Promise<number> {
  await s.db.deleteFrom('product_repurchase').where('workspace_id', '=', workspaceId).execute();
  // pred_ol holds a product once per order, not once per day: a second order of it on the same
  // day is a gap of 0, which is not an interval between purchase days.
  const r = await sql`
    insert into product_repurchase (workspace_id, product_id, median_interval_days, buyers, intervals, computed_at)
    with gaps as (
      select p, gap, count(*) as c
      from (select p, day - lag(day) over (partition by k, p order by day) as gap from pred_ol) x
      where gap > 0
      group by 1, 2
    ),
    m as (${medianOf('gaps', ['p'], 'gap')}),
    b as (select p, count(*) as buyers, count(*) filter (where first_day < last_day) as repeaters from pred_per group by 1)
    select ${workspaceId}, pp.product_id, m.median, b.repeaters::int, m.n::int, ${now}::timestamptz
    from b join m on m.p = b.p join pred_prod pp on pp.p = b.p
    where b.repeaters >= ${o.minRepeatBuyers}::int and b.repeaters >= ${o.minRepeatShare}::float8 * b.buyers`.execute(s.db);
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

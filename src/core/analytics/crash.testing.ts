// The business, the snapshot and the crash recovery of the crash tests (crash.test.ts),
// also imported by the child process that crashes on purpose there and by the browser test.
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { addCustomer, addEvents, addOrders, DAY, daysBefore, prng } from './testing.ts';

export const T0 = new Date('2026-04-01T06:00:00Z');
export const T1 = new Date(T0.getTime() + 3 * DAY);

/** 160 customers with a year and a half of orders and some activity; a few buy between the two runs. */
export async function business(db: Kysely<Database>): Promise<void> {
  const rnd = prng(33);
  for (let c = 0; c < 160; c++) {
    const id = `k${String(c).padStart(3, '0')}`;
    await addCustomer(db, id);
    const n = rnd() < 0.25 ? 0 : 1 + Math.floor(rnd() * 10);
    await addOrders(db, id, Array.from({ length: n }, () => ({ at: daysBefore(T0, 1 + rnd() * 540), amount: 50 + Math.round(rnd() * 900) })));
    await addEvents(db, id, Array.from({ length: Math.floor(rnd() * 5) }, () => ({ at: daysBefore(T0, rnd() * 70), type: 'login' })));
  }
  for (let c = 0; c < 160; c += 9) await addOrders(db, `k${String(c).padStart(3, '0')}`, [{ at: daysBefore(T1, 1), amount: 400 }]);
}

/** What a user sees of the analytics: every customer's figures and scores, the history, the segments. */
export async function snapshot(db: Kysely<Database>) {
  const rows = (await sql<Record<string, unknown>>`select * from customer_metrics where workspace_id = 1 order by customer_id`.execute(db)).rows;
  return {
    // as_of and inputs_at say which run last wrote a row, not what it holds
    metrics: rows.map(({ as_of: _a, inputs_at: _i, ...r }) => JSON.stringify(r)),
    tiers: (await sql`select customer_id, valid_from, valid_to, tier, rfm_score from tier_history where workspace_id = 1 order by 1, 2`.execute(db)).rows.map((r) => JSON.stringify(r)),
    transitions: (await sql`select customer_id, at, from_stage, to_stage from lifecycle_transitions where workspace_id = 1 order by 1, 2`.execute(db)).rows.map((r) => JSON.stringify(r)),
    members: (await sql`select segment_id, customer_id from segment_members where workspace_id = 1 order by 1, 2`.execute(db)).rows.map((r) => JSON.stringify(r)),
    memberEvents: Number((await sql<{ n: string }>`select count(*) as n from segment_membership_events where workspace_id = 1`.execute(db)).rows[0]!.n),
  };
}

/** What crash recovery does: every unlogged table of the schema emptied. */
export async function emptyUnlogged(db: Kysely<Database>): Promise<string[]> {
  const r = await sql<{ relname: string }>`
    select relname from pg_class where relpersistence = 'u' and relkind = 'r' and relnamespace = 'public'::regnamespace order by 1`.execute(db);
  const names = r.rows.map((x) => x.relname);
  await sql`truncate ${sql.join(names.map((n) => sql.table(n)))}`.execute(db);
  return names;
}

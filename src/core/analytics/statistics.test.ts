// The planner's statistics after a workspace's first analytics pass. customer_metrics and
// the history tables hold every workspace's rows; a new workspace's rows, written right
// after another workspace's pass, must not be planned as none: with the statistics of the
// other workspace alone, the scoring joined its rows by looping over them for each one
// (77 s for 20,000 customers beside 20,000, in a job that otherwise takes about 8 s).
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { forEachStore } from '../../db/testing.ts';
import { runPipeline } from '../pipeline/pipeline.ts';
import { customerMetricsStep, scoringStep } from './analytics.steps.ts';

const N = 3_000;

/** N customers in workspace `ws`, each with one to three paid orders over the last two years. */
async function business(db: Kysely<Database>, ws: number, now: Date): Promise<void> {
  await sql`insert into customers (workspace_id, id) select ${ws}::int, 'c' || g from generate_series(1, ${N}::int) g`.execute(db);
  await sql`
    insert into orders (workspace_id, id, customer_id, ordered_at, amount, status)
    select ${ws}::int, 'o' || g || '-' || k, 'c' || g, ${now}::timestamptz - make_interval(days => (g * 7 + k * 131) % 700 + 1), 20 + g % 50, 'paid'
    from generate_series(1, ${N}::int) g, generate_series(1, 3) k
    where k <= 1 + g % 3`.execute(db);
}

/** The planner's estimate of the workspace's rows in `table`. */
async function estimate(db: Kysely<Database>, table: 'customer_metrics' | 'lifecycle_transitions' | 'tier_history', ws: number): Promise<number> {
  const r = await sql<{ 'QUERY PLAN': unknown }>`explain (format json) select * from ${sql.table(table)} where workspace_id = ${sql.lit(ws)}`.execute(db);
  const plan = r.rows[0]!['QUERY PLAN'];
  const doc = (typeof plan === 'string' ? JSON.parse(plan) : plan) as { Plan: { 'Plan Rows': number } }[];
  return doc[0]!.Plan['Plan Rows'];
}

forEachStore('statistics after a new workspace’s first pass', (get) => {
  it('plans the new workspace’s figures and history on its own rows, not as none', async () => {
    const { db } = get();
    await sql`insert into workspaces (id, slug, name) values (2, 'second', 'Second')`.execute(db);
    const now = new Date('2026-06-01T01:00:00Z');
    await business(db, 1, now);
    await business(db, 2, now);
    const steps = [customerMetricsStep, scoringStep];
    const first = await runPipeline(get(), { workspaceId: 1, now, steps, mode: 'full' });
    assert.equal(first.status, 'done', first.error);
    // at once, as a worker takes the next workspace's job
    const second = await runPipeline(get(), { workspaceId: 2, now, steps, mode: 'full' });
    assert.equal(second.status, 'done', second.error);
    const rows = async (table: 'customer_metrics' | 'lifecycle_transitions' | 'tier_history') =>
      Number((await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)} where workspace_id = 2`.execute(db)).rows[0]!.n);
    for (const table of ['customer_metrics', 'lifecycle_transitions', 'tier_history'] as const) {
      const actual = await rows(table);
      assert.ok(actual >= N, `${table}: ${actual} rows of workspace 2`);
      const planned = await estimate(db, table, 2);
      assert.ok(planned >= actual / 2, `${table}: workspace 2's ${actual} rows planned as ${planned}`);
    }
  });
});

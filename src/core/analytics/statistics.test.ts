// The planner's statistics at a workspace's first analytics pass. Every table holds all
// workspaces' rows; a new workspace's must not be planned as none. With the statistics of
// the other workspace alone, its pass joined its rows by looping over them for each one:
// the scoring took 77 s for 20,000 customers written right after another 20,000 (the
// server's count of changes lagged behind the writes), and a workspace of 8,000 customers
// beside 100,000 (under a tenth of any table) took 51.7 s instead of 0.8 s.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { forEachStore } from '../../db/testing.ts';
import { runPipeline } from '../pipeline/pipeline.ts';
import { customerMetricsStep, scoringStep } from './analytics.steps.ts';

/** Customers `from`…`to` in workspace `ws`, each with one to three paid orders over the last two years. */
async function business(db: Kysely<Database>, ws: number, n: number, now: Date, from = 1): Promise<void> {
  const to = from + n - 1;
  await sql`insert into customers (workspace_id, id) select ${ws}::int, 'c' || g from generate_series(${from}::int, ${to}::int) g`.execute(db);
  await sql`
    insert into orders (workspace_id, id, customer_id, ordered_at, amount, status)
    select ${ws}::int, 'o' || g || '-' || k, 'c' || g, ${now}::timestamptz - make_interval(days => (g * 7 + k * 131) % 700 + 1), 20 + g % 50, 'paid'
    from generate_series(${from}::int, ${to}::int) g, generate_series(1, 3) k
    where k <= 1 + g % 3`.execute(db);
}

type Table = 'customers' | 'orders' | 'customer_metrics' | 'lifecycle_transitions' | 'tier_history';

/** The planner's estimate of the workspace's rows in `table`. */
async function estimate(db: Kysely<Database>, table: Table, ws: number): Promise<number> {
  const r = await sql<{ 'QUERY PLAN': unknown }>`explain (format json) select * from ${sql.table(table)} where workspace_id = ${sql.lit(ws)}`.execute(db);
  const plan = r.rows[0]!['QUERY PLAN'];
  const doc = (typeof plan === 'string' ? JSON.parse(plan) : plan) as { Plan: { 'Plan Rows': number } }[];
  return doc[0]!.Plan['Plan Rows'];
}

forEachStore('statistics after a new workspace’s first pass', (get) => {
  it('plans a new workspace’s data, figures and history on its own rows, not as none', async () => {
    const { db } = get();
    await sql`insert into workspaces (id, slug, name) values (2, 'second', 'Second'), (3, 'third', 'Third'), (4, 'fourth', 'Fourth')`.execute(db);
    const now = new Date('2026-06-01T01:00:00Z');
    const steps = [customerMetricsStep, scoringStep];
    const run = async (ws: number, mode: 'full' | 'incremental' = 'full', at = now) => {
      const r = await runPipeline(get(), { workspaceId: ws, now: at, steps, mode });
      assert.equal(r.status, 'done', r.error);
    };
    const check = async (ws: number, tables: Table[]) => {
      for (const table of tables) {
        const actual = Number((await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)} where workspace_id = ${ws}`.execute(db)).rows[0]!.n);
        assert.ok(actual >= 1_000, `${table}: ${actual} rows of workspace ${ws}`);
        const planned = await estimate(db, table, ws);
        assert.ok(planned >= actual / 2, `${table}: workspace ${ws}'s ${actual} rows planned as ${planned}`);
      }
    };
    await business(db, 1, 12_000, now);
    await business(db, 2, 3_000, now);
    await run(1);
    // right after, as a worker takes the next workspace's job: the server's counts of the
    // rows just written may not be in yet
    await run(2);
    await check(2, ['customer_metrics', 'lifecycle_transitions', 'tier_history']);
    // A workspace of under a tenth of the rows: no table has changed by a tenth, but the
    // statistics know none of its rows.
    await business(db, 3, 1_100, now);
    await run(3);
    await check(3, ['customers', 'orders', 'customer_metrics', 'lifecycle_transitions', 'tier_history']);
    // A small workspace analysed once, then loaded with twenty times as many customers: the
    // next daily (incremental) run recomputes them all, on statistics that know their rows.
    await business(db, 4, 100, now);
    await run(4);
    await business(db, 4, 2_000, now, 101);
    await run(4, 'incremental', new Date(now.getTime() + 86_400_000));
    await check(4, ['customers', 'orders', 'customer_metrics', 'lifecycle_transitions', 'tier_history']);
  });
});

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { sql } from 'kysely';
import { forEachStore } from '../../db/testing.ts';
import { runPipeline } from './pipeline.ts';
import { autovacuumRuns, upkeepStep } from './upkeep.step.ts';

const NOW = new Date('2026-06-01T01:00:00Z');

forEachStore('pipeline upkeep', (get, kind) => {
  it('vacuums and analyzes the tables a run rewrote where autovacuum does not run, and leaves the others', async () => {
    const { db } = get();
    const counters = async (table: string) =>
      (
        await sql<{ dead: number; vacuumed: boolean; analyzed: boolean }>`
          select n_dead_tup::int as dead, last_vacuum is not null as vacuumed, last_analyze is not null as analyzed
          from pg_stat_user_tables where relname = ${table}`.execute(db)
      ).rows[0]!;
    // Two tables of the app's kind: one rewritten (a daily figures table), one barely touched.
    // The writes on one connection, whose counters are then flushed (a session sends its
    // table counters at most once a second, PGlite only when told): the step reads them.
    await db.connection().execute(async (c) => {
      const flush = async () => {
        await sql`select pg_stat_force_next_flush()`.execute(c);
        await sql`select 1`.execute(c);
      };
      await sql`create table upkeep_busy (id int primary key, v int) with (fillfactor = 70)`.execute(c);
      await sql`create table upkeep_quiet (id int primary key, v int)`.execute(c);
      await sql`insert into upkeep_busy select g, 0 from generate_series(1, 5000) g`.execute(c);
      await sql`insert into upkeep_quiet select g, 0 from generate_series(1, 5000) g`.execute(c);
      await flush();
      await sql`vacuum analyze upkeep_busy, upkeep_quiet`.execute(c);
      for (let i = 1; i <= 3; i++) await sql`update upkeep_busy set v = ${i}`.execute(c);
      await sql`update upkeep_quiet set v = 1 where id <= 10`.execute(c);
      await flush();
    });

    const r = await runPipeline(get(), { workspaceId: 1, now: NOW, steps: [upkeepStep] });
    assert.equal(r.status, 'done');
    const result = r.steps[0]!.result as { skipped?: string; vacuumed: string[]; analyzed: string[] };
    const autovacuum = await autovacuumRuns(db);
    // PGlite runs PostgreSQL as one process: no autovacuum, whatever its setting says.
    if (kind === 'pglite') assert.equal(autovacuum, false);
    if (autovacuum) {
      // A server whose autovacuum runs: the step leaves the work to it.
      assert.match(result.skipped ?? '', /autovacuum/);
      assert.deepEqual(result.vacuumed, []);
      return;
    }
    assert.ok(result.vacuumed.includes('upkeep_busy'), `vacuumed: ${result.vacuumed.join(', ')}`);
    assert.ok(!result.vacuumed.includes('upkeep_quiet') && !result.analyzed.includes('upkeep_quiet'));
    await sql`select pg_stat_force_next_flush()`.execute(db);
    const busy = await counters('upkeep_busy');
    assert.equal(busy.dead, 0);
    assert.ok(busy.vacuumed && busy.analyzed);
    // Nothing left to do right after.
    const again = await runPipeline(get(), { workspaceId: 1, now: NOW, steps: [upkeepStep] });
    assert.ok(!(again.steps[0]!.result as { vacuumed: string[] }).vacuumed.includes('upkeep_busy'));
    await sql`drop table upkeep_busy, upkeep_quiet`.execute(db);
  });
});

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { forEachStore } from '../../db/testing.ts';
import { listRuns, runPipeline, type Step } from './pipeline.ts';
import { PIPELINE_STEPS } from './steps.ts';

const NOW = new Date('2026-06-01T01:00:00Z');

function step(name: string, fn: Step['run'] = async () => ({ ok: true }), after?: string[]): Step {
  return { name, title: { en: name, zh: name }, run: fn, ...(after ? { after } : {}) };
}

/** A step that records when it started and ended, taking `ms` (a timer, not CPU). */
function timed(name: string, log: string[], ms: number, after?: string[], fail = false): Step {
  return step(
    name,
    async () => {
      log.push(`${name}:start`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`${name}:end`);
      if (fail) throw new Error(`${name} broke`);
      return undefined;
    },
    after,
  );
}

it('names only earlier steps of the daily pipeline as what a step waits for', () => {
  const names = PIPELINE_STEPS.map((s) => s.name);
  for (const [i, s] of PIPELINE_STEPS.entries()) {
    for (const n of s.after ?? []) assert.ok(names.indexOf(n) >= 0 && names.indexOf(n) < i, `${s.name} waits for ${n}`);
  }
  // the scores read the figures; the steps after the analytics wait for all of them
  assert.deepEqual(PIPELINE_STEPS.find((s) => s.name === 'rfm_lifecycle')?.after, ['customer_metrics']);
  assert.equal(PIPELINE_STEPS.find((s) => s.name === 'segments')?.after, undefined);
});

forEachStore('pipeline runner', (get) => {
  it('runs the steps in order and records status, duration and results', async () => {
    const order: string[] = [];
    const steps = [
      step('a', async (ctx) => {
        order.push('a');
        await ctx.progress(1, 2);
        return { rows: 10 };
      }),
      step('b', async () => {
        order.push('b');
        return undefined;
      }),
    ];
    const r = await runPipeline(get(), { workspaceId: 1, now: NOW, steps });
    assert.equal(r.status, 'done');
    assert.deepEqual(order, ['a', 'b']);
    const [run] = await listRuns(get().db, 1, 1);
    assert.equal(run?.status, 'done');
    const saved = run?.steps as { name: string; status: string; durationMs: number; result?: unknown; progress?: unknown }[];
    assert.deepEqual(saved.map((s) => [s.name, s.status]), [['a', 'done'], ['b', 'done']]);
    assert.deepEqual(saved[0]?.result, { rows: 10 });
    assert.deepEqual(saved[0]?.progress, { done: 1, total: 2 });
    assert.ok(saved.every((s) => typeof s.durationMs === 'number'));
  });

  it('stops at a failing step, names it, and skips the rest', async () => {
    const steps = [step('ok'), step('boom', async () => { throw new Error('division by zero in rfm'); }), step('never')];
    const r = await runPipeline(get(), { workspaceId: 1, now: NOW, steps });
    assert.equal(r.status, 'failed');
    assert.equal(r.error, 'step boom failed: division by zero in rfm');
    assert.deepEqual(r.steps.map((s) => s.status), ['done', 'failed', 'skipped']);
  });

  it('passes the last successful run as `since` in incremental mode', async () => {
    let seen: { since: Date | null; mode: string } | null = null;
    const steps = [step('probe', async (ctx) => { seen = { since: ctx.since, mode: ctx.mode }; return undefined; })];
    await runPipeline(get(), { workspaceId: 1, now: NOW, steps, mode: 'incremental' });
    assert.equal(seen!.mode, 'incremental');
    assert.ok(seen!.since instanceof Date);
    await assert.rejects(runPipeline(get(), { workspaceId: 1, now: NOW, steps, only: ['nope'] }), /unknown pipeline step nope; the steps are: probe/);
  });

  it('runs steps that do not depend on each other at once on a server, one by one on PGlite, and never before their dependencies', async () => {
    const log: string[] = [];
    // figures → scores; cohorts beside them; report waits for everything before it
    const steps = [
      timed('figures', log, 80, []),
      timed('scores', log, 40, ['figures']),
      timed('cohorts', log, 60, []),
      timed('report', log, 10),
    ];
    const r = await runPipeline(get(), { workspaceId: 1, now: NOW, steps });
    assert.equal(r.status, 'done');
    const at = (e: string) => log.indexOf(e);
    assert.ok(at('figures:end') < at('scores:start'), log.join(' '));
    for (const s of ['figures', 'scores', 'cohorts']) assert.ok(at(`${s}:end`) < at('report:start'), log.join(' '));
    if (get().kind === 'postgres') {
      // cohorts started while figures ran
      assert.ok(at('cohorts:start') < at('figures:end'), log.join(' '));
    } else {
      assert.deepEqual(log, ['figures:start', 'figures:end', 'scores:start', 'scores:end', 'cohorts:start', 'cohorts:end', 'report:start', 'report:end']);
    }
    // the saved run shows every step done, in pipeline order, whatever order they finished in
    const [run] = await listRuns(get().db, 1, 1);
    assert.deepEqual(((run?.steps ?? []) as { name: string; status: string }[]).map((s) => `${s.name}:${s.status}`), ['figures:done', 'scores:done', 'cohorts:done', 'report:done']);
  });

  it('lets a step already running beside a failed one finish, starts nothing new, and names the failure', async () => {
    const log: string[] = [];
    const steps = [
      timed('figures', log, 20, [], true),
      timed('scores', log, 10, ['figures']),
      timed('cohorts', log, 60, []),
      timed('report', log, 10),
    ];
    const r = await runPipeline(get(), { workspaceId: 1, now: NOW, steps, concurrency: 2 });
    assert.equal(r.status, 'failed');
    assert.equal(r.error, 'step figures failed: figures broke');
    const status = Object.fromEntries(r.steps.map((s) => [s.name, s.status]));
    assert.equal(status.scores, 'skipped');
    assert.equal(status.report, 'skipped');
    // cohorts had started beside figures (concurrency 2 asked for) and was left to finish
    assert.equal(status.cohorts, 'done');
    assert.ok(!log.includes('scores:start') && !log.includes('report:start'), log.join(' '));
  });

  it('refuses a workspace that does not exist before any step runs or any run is recorded', async () => {
    let ran = false;
    const steps = [
      step('a', async () => {
        ran = true;
        return undefined;
      }),
    ];
    await assert.rejects(runPipeline(get(), { workspaceId: 404, now: NOW, steps }), /workspace 404 does not exist/);
    assert.equal(ran, false);
    assert.deepEqual(await listRuns(get().db, 404, 5), []);
  });

  it('refuses a step that waits for a later one', async () => {
    const steps = [step('a', undefined, ['b']), step('b')];
    await assert.rejects(runPipeline(get(), { workspaceId: 1, now: NOW, steps }), /pipeline step a waits for b, which comes after it/);
  });
});

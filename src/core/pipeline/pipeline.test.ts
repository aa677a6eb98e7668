import assert from 'node:assert/strict';
import { it } from 'node:test';
import { forEachStore } from '../../db/testing.ts';
import { listRuns, runPipeline, type Step } from './pipeline.ts';

const NOW = new Date('2026-06-01T01:00:00Z');

function step(name: string, fn: Step['run'] = async () => ({ ok: true })): Step {
  return { name, title: { en: name, zh: name }, run: fn };
}

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
});

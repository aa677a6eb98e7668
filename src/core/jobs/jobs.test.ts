import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { it } from 'node:test';
import { openStore } from '../../db/store.ts';
import { forEachStore } from '../../db/testing.ts';
import { claimJob } from './jobs.repository.ts';
import { createWorker, enqueue, getJob, upsertSchedule } from './queue.ts';
import { enqueueDueSchedules } from './schedules.ts';

const T0 = new Date('2026-03-01T00:00:00Z');

forEachStore('job queue', (get, kind) => {
  it('runs a queued job once and records its result', async () => {
    const { db } = get();
    const store = get();
    const id = (await enqueue(db, { workspaceId: 1, task: 'add', payload: { a: 2, b: 3 }, runAt: T0 }))!;
    const w = createWorker({ store, handlers: { add: async ({ payload }) => ({ sum: Number(payload.a) + Number(payload.b) }) }, now: () => T0 });
    assert.equal(await w.runOnce(), true);
    assert.equal(await w.runOnce(), false);
    const job = await getJob(db, id);
    assert.equal(job?.status, 'done');
    assert.deepEqual(job?.result, { sum: 5 });
  });

  it('ignores a second job with the same key', async () => {
    const { db } = get();
    const a = await enqueue(db, { workspaceId: 1, task: 'noop', key: 'once' });
    const b = await enqueue(db, { workspaceId: 1, task: 'noop', key: 'once' });
    assert.ok(a);
    assert.equal(b, null);
  });

  it('retries a failing job with back-off, then marks it failed with the error', async () => {
    const store = get();
    let now = T0;
    let calls = 0;
    const id = (await enqueue(store.db, { workspaceId: 1, task: 'flaky', maxAttempts: 2, runAt: T0 }))!;
    const w = createWorker({
      store,
      handlers: {
        flaky: async () => {
          calls++;
          throw new Error('upstream is down');
        },
      },
      now: () => now,
      retryDelayMs: () => 60_000,
    });
    assert.equal(await w.runOnce(), true);
    assert.equal((await getJob(store.db, id))?.status, 'queued');
    assert.equal(await w.runOnce(), false, 'not before the back-off');
    now = new Date(T0.getTime() + 61_000);
    assert.equal(await w.runOnce(), true);
    const job = await getJob(store.db, id);
    assert.equal(job?.status, 'failed');
    assert.equal(job?.attempts, 2);
    assert.equal(job?.last_error, 'upstream is down');
    assert.equal(calls, 2);
  });

  it("hands a dead worker's job to another worker", async () => {
    const store = get();
    const id = (await enqueue(store.db, { workspaceId: 1, task: 'report', runAt: T0 }))!;
    // Worker A claims it and then dies: no heartbeat, no completion.
    assert.ok(await claimJob(store.db, 'worker-A', ['report'], T0));
    const later = new Date(T0.getTime() + 5 * 60_000);
    const b = createWorker({ store, workerId: 'worker-B', handlers: { report: async () => 'ok' }, now: () => later, staleMs: 60_000 });
    assert.equal(await b.runOnce(), true);
    const job = await getJob(store.db, id);
    assert.equal(job?.status, 'done');
    assert.equal(job?.locked_by, 'worker-B');
    assert.equal(job?.attempts, 2);
  });

  it('enqueues a daily 09:00 schedule once per occurrence in its time zone', async () => {
    const { db } = get();
    // 2026-03-01 00:00 UTC is 08:00 in Shanghai: the next 09:00 there is 01:00 UTC.
    await upsertSchedule(db, { workspaceId: 1, name: 'daily', task: 'pipeline', cron: '0 9 * * *', timeZone: 'Asia/Shanghai' }, T0);
    assert.deepEqual(await enqueueDueSchedules(db, new Date('2026-03-01T00:59:00Z')), []);
    const due = new Date('2026-03-01T01:00:30Z');
    const [a, b] = await Promise.all([enqueueDueSchedules(db, due), enqueueDueSchedules(db, due)]);
    assert.equal(a.length + b.length, 1, 'two processes seeing the same occurrence enqueue it once');
    const s = await db.selectFrom('schedules').selectAll().executeTakeFirstOrThrow();
    assert.equal(s.next_run_at.toISOString(), '2026-03-02T01:00:00.000Z');
    await assert.rejects(upsertSchedule(db, { workspaceId: 1, name: "x", task: "t", cron: "not cron", timeZone: "UTC" }, T0), /invalid cron expression "not cron"/);
  });

  if (kind === 'postgres') {
    it('shares work between two worker processes without running a job twice', async () => {
      const url = get().url!;
      const ids: number[] = [];
      for (let i = 0; i < 40; i++) ids.push((await enqueue(get().db, { workspaceId: 1, task: 'count', payload: { i } }))!);
      const second = await openStore({ databaseUrl: url, poolSize: 2 });
      const runs = new Map<number, number>();
      const handler = async ({ job }: { job: { id: number } }) => {
        runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
        await new Promise((r) => setTimeout(r, 2));
        return null;
      };
      const w1 = createWorker({ store: get(), handlers: { count: handler }, workerId: 'w1' });
      const w2 = createWorker({ store: second, handlers: { count: handler }, workerId: 'w2' });
      const drain = async (w: typeof w1) => {
        while (await w.runOnce()) {}
      };
      await Promise.all([drain(w1), drain(w2)]);
      await second.close();
      assert.equal(runs.size, 40);
      assert.ok([...runs.values()].every((n) => n === 1));
      const by = await get().db.selectFrom('jobs').select(['locked_by']).where('task', '=', 'count').execute();
      assert.ok(new Set(by.map((r) => r.locked_by)).size === 2, 'both workers took jobs');
    });

    it('retries the job of a worker process that was killed mid-job', async () => {
      const url = get().url!;
      const id = (await enqueue(get().db, { workspaceId: 1, task: 'slow' }))!;
      // A separate process claims the job, then is killed with SIGKILL.
      const child = spawn(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `import { openStore } from ${JSON.stringify(new URL('../../db/store.ts', import.meta.url).href)};
           import { createWorker } from ${JSON.stringify(new URL('./worker.ts', import.meta.url).href)};
           const store = await openStore({ databaseUrl: ${JSON.stringify(url)} });
           const w = createWorker({ store, workerId: 'doomed', heartbeatMs: 50,
             handlers: { slow: async () => { process.stdout.write('started\\n'); await new Promise(() => {}); } } });
           await w.runOnce();`,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      await new Promise<void>((resolve) => child.stdout.on('data', (d) => String(d).includes('started') && resolve()));
      child.kill('SIGKILL');
      await new Promise((r) => child.on('exit', r));
      assert.equal((await getJob(get().db, id))?.status, 'running');
      const rescuer = createWorker({ store: get(), workerId: 'rescuer', staleMs: 200, handlers: { slow: async () => 'finished' } });
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(await rescuer.runOnce(), true);
      const job = await getJob(get().db, id);
      assert.equal(job?.status, 'done');
      assert.equal(job?.locked_by, 'rescuer');
    });
  }
});

// The daily pipeline on a demo business: a full run with the time of each step
// and the peak memory, then an incremental day (a day of new orders and events
// imported through runImport, then `mode: 'incremental'`); and a batch of
// queued pipeline jobs run by one worker process and then by two.
// Targets (issue "Customer analytics"): the analytics pass (customer_metrics,
// rfm_lifecycle, cohorts, kpis) at 1M customers ≤ 60 s on PostgreSQL, an
// incremental day ≤ 5 s, peak memory ≤ 2 GB. Each step's CPU is printed too: the
// PostgreSQL backends' (utime + stime from /proc) and this process's, which a shared
// machine's load inflates far less than wall time.
//
//   npm run bench -- pipeline                         # pg (100k), pglite (100k), workers
//   LIUKE_BENCH_PIPELINE_1M=1 npm run bench -- pipeline  # and 1M customers on PostgreSQL
//   LIUKE_BENCH_PIPELINE=pg1m npm run bench -- pipeline  # parts: pg, pglite, pg1m, workers
//   LIUKE_BENCH_STEPS=customer_metrics,rfm_lifecycle,cohorts,kpis   # only these steps (default: all)
//   LIUKE_BENCH_CUSTOMERS=20000                       # the size of the pg and pglite cases
//   LIUKE_BENCH_KEEP_DB=1                             # keep the loaded PostgreSQL database (name printed)
//   LIUKE_BENCH_DB=liuke_bench_pipeline_123           # reuse a kept database: no load, not dropped
//   LIUKE_BENCH_DROP=liuke_bench_pipeline_123         # drop a kept database and exit
//   LIUKE_BENCH_DAYS=3                                # incremental days in a row after the full run (default 1)
//   LIUKE_BENCH_VACUUM=1                              # vacuum analyze and a checkpoint before each day, as between daily runs
//   LIUKE_BENCH_WORKER_JOBS=4 LIUKE_BENCH_WORKER_CUSTOMERS=20000
//   LIUKE_BENCH_CONCURRENCY=1                         # steps at once (default: the runner's, 2 on PostgreSQL)
//
// Every PostgreSQL run gets a throw-away database on the local server, dropped
// afterwards; PGlite runs in a temporary folder, removed afterwards. Each case
// runs in its own process so its peak RSS is its own; on PostgreSQL the peak
// RSS of the server processes serving the bench database is sampled too.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import pg from 'pg';
import { refreshCustomerStats } from '../src/core/customers/customers.stats.ts';
import { createDemoBusiness } from '../src/core/demo/demo.service.ts';
import { runImport } from '../src/core/imports/import.service.ts';
import { createWorker, enqueue } from '../src/core/jobs/queue.ts';
import { pipelineHandler } from '../src/core/pipeline/pipeline.job.ts';
import { type RunResult, runPipeline, type StepState } from '../src/core/pipeline/pipeline.ts';
import { PIPELINE_STEPS, PIPELINE_TASK } from '../src/core/pipeline/steps.ts';
import { migrate } from '../src/db/migrate.ts';
import { openStore, type Store } from '../src/db/store.ts';
import { cpuSeconds } from './proc.ts';

const self = fileURLToPath(import.meta.url);
const ADMIN_URL = process.env.LIUKE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const NOW = new Date('2025-06-30T12:00:00Z');
const DAY = 86_400_000;
const ANALYTICS = ['customer_metrics', 'rfm_lifecycle', 'cohorts', 'kpis'];
/** LIUKE_BENCH_VACUUM=1: `vacuum analyze` and `checkpoint` before each incremental day, as autovacuum and the checkpointer would between daily runs. */
const VACUUM = process.env.LIUKE_BENCH_VACUUM === '1';
const STEP_NAMES = process.env.LIUKE_BENCH_STEPS?.split(',').filter(Boolean);
const STEPS = STEP_NAMES ? PIPELINE_STEPS.filter((s) => STEP_NAMES.includes(s.name)) : PIPELINE_STEPS;
/** LIUKE_BENCH_CONCURRENCY: how many independent steps run at once (unset: the runner's default). */
const CONCURRENCY = process.env.LIUKE_BENCH_CONCURRENCY ? { concurrency: Number(process.env.LIUKE_BENCH_CONCURRENCY) } : {};
const SAFE_DB = /^liuke_bench_pipeline_\d+(_[a-z0-9]+)?$/;

const fmt = (n: number) => Math.round(n).toLocaleString('en');
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const mb = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MB`;
const load = () => os.loadavg().map((x) => x.toFixed(1)).join(' ');

function dbUrl(name: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function dropDb(name: string): Promise<void> {
  if (!SAFE_DB.test(name)) throw new Error(`refusing to drop ${name}: not a pipeline bench database`);
  await admin((c) => c.query(`drop database if exists ${name} with (force)`));
}

/** Peak RSS (VmHWM) of the PostgreSQL server processes serving `db`, sampled while fn runs. */
async function withServerPeak<T>(dbName: string, fn: () => Promise<T>): Promise<{ value: T; serverPeak: number }> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  let peak = 0;
  let stop = false;
  const sample = async () => {
    while (!stop) {
      try {
        const r = await c.query<{ pid: number }>('select pid from pg_stat_activity where datname = $1', [dbName]);
        for (const { pid } of r.rows) {
          const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
          if (m) peak = Math.max(peak, Number(m[1]) * 1024);
        }
      } catch {
        // a backend that ended between the query and the read
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  const sampler = sample();
  try {
    const value = await fn();
    return { value, serverPeak: peak };
  } finally {
    stop = true;
    await sampler;
    await c.end();
  }
}

/** CPU seconds (user + system) of each PostgreSQL backend serving `dbName`, by pid. */
async function serverCpu(dbName: string): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  await admin(async (c) => {
    const r = await c.query<{ pid: number }>('select pid from pg_stat_activity where datname = $1', [dbName]);
    for (const { pid } of r.rows) {
      const cpu = cpuSeconds(pid);
      if (cpu !== null) out.set(pid, cpu); // else a backend that ended in between
    }
  });
  return out;
}

/** Wraps steps so each records its server CPU (PostgreSQL backends) and this process's CPU. */
function cpuTimed(steps: typeof STEPS, dbName: string | null, into: Map<string, { server: number; client: number }>): typeof STEPS {
  return steps.map((step) => ({
    ...step,
    async run(ctx) {
      const c0 = process.cpuUsage();
      const { value, cpu } = await runCpu(dbName, () => step.run(ctx));
      const c1 = process.cpuUsage(c0);
      into.set(step.name, { server: cpu, client: (c1.user + c1.system) / 1e6 });
      return value;
    },
  }));
}

function printCpu(label: string, cpu: Map<string, { server: number; client: number }>, run?: { cpu: number; wal: number }): void {
  let server = 0;
  let client = 0;
  for (const [name, v] of cpu) {
    if (ANALYTICS.includes(name)) {
      server += v.server;
      client += v.client;
    }
    console.log(`  ${label.padEnd(12)} ${name.padEnd(18)} CPU: server ${v.server.toFixed(2)} s, bench process ${v.client.toFixed(2)} s`);
  }
  console.log(`  ${label.padEnd(12)} ${'analytics'.padEnd(18)} CPU: server ${server.toFixed(2)} s, bench process ${client.toFixed(2)} s (per step: steps running at once count each other's)`);
  if (run !== undefined) {
    // WAL of the whole server while the run went on (the bench is the only writer): a logged
    // table's first change of a page after a checkpoint writes the whole page to it
    console.log(`  ${label.padEnd(12)} ${'whole run'.padEnd(18)} CPU: server ${run.cpu.toFixed(2)} s; WAL written ${mb(run.wal)}`);
  }
}

/** The database's backends' CPU seconds spent while fn ran (0 without a server database). */
async function runCpu<T>(dbName: string | null, fn: () => Promise<T>, withWal = false): Promise<{ value: T; cpu: number; wal: number }> {
  const a = dbName ? await serverCpu(dbName) : new Map<number, number>();
  // not around each step: the steps' times would include the extra connections
  const w0 = dbName && withWal ? await walPosition() : 0;
  const value = await fn();
  const b = dbName ? await serverCpu(dbName) : new Map<number, number>();
  const wal = dbName && withWal ? (await walPosition()) - w0 : 0;
  let cpu = 0;
  for (const [pid, v] of b) cpu += v - (a.get(pid) ?? 0);
  return { value, cpu, wal };
}

/** The server's WAL insert position, in bytes. */
async function walPosition(): Promise<number> {
  return admin(async (c) => Number((await c.query<{ b: string }>(`select pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text as b`)).rows[0]!.b));
}

/**
 * Prints each step's time and returns the analytics steps' wall time: from the first
 * one's start to the last one's end (steps that run at once overlap; their sum is
 * printed too).
 */
function printSteps(label: string, steps: StepState[]): number {
  let sum = 0;
  let total = 0;
  let from = Infinity;
  let to = -Infinity;
  // each step's start and end are printed from the run's first start (a step may not have run)
  const t0 = Math.min(...steps.flatMap((s) => (s.startedAt ? [Date.parse(s.startedAt)] : [])));
  const at = (iso: string) => ((Date.parse(iso) - t0) / 1000).toFixed(1);
  for (const s of steps) {
    const ms = s.durationMs ?? 0;
    total += ms;
    if (ANALYTICS.includes(s.name)) {
      sum += ms;
      if (s.startedAt) from = Math.min(from, Date.parse(s.startedAt));
      if (s.finishedAt) to = Math.max(to, Date.parse(s.finishedAt));
    }
    const span = s.startedAt && s.finishedAt ? `  (${at(s.startedAt)} → ${at(s.finishedAt)} s)` : '';
    console.log(`  ${label.padEnd(12)} ${s.name.padEnd(18)} ${s.status.padEnd(7)} ${secs(ms).padStart(9)}${span}${s.error ? `  ${s.error}` : ''}`);
  }
  const wall = Number.isFinite(from) ? to - from : 0;
  console.log(`  ${label.padEnd(12)} ${'analytics'.padEnd(18)} ${''.padEnd(7)} ${secs(wall).padStart(9)}   wall, first start to last end of customer_metrics, rfm_lifecycle, cohorts, kpis (their sum ${secs(sum)})`);
  console.log(`  ${label.padEnd(12)} ${'all steps'.padEnd(18)} ${''.padEnd(7)} ${secs(total).padStart(9)}   (sum)`);
  return wall;
}

/** Day k (1, 2, …) after NOW: new orders and events for existing customers, as CSV files. */
async function writeDay(store: Store, dir: string, customers: number, k = 1): Promise<{ orders: string; events: string; nOrders: number; nEvents: number }> {
  const nOrders = Math.max(10, Math.round(customers * 0.014));
  const nEvents = Math.max(30, Math.round(customers * 0.04));
  // nEvents customers drawn evenly from the whole table, the same ones for a day k on the
  // same data. A block sample (tablesample system) came short on a reused database, whose
  // customers table has half-empty pages: one day drew 17,657 customers for 40,000 events.
  // (Days with the block sample's neighbouring customers, enough of them, took as long as
  // with these: bench/RESULTS.md, twentieth session.)
  const ids = (
    await sql<{ id: string }>`select id from customers where workspace_id = 1 and not is_stub order by md5(id || ${String(k)}) limit ${nEvents}`.execute(store.db)
  ).rows.map((r) => r.id);
  const at = (i: number, n: number) => new Date(NOW.getTime() + (k - 1) * DAY + Math.floor(((i + 0.5) / n) * DAY)).toISOString();
  const orders = ['order_id,customer_id,ordered_at,amount,status'];
  // The buyers spread over the sample (a block sample listed customers in id order after a
  // demo load, and its first 14,000 put every order of a 1M day in the first shard).
  const buyer = (i: number) => ids[Math.floor((i * ids.length) / nOrders)];
  for (let i = 0; i < nOrders; i++) orders.push(`DAY${k}-${i},${buyer(i)},${at(i, nOrders)},${(20 + ((i * 37) % 500)).toFixed(2)},paid`);
  const types = ['login', 'page_view', 'add_to_cart', 'search'];
  const events = ['customer_id,type,occurred_at'];
  for (let i = 0; i < nEvents; i++) events.push(`${ids[(i * 7) % ids.length]},${types[i % types.length]},${at(i, nEvents)}`);
  const o = path.join(dir, 'orders-day.csv');
  const e = path.join(dir, 'events-day.csv');
  writeFileSync(o, `${orders.join('\n')}\n`);
  writeFileSync(e, `${events.join('\n')}\n`);
  return { orders: o, events: e, nOrders, nEvents };
}

async function pipelineCase(kind: 'postgres' | 'pglite', customers: number): Promise<void> {
  const reuse = process.env.LIUKE_BENCH_DB;
  const keep = process.env.LIUKE_BENCH_KEEP_DB === '1' || Boolean(reuse);
  const name = reuse ?? `liuke_bench_pipeline_${process.pid}`;
  if (kind === 'postgres' && !SAFE_DB.test(name)) throw new Error(`LIUKE_BENCH_DB must look like liuke_bench_pipeline_<n>[_<suffix>]: ${name}`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'liuke-pipeline-bench-'));
  let store: Store;
  if (kind === 'postgres') {
    if (!reuse) await admin((c) => c.query(`create database ${name}`));
    store = await openStore({ databaseUrl: dbUrl(name), poolSize: 4 });
  } else {
    store = await openStore({ dataDir: path.join(dir, 'data') });
  }
  const label = `${kind === 'postgres' ? 'PostgreSQL' : 'PGlite'} ${customers >= 1e6 ? `${customers / 1e6}M` : `${customers / 1e3}k`}`;
  const measure = <T>(fn: () => Promise<T>) => (kind === 'postgres' ? withServerPeak(name, fn) : fn().then((value) => ({ value, serverPeak: 0 })));
  try {
    await migrate(store);
    console.log(`\n${label}: load average ${load()} at the start`);
    if (kind === 'postgres') {
      // The server's memory and WAL settings move these figures (docs/architecture.md, "Server settings").
      const names = ['shared_buffers', 'work_mem', 'max_wal_size', 'checkpoint_timeout', 'autovacuum'];
      const r = await sql<{ name: string; setting: string }>`
        select name, current_setting(name) as setting from pg_settings where name = any(${names}::text[]) order by array_position(${names}::text[], name)`.execute(store.db);
      console.log(`  server: PostgreSQL ${(await sql<{ v: string }>`select current_setting('server_version') as v`.execute(store.db)).rows[0]!.v}, ${r.rows.map((x) => `${x.name} ${x.setting}`).join(', ')}`);
    }
    if (!reuse) {
      const t0 = performance.now();
      let last = 0;
      const r = await createDemoBusiness(store, {
        customers,
        seed: 1,
        industry: 'retail',
        now: NOW,
        onProgress: (done) => {
          if (done - last >= customers / 10) {
            last = done;
            process.stderr.write(`  ${label}: ${fmt(done)} customers loaded\n`);
          }
        },
      });
      const rows = Object.values(r.rows).reduce((a, b) => a + b, 0);
      console.log(`  demo load: ${secs(performance.now() - t0)}, ${fmt(rows)} rows (${Object.entries(r.rows).map(([t, n]) => `${t} ${fmt(n)}`).join(', ')})`);
      if (kind === 'postgres') await sql`vacuum analyze`.execute(store.db);
    }
    if (reuse) {
      // A kept database has the day of a previous run (after NOW): take it out so the day imports anew.
      await sql`delete from order_lines where workspace_id = 1 and order_id in (select id from orders where workspace_id = 1 and ordered_at > ${NOW})`.execute(store.db);
      const gone = await sql<{ customer_id: string }>`
        delete from orders where workspace_id = 1 and ordered_at > ${NOW} returning customer_id`.execute(store.db);
      await sql`delete from events where workspace_id = 1 and occurred_at > ${NOW}`.execute(store.db);
      // The app deletes no orders; this delete behind its back left those customers' list
      // summary counting them, and the full run below would spend 6-8 s putting 14k customer
      // rows right, a cost no real full run has. Done here, outside the timing.
      await refreshCustomerStats(store.db, 1, gone.rows.map((r) => r.customer_id));
      // The history the previous run's days wrote goes too: left, each day here would be a
      // run redone at the same time (its history rows upserted over the old ones), which
      // costs more than a new day's plain inserts and is not what a daily run does.
      await sql`delete from lifecycle_transitions where workspace_id = 1 and at > ${NOW}`.execute(store.db);
      await sql`delete from tier_history where workspace_id = 1 and valid_from > ${NOW}`.execute(store.db);
      await sql`update tier_history set valid_to = null where workspace_id = 1 and valid_to > ${NOW}`.execute(store.db);
    }
    // A reused database's day is sized by the customers it holds (to two significant digits,
    // so a 1M demo's day is the 14,000 orders and 40,000 events of a fresh one), whatever case
    // reuses it: the `pg` case on a 1M database wrote a 100k-sized day.
    const held = reuse ? Number((await sql<{ n: string }>`select count(*) as n from customers where workspace_id = 1`.execute(store.db)).rows[0]!.n) : 0;
    const dayCustomers = held > 0 ? Number(held.toPrecision(2)) : customers;
    const before = process.resourceUsage().maxRSS * 1024;
    const cpuFull = new Map<string, { server: number; client: number }>();
    const cpuInc = new Map<string, { server: number; client: number }>();
    const pgName = kind === 'postgres' ? name : null;
    const fullRun = await runCpu(pgName, () =>
      measure(() => runPipeline(store, { workspaceId: 1, now: NOW, steps: cpuTimed(STEPS, pgName, cpuFull), mode: 'full', ...CONCURRENCY })), true,
    );
    const full = fullRun.value;
    console.log(`  full run (load average ${load()}):`);
    const analytics = printSteps('full', full.value.steps);
    printCpu('full', cpuFull, pgName ? fullRun : undefined);
    const fullPeak = process.resourceUsage().maxRSS * 1024;
    console.log(
      `  peak RSS: bench process ${mb(fullPeak)} (${mb(before)} before the run)${kind === 'postgres' ? `, largest PostgreSQL backend ${mb(full.serverPeak)}` : ' (PGlite runs inside it)'}`,
    );

    // Incremental days: each imports a day of new orders and events through the import
    // path, then runs the incremental pass at the end of that day. LIUKE_BENCH_DAYS runs
    // several in a row (the daily case: the later ones start from an incremental run).
    const days = Math.max(1, Number(process.env.LIUKE_BENCH_DAYS ?? 1));
    let inc!: { value: RunResult; serverPeak: number };
    let incAnalytics = 0;
    for (let k = 1; k <= days; k++) {
      const end = new Date(NOW.getTime() + k * DAY);
      if (VACUUM && kind === 'postgres') {
        // What autovacuum does between two daily runs, where the server runs it (this
        // machine's CI configuration turns it off): dead rows of the last run's rewrites
        // cleared, visibility map and statistics brought up to date.
        const tv = performance.now();
        await sql`vacuum analyze`.execute(store.db);
        // And a checkpoint, as a day between two runs always has one: the run's first change
        // of each page of a logged table then writes the whole page to the WAL again. Without
        // it, days run a minute after the last pass, with a large max_wal_size, skipped that
        // (15-19 MB of WAL a day against 130-210 MB).
        await sql`checkpoint`.execute(store.db);
        console.log(`  vacuum analyze and checkpoint before day ${k} (autovacuum's and the checkpointer's work; not part of the run): ${secs(performance.now() - tv)}`);
      }
      const day = await writeDay(store, dir, dayCustomers, k);
      const t1 = performance.now();
      const ro = await runImport(store, { workspaceId: 1, entity: 'orders', input: { path: day.orders }, fileName: 'orders-day.csv', actor: 'bench', now: end });
      const tOrders = performance.now() - t1;
      const t2 = performance.now();
      const re = await runImport(store, { workspaceId: 1, entity: 'events', input: { path: day.events }, fileName: 'events-day.csv', actor: 'bench', now: end });
      const tEvents = performance.now() - t2;
      if (ro.inserted !== day.nOrders || re.inserted !== day.nEvents) throw new Error(`day import: ${ro.inserted}/${day.nOrders} orders, ${re.inserted}/${day.nEvents} events`);
      console.log(`  day ${k} import: ${fmt(day.nOrders)} orders in ${secs(tOrders)}, ${fmt(day.nEvents)} events in ${secs(tEvents)} (load average ${load()})`);
      cpuInc.clear();
      const incRun = await runCpu(pgName, () =>
        measure(() => runPipeline(store, { workspaceId: 1, now: end, steps: cpuTimed(STEPS, pgName, cpuInc), mode: 'incremental', ...CONCURRENCY })), true,
      );
      inc = incRun.value;
      console.log(`  incremental run, day ${k} (load average ${load()}):`);
      incAnalytics = printSteps('incremental', inc.value.steps);
      printCpu('incremental', cpuInc, pgName ? incRun : undefined);
    }
    const mode = inc.value.steps.find((s) => s.name === 'customer_metrics')?.result?.mode;
    console.log(`  customer_metrics ran as: ${mode ?? '(not run)'}; peak RSS ${mb(process.resourceUsage().maxRSS * 1024)}`);
    console.log(
      `  ${label}: analytics full ${secs(analytics)}, incremental ${secs(incAnalytics)}; ` +
        `peak RSS ${mb(process.resourceUsage().maxRSS * 1024)}${kind === 'postgres' ? ` + largest backend ${mb(Math.max(full.serverPeak, inc.serverPeak))}` : ''}`,
    );
    if (full.value.status !== 'done' || inc.value.status !== 'done') process.exitCode = 1;
  } finally {
    await store.close();
    if (kind === 'postgres') {
      if (keep) console.log(`  kept database ${name} (drop it with LIUKE_BENCH_DROP=${name} npm run bench -- pipeline)`);
      else await dropDb(name);
    }
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs queued jobs until none is left, in this process. */
async function workerChild(url: string): Promise<void> {
  const store = await openStore({ databaseUrl: url, poolSize: 3 });
  try {
    const w = createWorker({ store, handlers: { [PIPELINE_TASK]: pipelineHandler }, pollMs: 100 });
    while (await w.runOnce());
  } finally {
    await store.close();
  }
}

async function workersCase(): Promise<void> {
  const jobs = Number(process.env.LIUKE_BENCH_WORKER_JOBS ?? 4);
  const customers = Number(process.env.LIUKE_BENCH_WORKER_CUSTOMERS ?? 20_000);
  const name = `liuke_bench_pipeline_${process.pid}`;
  await admin((c) => c.query(`create database ${name}`));
  const url = dbUrl(name);
  const store = await openStore({ databaseUrl: url, poolSize: 2 });
  try {
    await migrate(store);
    console.log(`\nworkers: ${jobs} workspaces of ${fmt(customers)} demo customers, one pipeline job each (${STEPS.length} steps); load average ${load()}`);
    for (let w = 1; w <= jobs; w++) {
      if (w > 1) await sql`insert into workspaces (id, slug, name) values (${w}, ${`bench-${w}`}, ${`Bench ${w}`})`.execute(store.db);
      await createDemoBusiness(store, { customers, seed: w, industry: 'retail', now: NOW, workspaceId: w });
    }
    await sql`vacuum analyze`.execute(store.db);
    const only = STEP_NAMES ? { only: STEPS.map((s) => s.name) } : {};
    const times: Record<number, number> = {};
    for (const processes of [1, 2]) {
      for (let w = 1; w <= jobs; w++) await enqueue(store.db, { workspaceId: w, task: PIPELINE_TASK, payload: { mode: 'full', ...only } });
      const t0 = performance.now();
      await Promise.all(
        Array.from(
          { length: processes },
          () =>
            new Promise<void>((resolve, reject) => {
              const p = spawn(process.execPath, [self, 'worker', url], { stdio: ['ignore', 'inherit', 'inherit'] });
              p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker exited with ${code}`))));
            }),
        ),
      );
      times[processes] = performance.now() - t0;
      const r = await sql<{ status: string; n: number }>`select status, count(*)::integer as n from jobs group by status`.execute(store.db);
      console.log(
        `  ${processes} worker process${processes > 1 ? 'es' : ''}: ${jobs} jobs in ${secs(times[processes]!)} (${r.rows.map((x) => `${x.status} ${x.n}`).join(', ')}); load average ${load()}`,
      );
      await sql`delete from jobs`.execute(store.db);
    }
    console.log(`  speed-up with two processes: ${(times[1]! / times[2]!).toFixed(2)}×`);
  } finally {
    await store.close();
    await dropDb(name);
  }
}

const [mode, arg1, arg2] = process.argv.slice(2);
if (mode === 'worker') {
  await workerChild(arg1!);
  process.exit(0);
}
if (mode === 'case') {
  await pipelineCase(arg1 as 'postgres' | 'pglite', Number(arg2));
  process.exit(process.exitCode ?? 0);
}
if (mode === 'workers') {
  await workersCase();
  process.exit(0);
}
if (process.env.LIUKE_BENCH_DROP) {
  await dropDb(process.env.LIUKE_BENCH_DROP);
  console.log(`dropped ${process.env.LIUKE_BENCH_DROP}`);
  process.exit(0);
}

const small = Number(process.env.LIUKE_BENCH_CUSTOMERS ?? 100_000);
const parts = new Set((process.env.LIUKE_BENCH_PIPELINE ?? 'pg,pglite,workers').split(','));
if (process.env.LIUKE_BENCH_PIPELINE_1M === '1') parts.add('pg1m');
const runs: string[][] = [];
if (parts.has('pg')) runs.push(['case', 'postgres', String(small)]);
if (parts.has('pglite')) runs.push(['case', 'pglite', String(small)]);
if (parts.has('pg1m')) runs.push(['case', 'postgres', '1000000']);
if (parts.has('workers')) runs.push(['workers']);
console.log(`steps: ${STEPS.map((s) => s.name).join(', ')}`);
let failed = 0;
for (const args of runs) {
  const r = spawnSync(process.execPath, ['--expose-gc', self, ...args], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);

// Demo generator: generation alone, then generation + load, at 100k customers
// on PostgreSQL and PGlite, and 1M on PostgreSQL when LIUKE_BENCH_DEMO_1M=1
// (target: 1M customers in under 10 minutes). Each PostgreSQL run gets a
// throw-away database, dropped afterwards.
//
//   npm run bench -- demo                        # 100k on both stores
//   LIUKE_BENCH_DEMO_1M=1 npm run bench -- demo  # and 1M on PostgreSQL
//   LIUKE_BENCH_DEMO=pglite npm run bench -- demo # one part only (gen, pg, pglite, pg1m)
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createDemoBusiness } from '../src/core/demo/demo.service.ts';
import { generateBatch } from '../src/core/demo/generator.ts';
import { migrate } from '../src/db/migrate.ts';
import { openStore, type Store } from '../src/db/store.ts';
import { cpuSeconds } from './proc.ts';

const ADMIN_URL = process.env.LIUKE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const NOW = new Date('2025-06-30T12:00:00Z');

const peakRss = () => `${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`;
/** 1-minute load average: the machine is shared, so every figure says how busy it was. */
const load = () => os.loadavg()[0]!.toFixed(1);
const fmt = (n: number) => Math.round(n).toLocaleString('en');

/**
 * PostgreSQL CPU spent for one database: polls /proc for the backends connected
 * to it and the parallel workers they start, keeping each process's last
 * utime + stime. Other helpers share the server, so its total CPU says nothing;
 * a worker's last 250 ms may be missed. Linux only (0 elsewhere).
 */
function pgCpuSampler(database: string) {
  const seen = new Map<number, number>();
  const backends = new Set<number>();
  // pids that are not PostgreSQL at all: never read again (the sampler must not cost
  // the load it measures; a backend's title is set just after its fork, so PostgreSQL
  // processes that do not match yet are looked at again)
  const others = new Set<number>();
  let stopped = false;
  const poll = async () => {
    let pids: string[] = [];
    try {
      pids = (await readdir('/proc')).filter((d) => /^\d+$/.test(d));
    } catch {
      return;
    }
    for (const d of pids) {
      const pid = Number(d);
      if (others.has(pid)) continue;
      try {
        if (!seen.has(pid)) {
          const cmd = (await readFile(`/proc/${d}/cmdline`, 'utf8')).replace(/\0/g, ' ');
          if (!cmd.includes('postgres')) {
            others.add(pid);
            continue;
          }
          const worker = /parallel worker for PID (\d+)/.exec(cmd);
          if (cmd.includes(` ${database} `)) backends.add(pid);
          else if (!(worker && backends.has(Number(worker[1])))) continue;
        }
        const cpu = cpuSeconds(pid);
        if (cpu !== null) seen.set(pid, cpu);
      } catch {
        // gone between the listing and the read
      }
    }
  };
  const loop = (async () => {
    while (!stopped) {
      await poll();
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return {
    /** CPU seen so far (as of the last poll) */
    now: () => [...seen.values()].reduce((a, b) => a + b, 0),
    async stop(): Promise<number> {
      stopped = true;
      await loop;
      await poll();
      return [...seen.values()].reduce((a, b) => a + b, 0);
    },
  };
}

let benchDatabase = '';

async function withPostgres<T>(fn: (store: Store) => Promise<T>): Promise<T> {
  const name = `liuke_bench_demo_${process.pid}`;
  benchDatabase = name;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`drop database if exists ${name}`);
  await admin.query(`create database ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const store = await openStore({ databaseUrl: url.toString(), poolSize: 2 });
  try {
    await migrate(store);
    return await fn(store);
  } finally {
    await store.close();
    await dropWhenClosed(admin, name);
    await admin.end();
  }
}

/** Drops the bench database once the store's connections have finished closing. */
async function dropWhenClosed(admin: pg.Client, name: string): Promise<void> {
  for (let i = 0; i < 40; i++) {
    try {
      await admin.query(`drop database if exists ${name}`);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  console.error(`could not drop ${name}; drop it by hand`);
}

async function withPGlite<T>(fn: (store: Store) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'liuke-demo-bench-'));
  const store = await openStore({ dataDir: dir });
  try {
    await migrate(store);
    return await fn(store);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function generateOnly(customers: number): void {
  const t0 = performance.now();
  let rows = 0;
  let bytes = 0;
  const params = { customers, seed: 1, industry: 'retail' as const, now: NOW, workspaceId: 1 };
  for (let from = 0; from < customers; from += 5000) {
    const b = generateBatch(params, from, Math.min(customers, from + 5000));
    for (const n of Object.values(b.rows)) rows += n;
    for (const c of Object.values(b.chunks)) for (const s of c) bytes += s.length;
  }
  const s = (performance.now() - t0) / 1000;
  console.log(
    `generate only, ${fmt(customers)} customers: ${s.toFixed(1)} s, ${fmt(rows)} rows (${fmt(rows / s)} rows/s), ` +
      `${(bytes / 2 ** 20).toFixed(0)} M chars of CSV; peak RSS ${peakRss()}; load average ${load()}`,
  );
}

async function loadDemo(label: string, store: Store, customers: number): Promise<void> {
  let last = 0;
  const loads: number[] = [os.loadavg()[0]!];
  const pgCpu = store.kind === 'postgres' ? pgCpuSampler(benchDatabase) : null;
  const cpu0 = process.cpuUsage();
  const steps: string[] = [];
  // CPU when the last batch is in: the rest is keys and indexes
  const atCopyEnd: { node: number; db: number }[] = [];
  const r = await createDemoBusiness(store, {
    onStep: (step, seconds) => steps.push(`${step} ${seconds.toFixed(1)}`),
    // tuning experiments: LIUKE_BENCH_DEMO_INDEX_MEM=96MB
    ...(process.env.LIUKE_BENCH_DEMO_INDEX_MEM ? { indexMemory: process.env.LIUKE_BENCH_DEMO_INDEX_MEM } : {}),
    customers,
    seed: 1,
    industry: 'retail',
    now: NOW,
    onProgress: (done) => {
      if (done === customers) {
        const c = process.cpuUsage(cpu0);
        atCopyEnd.push({ node: (c.user + c.system) / 1e6, db: pgCpu?.now() ?? 0 });
      }
      if (done - last >= customers / 10) {
        last = done;
        loads.push(os.loadavg()[0]!);
        process.stderr.write(`  ${label}: ${fmt(done)} customers (load average ${load()})\n`);
      }
    },
  });
  const cpu = process.cpuUsage(cpu0);
  const nodeCpu = (cpu.user + cpu.system) / 1e6;
  const dbCpu = pgCpu ? await pgCpu.stop() : null;
  const rows = Object.values(r.rows).reduce((a, b) => a + b, 0);
  if (process.env.LIUKE_BENCH_DEMO_STEPS === '1') console.log(`  steps (s): ${steps.join(', ')}`);
  console.log(
    `  CPU: Node ${nodeCpu.toFixed(1)} s (main thread and generator workers)` +
      (dbCpu === null ? '' : `, PostgreSQL ${dbCpu.toFixed(1)} s (backends and their parallel workers)`) +
      (atCopyEnd[0] ? ` — until the last COPY: Node ${atCopyEnd[0].node.toFixed(1)} s, PostgreSQL ${atCopyEnd[0].db.toFixed(1)} s` : '') +
      `; phases (s): ${Object.entries(r.phases).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`,
  );
  console.log(
    `generate + load on ${label}, ${fmt(customers)} customers: ${r.seconds.toFixed(1)} s, ${fmt(rows)} rows ` +
      `(${fmt(rows / r.seconds)} rows/s): ${Object.entries(r.rows).map(([t, n]) => `${t} ${fmt(n)}`).join(', ')}; peak RSS ${peakRss()}; ` +
      `load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads, os.loadavg()[0]!).toFixed(1)} during the run`,
  );
}

// LIUKE_BENCH_DEMO=gen,pg,pglite,pg1m picks parts (default gen,pg,pglite; LIUKE_BENCH_DEMO_1M=1 adds pg1m)
const parts = new Set((process.env.LIUKE_BENCH_DEMO ?? 'gen,pg,pglite').split(','));
if (process.env.LIUKE_BENCH_DEMO_1M === '1') parts.add('pg1m');
if (parts.has('gen')) generateOnly(100_000);
if (parts.has('pg')) await withPostgres((s) => loadDemo('PostgreSQL', s, 100_000));
if (parts.has('pglite')) await withPGlite((s) => loadDemo('PGlite', s, 100_000));
if (parts.has('pg1m')) await withPostgres((s) => loadDemo('PostgreSQL', s, 1_000_000));

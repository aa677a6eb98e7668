// Customer API latency: the list (search, filter, sort) and the customer 360
// view and timeline under 20 concurrent users, against a server in its own
// process on PostgreSQL holding 1M customers and 10M orders (generated with
// INSERT … SELECT generate_series; kept between runs in the database
// liuke_bench_customers, CUSTOMERS_BENCH_REBUILD=1 to regenerate). Loopback
// only; each scenario runs for CUSTOMERS_BENCH_SECONDS (default 10 s).
// Target: p95 < 100 ms.
//
//   npm run bench -- customers-api
import { type ChildProcess, spawn } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const ADMIN_URL = process.env.LIUKE_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DB = 'liuke_bench_customers';
const CUSTOMERS = Number(process.env.CUSTOMERS_BENCH_CUSTOMERS ?? 1_000_000);
const ORDERS = Number(process.env.CUSTOMERS_BENCH_ORDERS ?? 10_000_000);
const SECONDS = Number(process.env.CUSTOMERS_BENCH_SECONDS ?? 10);
const CONCURRENCY = 20;
const PORT = 3700 + Math.floor(Math.random() * 90);

const dbUrl = (() => {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${DB}`;
  return u.toString();
})();

async function q(url: string, text: string): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await c.query(text);
  } finally {
    await c.end();
  }
}

async function prepare(): Promise<void> {
  const exists = (await q(ADMIN_URL, `select 1 from pg_database where datname = '${DB}'`)).rowCount === 1;
  if (exists && !process.env.CUSTOMERS_BENCH_REBUILD) {
    const n = await q(dbUrl, 'select (select count(*) from customers) as c, (select count(*) from orders) as o, (select count(*) from customers where stats_orders is not null) as s').catch(() => null);
    const r = n?.rows[0];
    if (r && Number(r.c) === CUSTOMERS && Number(r.o) === ORDERS && Number(r.s) === CUSTOMERS) {
      console.log(`reusing ${DB}: ${CUSTOMERS} customers, ${ORDERS} orders`);
      // Migrations added since the data was generated; a migration that rewrote
      // rows (0010 copies the figures onto customers) leaves statistics behind.
      if ((await migrateOnly()).length > 0) await q(dbUrl, 'vacuum analyze');
      return;
    }
  }
  if (exists) await q(ADMIN_URL, `drop database ${DB} with (force)`);
  await q(ADMIN_URL, `create database ${DB}`);
  await migrateOnly();
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  const step = async (label: string, text: string) => {
    const t = performance.now();
    await c.query(text);
    console.log(`  ${label}: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  };
  console.log(`generating ${CUSTOMERS} customers and ${ORDERS} orders in ${DB}…`);
  await c.query('set synchronous_commit = off');
  await step(
    'customers',
    `insert into customers (workspace_id, id, name, phone, email, city, membership_level, owner, registered_at, is_stub)
     select 1, 'C' || lpad(g::text, 7, '0'),
       (array['张','王','李','赵','刘','陈','杨','黄','周','吴'])[1 + g % 10] || (array['伟','芳','娜','敏','静','磊','洋','艳','勇','军'])[1 + (g / 10) % 10] || (g % 97),
       '1' || (30 + g % 60) || lpad(((g::bigint * 7919) % 100000000)::text, 8, '0'),
       'user' || g || '@example.com',
       (array['上海','北京','广州','深圳','杭州','成都','武汉','南京'])[1 + g % 8],
       (array['none','silver','gold','platinum'])[1 + (g % 13) % 4],
       'owner' || (g % 50),
       timestamptz '2020-01-01' + (g % 1800) * interval '1 day',
       g % 50 = 0
     from generate_series(1, ${CUSTOMERS}) g`,
  );
  await step(
    'orders',
    `insert into orders (workspace_id, id, customer_id, ordered_at, amount, status, store, channel)
     select 1, 'O' || g, 'C' || lpad((1 + (g::bigint * 2654435761) % ${CUSTOMERS})::text, 7, '0'),
       timestamptz '2021-01-01' + ((g::bigint * 7) % 1600) * interval '1 day' + (g % 86400) * interval '1 second',
       (g % 500) + 10, case when g % 20 = 0 then 'refunded' else 'paid' end, 'S' || (g % 30), 'pos'
     from generate_series(1, ${ORDERS}) g`,
  );
  await step(
    'events (2 per customer)',
    `insert into events (workspace_id, message_id, customer_id, type, occurred_at)
     select 1, 'E' || g, 'C' || lpad((1 + g % ${CUSTOMERS})::text, 7, '0'), 'login', timestamptz '2024-01-01' + (g % 500) * interval '1 day'
     from generate_series(1, ${CUSTOMERS * 2}) g`,
  );
  await step(
    'tickets (1 per 10 customers)',
    `insert into tickets (workspace_id, id, customer_id, category, subject, created_at)
     select 1, 'T' || g, 'C' || lpad((1 + (g * 10) % ${CUSTOMERS})::text, 7, '0'), 'delivery', '物流慢', timestamptz '2024-01-01' + (g % 500) * interval '1 day'
     from generate_series(1, ${CUSTOMERS / 10}) g`,
  );
  await c.end();
  const { openStore } = await import('../src/db/store.ts');
  const { refreshCustomerStats } = await import('../src/core/customers/customers.stats.ts');
  const store = await openStore({ databaseUrl: dbUrl, poolSize: 2 });
  const t = performance.now();
  await refreshCustomerStats(store.db, 1);
  console.log(`  refreshCustomerStats (all): ${((performance.now() - t) / 1000).toFixed(1)} s`);
  await store.close();
  await q(dbUrl, 'vacuum analyze');
}

async function migrateOnly(): Promise<string[]> {
  const { openStore } = await import('../src/db/store.ts');
  const { migrate } = await import('../src/db/migrate.ts');
  const store = await openStore({ databaseUrl: dbUrl, poolSize: 2 });
  const applied = await migrate(store);
  await store.close();
  return applied;
}

async function adminKey(): Promise<string> {
  const { openStore } = await import('../src/db/store.ts');
  const { createKey } = await import('../src/core/keys/keys.service.ts');
  const store = await openStore({ databaseUrl: dbUrl, poolSize: 1 });
  const k = await createKey(store.db, { workspaceId: 1, role: 'admin', name: 'customers-api bench' });
  await store.close();
  return k.key;
}

async function startServer(): Promise<ChildProcess> {
  const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
  const child = spawn(process.execPath, [main, 'start', '--port', String(PORT), '--host', '127.0.0.1'], {
    env: { ...process.env, DATABASE_URL: dbUrl, LIUKE_LOG_LEVEL: 'warn', LIUKE_DEMO_CUSTOMERS: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error('server did not start in 60 s')), 60_000);
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('Liuke is running')) {
        clearTimeout(timer);
        ok();
      }
    });
    child.once('exit', (code) => fail(new Error(`server exited with ${code}`)));
  });
  return child;
}

const rnd = (n: number) => Math.floor(Math.random() * n);
const cid = () => `C${String(1 + rnd(CUSTOMERS)).padStart(7, '0')}`;
const CITIES = ['上海', '北京', '广州', '深圳', '杭州', '成都', '武汉', '南京'];
const NAMES = ['张伟', '王芳', '李娜', '赵敏', '刘静', '陈磊'];

const SCENARIOS: { name: string; path: () => string }[] = [
  { name: 'list, default (id order, page 1..20)', path: () => `/api/customers?page=${1 + rnd(20)}` },
  { name: 'search q = last 4 phone digits', path: () => `/api/customers?q=${String(rnd(10000)).padStart(4, '0')}` },
  { name: 'search q = name prefix, sort spend desc', path: () => `/api/customers?q=${encodeURIComponent(NAMES[rnd(NAMES.length)]!)}&sort=spend&order=desc` },
  { name: 'search q = exact id', path: () => `/api/customers?q=${cid()}` },
  {
    name: 'filter city + level, sort spend desc',
    path: () => `/api/customers?city=${encodeURIComponent(CITIES[rnd(CITIES.length)]!)}&membership_level=gold&sort=spend&order=desc`,
  },
  { name: 'sort last_order_at desc, page 1..20', path: () => `/api/customers?sort=last_order_at&order=desc&page=${1 + rnd(20)}` },
  { name: 'filter min_spend + registered range, sort orders', path: () => `/api/customers?min_spend=3000&registered_from=2022-01-01T00:00:00Z&sort=orders&order=desc` },
  { name: 'customer 360 (profile + figures)', path: () => `/api/customers/${cid()}` },
  { name: 'customer timeline (50 items)', path: () => `/api/customers/${cid()}/timeline` },
];

async function run(
  base: string,
  key: string,
  s: (typeof SCENARIOS)[number],
  users: number,
  seconds: number,
): Promise<{ n: number; p50: number; p95: number; errors: number }> {
  const lat: number[] = [];
  let errors = 0;
  const until = performance.now() + seconds * 1000;
  const headers = { authorization: `Bearer ${key}` };
  await Promise.all(
    Array.from({ length: users }, async () => {
      while (performance.now() < until) {
        const t = performance.now();
        const r = await fetch(base + s.path(), { headers });
        await r.arrayBuffer();
        if (r.status !== 200) errors++;
        lat.push(performance.now() - t);
      }
    }),
  );
  lat.sort((a, b) => a - b);
  const p = (x: number) => lat[Math.min(lat.length - 1, Math.floor(lat.length * x))]!;
  return { n: lat.length, p50: p(0.5), p95: p(0.95), errors };
}

await prepare();
const key = await adminKey();
const server = await startServer();
const base = `http://127.0.0.1:${PORT}`;
try {
  // Warm the caches once per scenario.
  for (const s of SCENARIOS) for (let i = 0; i < 20; i++) await (await fetch(base + s.path(), { headers: { authorization: `Bearer ${key}` } })).arrayBuffer();
  console.log(`\n${new Date().toISOString().slice(0, 10)} · ${os.cpus().length} × ${os.cpus()[0]?.model} · ${CUSTOMERS} customers, ${ORDERS} orders, PostgreSQL · ${CONCURRENCY} concurrent users, ${SECONDS} s each\n`);
  console.log(`load average at start: ${os.loadavg().map((l) => l.toFixed(1)).join(', ')}\n`);
  console.log(`| scenario | 1 user p50 ms | 1 user p95 ms | ${CONCURRENCY} users req/s | ${CONCURRENCY} users p50 ms | ${CONCURRENCY} users p95 ms | errors |`);
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  let worst = 0;
  for (const s of SCENARIOS) {
    const one = await run(base, key, s, 1, Math.max(2, SECONDS / 3));
    const r = await run(base, key, s, CONCURRENCY, SECONDS);
    worst = Math.max(worst, r.p95);
    console.log(
      `| ${s.name} | ${one.p50.toFixed(1)} | ${one.p95.toFixed(1)} | ${(r.n / SECONDS).toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} | ${r.errors + one.errors} |`,
    );
  }
  console.log(`\nload average at end: ${os.loadavg().map((l) => l.toFixed(1)).join(', ')}`);
  console.log(`worst p95 at ${CONCURRENCY} users ${worst.toFixed(1)} ms — target < 100 ms: ${worst < 100 ? 'met' : 'MISSED'}`);
} finally {
  server.kill('SIGTERM');
}

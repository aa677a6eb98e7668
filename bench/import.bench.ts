// Import throughput: orders CSV at 100k and 1M rows into an in-memory PGlite and
// a throw-away PostgreSQL database (as src/db/testing.ts makes them), plus the
// peak RSS while importing a ~1 GB orders CSV into PostgreSQL. Each case runs
// in its own process so its peak RSS is its own. Targets: ≥ 200k order rows/s
// into PostgreSQL; peak memory < 1 GB for the 1 GB file.
//
// A case `KIND:ROWS` imports the orders into an empty workspace: their 200k
// customers become stubs. `KIND:ROWS:customers` is the usual order of a first
// load: the 200k customers (name, phone, email, city, level, registration) are
// imported first, untimed, and the orders import then fills in their figures.
//
//   npm run bench -- import
//   IMPORT_BENCH_CASES=postgres:1000000,postgres:1000000:customers npm run bench -- import
//   IMPORT_BENCH_CASES=pglite:100000,postgres:1000000 IMPORT_BENCH_BIG_MB=1024 IMPORT_BENCH_REIMPORT=0 npm run bench -- import
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { cpuSeconds } from './proc.ts';

const self = fileURLToPath(import.meta.url);
const BIG_MB = Number(process.env.IMPORT_BENCH_BIG_MB ?? 1024);
const CASES = (process.env.IMPORT_BENCH_CASES ?? `pglite:100000,postgres:100000,pglite:1000000,postgres:1000000,postgres:big`).split(',');

const STATUS = ['已支付', '已支付', '已支付', '已支付', '已退款', '已退货'];
const STORES = ['上海南京路店', '北京三里屯店', '线上旗舰店', '深圳万象城店'];

/** Writes an orders CSV of `rows` rows (or until `bytes`), ~75 bytes a row, Chinese headers. */
async function writeOrders(path: string, limit: { rows?: number; bytes?: number }): Promise<number> {
  const out = createWriteStream(path);
  const write = (s: string) => (out.write(s) ? Promise.resolve() : new Promise<void>((r) => out.once('drain', () => r())));
  await write('订单号,客户ID,下单时间,实付金额,优惠金额,订单状态,门店\n');
  let bytes = 0;
  let i = 0;
  const t0 = Date.UTC(2022, 0, 1);
  for (;;) {
    if (limit.rows !== undefined && i >= limit.rows) break;
    if (limit.bytes !== undefined && bytes >= limit.bytes) break;
    const parts: string[] = [];
    for (let j = 0; j < 10_000 && (limit.rows === undefined || i < limit.rows); j++, i++) {
      const d = new Date(t0 + ((i * 7919) % (3 * 365 * 86400)) * 1000);
      const ts = `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')} ${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
      parts.push(`O${i},C${(i * 31) % 200_000},${ts},${((i % 9973) / 10 + 5).toFixed(2)},${i % 7 === 0 ? '5.00' : ''},${STATUS[i % STATUS.length]},${STORES[i % STORES.length]}\n`);
    }
    const chunk = parts.join('');
    bytes += Buffer.byteLength(chunk);
    await write(chunk);
  }
  await new Promise<void>((r) => out.end(() => r()));
  return i;
}

const CITIES = ['上海', '北京', '深圳', '杭州', '成都'];
const LEVELS = ['普通', '银卡', '金卡'];

/** Writes a customers CSV of the 200k ids the orders name (C0…C199999), with the columns a CRM export has. */
async function writeCustomers(path: string): Promise<number> {
  const out = createWriteStream(path);
  const write = (s: string) => (out.write(s) ? Promise.resolve() : new Promise<void>((r) => out.once('drain', () => r())));
  await write('客户ID,姓名,手机号,邮箱,性别,城市,会员等级,注册时间\n');
  const n = 200_000;
  const t0 = Date.UTC(2019, 0, 1);
  for (let i = 0; i < n; i += 10_000) {
    const parts: string[] = [];
    for (let j = i; j < Math.min(n, i + 10_000); j++) {
      const d = new Date(t0 + ((j * 104729) % (3 * 365 * 86400)) * 1000).toISOString().slice(0, 10);
      parts.push(`C${j},客户${j},138${String(j).padStart(8, '0')},c${j}@example.com,${j % 2 ? '男' : '女'},${CITIES[j % CITIES.length]},${LEVELS[j % LEVELS.length]},${d}\n`);
    }
    await write(parts.join(''));
  }
  await new Promise<void>((r) => out.end(() => r()));
  return n;
}

/** CPU seconds (user + system) each PostgreSQL backend serving this database has used so far (same machine only). */
async function backendCpu(url: string | undefined): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  if (!url) return out;
  const pg = (await import('pg')).default;
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()');
    for (const { pid } of r.rows) {
      const cpu = cpuSeconds(pid);
      if (cpu !== null) out.set(pid, cpu); // else a backend that went away
    }
    return out;
  } finally {
    await c.end();
  }
}

/**
 * CPU the backends used between two samples. A backend that appeared in between counts
 * whole; one the pool closed in between (idle for 10 s) is left out: it was idle.
 */
function cpuBetween(a: Map<number, number>, b: Map<number, number>): number {
  let s = 0;
  for (const [pid, v] of b) s += v - (a.get(pid) ?? 0);
  return s;
}

/**
 * CPU of the parallel workers (index builds, parallel scans) serving the database: they
 * come and go within a statement, so a poller on the admin database samples them every
 * 100 ms and keeps each one's last figure (a worker's last <100 ms are missed: a floor).
 */
async function watchWorkers(url: string | undefined): Promise<{ stop(): Promise<number> }> {
  if (!url) return { stop: async () => 0 };
  const pg = (await import('pg')).default;
  const db = new URL(url).pathname.slice(1);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const c = new pg.Client({ connectionString: admin.toString() });
  await c.connect();
  const seen = new Map<number, number>();
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    c.query<{ pid: number }>(`select pid from pg_stat_activity where backend_type = 'parallel worker' and datname = $1`, [db])
      .then((r) => {
        for (const { pid } of r.rows) {
          const v = cpuSeconds(pid);
          if (v !== null) seen.set(pid, v);
        }
      })
      .catch(() => {})
      .finally(() => {
        busy = false;
      });
  }, 100);
  return {
    async stop() {
      clearInterval(timer);
      await c.end();
      return [...seen.values()].reduce((a, b) => a + b, 0);
    },
  };
}

const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/**
 * IMPORT_BENCH_TRACE=1: each statement a PostgreSQL connection runs, with its wall time and
 * the CPU its backend used (read from /proc before and after), to stderr. Statements of one
 * connection run one after another, so the difference is the statement's own.
 */
async function traceStatements(): Promise<void> {
  const pg = (await import('pg')).default;
  const proto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown; processID?: number };
  const query = proto.query;
  const t00 = performance.now();
  proto.query = function (this: { processID?: number }, ...args: unknown[]) {
    const pid = this.processID;
    const text = typeof args[0] === 'string' ? args[0] : ((args[0] as { text?: string })?.text ?? 'COPY');
    const c0 = pid ? cpuSeconds(pid) : null;
    const t0 = performance.now();
    const done = () => {
      const c1 = pid ? cpuSeconds(pid) : null;
      const ms = performance.now() - t0;
      if (text.includes("backend_type = 'parallel worker'")) return; // watchWorkers' own polling
      if (ms >= 20 || (c0 !== null && c1 !== null && c1 - c0 >= 0.02))
        console.error(
          `[trace] +${((t0 - t00) / 1000).toFixed(2)}s pid ${pid} ${ms.toFixed(0).padStart(6)} ms ${c0 !== null && c1 !== null ? (c1 - c0).toFixed(2) : '?'} s cpu  ${text.replace(/\s+/g, ' ').slice(0, 160)}`,
        );
    };
    const r = query.apply(this, args);
    if (r && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).then(done, done);
    else if (r && typeof (r as { on?: unknown }).on === 'function') {
      (r as { on: (e: string, f: () => void) => void }).on('finish', done);
    }
    return r;
  };
}

async function one(kind: 'pglite' | 'postgres', file: string, rows: number, customersFile?: string): Promise<void> {
  const { openTestStore } = await import('../src/db/testing.ts');
  const { runImport } = await import('../src/core/imports/import.service.ts');
  const store = await openTestStore(kind);
  if (customersFile) {
    // The customers first (not timed), as a business moving to Liuke loads its CRM export before its orders.
    const c = await runImport(store, { workspaceId: 1, entity: 'customers', input: { path: customersFile }, fileName: customersFile, actor: 'bench', now: new Date() });
    if (c.rejected !== 0 || c.inserted !== 200_000) throw new Error('unexpected customer counts');
    if (kind === 'postgres') await sql`vacuum analyze customers`.execute(store.db);
  }
  if (process.env.IMPORT_BENCH_TRACE) await traceStatements();
  // Open the pool's connections before measuring, so every backend is counted.
  await Promise.all([1, 2, 3, 4].map(() => store.db.selectFrom('workspaces').select('id').execute()));
  const load0 = loadavg()[0]!;
  const node0 = cpuNow();
  const pg0 = await backendCpu(store.url);
  const workers = await watchWorkers(store.url);
  let peak = 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 100);
  try {
    const t = performance.now();
    const r = await runImport(store, { workspaceId: 1, entity: 'orders', input: { path: file }, fileName: file, actor: 'bench', now: new Date() });
    const s = (performance.now() - t) / 1000;
    const load1 = loadavg()[0]!;
    const node1 = cpuNow();
    const pg1 = await backendCpu(store.url);
    const workerCpu = await workers.stop();
    const again = performance.now();
    const r2 = rows <= 1_000_000 && process.env.IMPORT_BENCH_REIMPORT !== '0' ? await runImport(store, { workspaceId: 1, entity: 'orders', input: { path: file }, fileName: file, actor: 'bench', now: new Date() }) : null;
    const s2 = (performance.now() - again) / 1000;
    const node2 = cpuNow();
    const pg2 = await backendCpu(store.url);
    clearInterval(timer);
    peak = Math.max(peak, process.resourceUsage().maxRSS * 1024);
    console.log(
      JSON.stringify({
        kind,
        rows: r.rowsRead,
        stubs: r.stubCustomers,
        inserted: r.inserted,
        rejected: r.rejected,
        seconds: Number(s.toFixed(1)),
        rowsPerSecond: Math.round(r.rowsRead / s),
        // CPU seconds: this Node process (PGlite runs inside it) and the PostgreSQL backends.
        // postgres: the backends serving the import; workers: their parallel workers (index builds), at least.
        cpu: { node: Number((node1 - node0).toFixed(1)), postgres: Number(cpuBetween(pg0, pg1).toFixed(1)), workers: Number(workerCpu.toFixed(1)) },
        reimport: r2
          ? {
              seconds: Number(s2.toFixed(1)),
              unchanged: r2.unchanged,
              rowsPerSecond: Math.round(r2.rowsRead / s2),
              cpu: { node: Number((node2 - node1).toFixed(1)), postgres: Number(cpuBetween(pg1, pg2).toFixed(1)) },
            }
          : null,
        peakRssMB: Math.round(peak / 2 ** 20),
        // The machine's 1-minute load average before and after the first import: wall times mean little on a busy machine.
        load: [Number(load0.toFixed(1)), Number(load1.toFixed(1))],
        fileMB: Math.round(statSync(file).size / 2 ** 20),
      }),
    );
    if (r.rejected !== 0 || r.inserted !== rows || (r2 && r2.unchanged !== rows) || r.stubCustomers !== (customersFile ? 0 : Math.min(rows, 200_000))) throw new Error('unexpected counts');
  } finally {
    clearInterval(timer);
    await store.close();
  }
}

if (process.argv[2] === 'one') {
  await one(process.argv[3] as 'pglite' | 'postgres', process.argv[4]!, Number(process.argv[5]), process.argv[6]);
  process.exit(0);
}

const dir = tmpdir();
const files = new Map<string, { path: string; rows: number }>();
async function fileFor(size: string) {
  const hit = files.get(size);
  if (hit) return hit;
  const path = join(dir, `liuke-bench-orders-${size === 'big' ? `${BIG_MB}mb` : size}.csv`);
  const rows = size === 'big' ? await writeOrders(path, { bytes: BIG_MB * 2 ** 20 }) : await writeOrders(path, { rows: Number(size) });
  const f = { path, rows };
  files.set(size, f);
  return f;
}

let customersPath: string | null = null;
async function customersFile(): Promise<string> {
  if (customersPath) return customersPath;
  customersPath = join(dir, 'liuke-bench-customers-200000.csv');
  await writeCustomers(customersPath);
  return customersPath;
}

console.log('case                        rows   seconds   rows/s CPU node+pg+workers (s)  re-import rows/s (CPU)   peak RSS   load avg');
let failed = 0;
for (const c of CASES) {
  const [kind, size, pre] = c.split(':') as ['pglite' | 'postgres', string, string | undefined];
  const f = await fileFor(size);
  const extra = pre === 'customers' ? [await customersFile()] : [];
  const r = spawnSync(process.execPath, [self, 'one', kind, f.path, String(f.rows), ...extra], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) {
    console.log(`${c}: failed (${r.status})`);
    failed++;
    continue;
  }
  const m = JSON.parse(line) as {
    rows: number;
    seconds: number;
    rowsPerSecond: number;
    reimport: { rowsPerSecond: number; cpu: { node: number; postgres: number } } | null;
    cpu: { node: number; postgres: number; workers: number };
    peakRssMB: number;
    fileMB: number;
    load: number[];
  };
  console.log(
    `${`${kind} ${size === 'big' ? `${m.fileMB} MB file ` : ''}${pre === 'customers' ? 'customers first' : 'stubs'}`.padEnd(22)} ${String(m.rows).padStart(10)} ${String(m.seconds).padStart(8)} ${String(m.rowsPerSecond).padStart(9)} ${`${m.cpu.node} + ${m.cpu.postgres} + ${m.cpu.workers}w`.padStart(17)} ${(m.reimport ? `${m.reimport.rowsPerSecond} (${m.reimport.cpu.node} + ${m.reimport.cpu.postgres})` : '-').padStart(24)} ${String(m.peakRssMB).padStart(7)} MB   ${m.load.join(' → ')}`,
  );
}
for (const f of [...files.values()].map((x) => x.path).concat(customersPath ?? [])) if (existsSync(f) && !process.env.IMPORT_BENCH_KEEP) (await import('node:fs')).rmSync(f);
process.exit(failed ? 1 : 0);

// Ingestion throughput through POST /v1/batch, on loopback, with the server and
// the load generator (autocannon) in separate processes, against a throw-away
// PostgreSQL database and an in-memory PGlite. Target: ≥ 20k events/s, p99 < 100 ms.
//
//   npm run bench -- ingest
//   INGEST_BENCH_SECONDS=20 INGEST_BENCH_BATCH=100 INGEST_BENCH_CONNECTIONS=8 npm run bench -- ingest
//
// The same file is the server (`… server <store>`) and the load generator (`… load <url> <key>`).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { cpuSeconds } from './proc.ts';

const SECONDS = Number(process.env.INGEST_BENCH_SECONDS ?? 15);
const WARMUP_SECONDS = 3;
const BATCH = Number(process.env.INGEST_BENCH_BATCH ?? 100);
const CONNECTIONS = Number(process.env.INGEST_BENCH_CONNECTIONS ?? 8);
const USERS = 20_000;
const STORES = (process.env.INGEST_BENCH_STORES ?? 'postgres,pglite').split(',');
const self = fileURLToPath(import.meta.url);

async function server(kind: 'postgres' | 'pglite'): Promise<void> {
  const { openTestStore } = await import('../src/db/testing.ts');
  const { startTestServer } = await import('../src/server/testing.ts');
  const { createKey } = await import('../src/core/keys/keys.service.ts');
  const { sql } = await import('kysely');
  const store = await openTestStore(kind);
  const { key } = await createKey(store.db, { workspaceId: 1, role: 'ingest' });
  const srv = await startTestServer(store);
  console.log(JSON.stringify({ url: srv.url, key }));
  // Commands on stdin: "count" answers the events stored and the CPU time spent so far; "stop" ends.
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'count') {
      const r = await sql<{ n: number }>`select count(*)::int as n from events`.execute(store.db);
      const cpu = process.cpuUsage();
      console.log(JSON.stringify({ events: r.rows[0]!.n, serverCpuMs: (cpu.user + cpu.system) / 1000, pgCpuMs: await backendCpuMs(store) }));
    } else if (line === 'stop') break;
  }
  await srv.close();
  await store.close();
  process.exit(0); // stdin would keep the process alive
}

/**
 * CPU time of the PostgreSQL backends serving this database (utime + stime from
 * /proc, in ms), or null where /proc cannot be read: on a shared machine CPU per
 * event compares runs fairly where wall-clock rates do not.
 */
async function backendCpuMs(store: { db: import('kysely').Kysely<import('../src/db/schema.ts').Database>; kind: string }): Promise<number | null> {
  if (store.kind !== 'postgres') return null;
  const { sql } = await import('kysely');
  const r = await sql<{ pid: number }>`select pid from pg_stat_activity where datname = current_database() and backend_type = 'client backend'`.execute(store.db);
  let seconds = 0;
  for (const { pid } of r.rows) {
    const cpu = cpuSeconds(pid);
    if (cpu === null) return null;
    seconds += cpu;
  }
  return seconds * 1000;
}

const EVENTS = ['Product Viewed', 'Product Added', 'Products Searched', 'Signed In', 'Feature Used', 'Lesson Completed'];

/**
 * Batch n's body. The messages are serialised once per template (TEMPLATES
 * different ones, cycled) and only the messageIds are filled in per request, so
 * the load generator, which shares the 2 cores with the server and PostgreSQL,
 * spends little CPU per request: the figures are the server's.
 */
const TEMPLATES = Math.ceil(USERS / BATCH); // every user appears
const templates: string[][] = [];
function makeBody(run: string, n: number): string {
  const j = n % TEMPLATES;
  if (!templates[j]) {
    const msgs: string[] = [];
    const t = new Date().toISOString();
    for (let i = 0; i < BATCH; i++) {
      const k = j * BATCH + i;
      msgs.push(
        JSON.stringify({
          type: 'track',
          messageId: '\u0000',
          userId: `u${(k * 7919) % USERS}`,
          event: EVENTS[k % EVENTS.length],
          timestamp: t,
          properties: { product_id: `p${k % 500}`, price: (k % 97) + 0.9, category: 'tea', query: k % 3 === 0 ? '绿茶' : undefined },
          context: {
            library: { name: 'analytics-node-next', version: 'latest' },
            ip: '127.0.0.1',
            userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko)',
          },
        }),
      );
    }
    templates[j] = `{"batch":[${msgs.join(',')}],"sentAt":"${t}"}`.split('\\u0000');
  }
  const parts = templates[j]!;
  let body = parts[0]!;
  for (let i = 1; i < parts.length; i++) body += `${run}-${n}-${i}${parts[i]}`;
  return body;
}

async function load(url: string, key: string, seconds: number, run: string): Promise<void> {
  const { default: autocannon } = await import('autocannon');
  let n = 0;
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        path: '/v1/batch',
        headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}` },
        setupRequest: (req) => ({ ...req, body: makeBody(run, n++) }),
      },
    ],
  });
  console.log(
    JSON.stringify({
      ok: result['2xx'],
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      seconds: result.duration,
      p50: result.latency.p50,
      p99: result.latency.p99,
      max: result.latency.max,
      bodyBytes: Buffer.byteLength(makeBody(run, 0)),
    }),
  );
}

function child(args: string[]) {
  const p = spawn(process.execPath, [self, ...args], { stdio: [args[0] === 'server' ? 'pipe' : 'ignore', 'pipe', 'inherit'] });
  // One JSON line per answer; lines wait in a queue until asked for.
  const queue: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  createInterface({ input: p.stdout! }).on('line', (line) => {
    const w = waiting.shift();
    if (w) w(line);
    else queue.push(line);
  });
  p.on('exit', (code) => {
    if (code) for (const w of waiting.splice(0)) w(JSON.stringify({ failed: code }));
  });
  // biome-ignore lint/suspicious/noExplicitAny: a child's JSON answer
  const next = async (): Promise<any> => {
    const line = queue.shift() ?? (await new Promise<string>((res) => waiting.push(res)));
    const v = JSON.parse(line);
    if (v.failed) throw new Error(`${args.join(' ')} exited with ${v.failed}`);
    return v;
  };
  return { p, next };
}

async function main(): Promise<void> {
  const { default: os } = await import('node:os');
  console.log(`${os.cpus().length} × ${os.cpus()[0]?.model}; batches of ${BATCH} track events, ${CONNECTIONS} connections, ${SECONDS} s after a ${WARMUP_SECONDS} s warm-up`);
  for (const kind of STORES) {
    const srv = child(["server", kind]);
    const { url, key } = await srv.next();
    const warm = child(['load', url, key, String(WARMUP_SECONDS), 'warm']);
    await warm.next();
    srv.p.stdin!.write('count\n');
    const c0 = await srv.next();
    const loadAt = os.loadavg()[0]!;
    const loader = child(['load', url, key, String(SECONDS), 'run']);
    const r = await loader.next();
    srv.p.stdin!.write('count\n');
    const c1 = await srv.next();
    const before = c0.events as number;
    const after = c1.events as number;
    srv.p.stdin!.write('stop\n');
    await new Promise((res) => srv.p.on('exit', res));
    const acked = r.ok * BATCH;
    const stored = after - before;
    const rate = Math.round(acked / r.seconds);
    const verdict = rate >= 20_000 && r.p99 < 100 ? 'meets' : 'MISSES';
    console.log(
      `${kind}: ${rate.toLocaleString('en')} events/s (${Math.round(r.ok / r.seconds)} batches/s of ${(r.bodyBytes / 1024).toFixed(0)} KB), ` +
        `latency p50 ${r.p50} ms, p99 ${r.p99} ms, max ${r.max} ms; ${r.non2xx} non-2xx, ${r.errors} errors; ` +
        `${stored.toLocaleString('en')} events stored for ${acked.toLocaleString('en')} acknowledged — ${verdict} the target (≥ 20k events/s, p99 < 100 ms)`,
    );
    const per100 = (ms: number | null) => (ms === null ? 'n/a' : `${((ms * 100) / stored).toFixed(2)} ms`);
    console.log(
      `${kind}: CPU per 100 events: server ${per100(c1.serverCpuMs - c0.serverCpuMs)}, PostgreSQL backends ` +
        `${per100(c0.pgCpuMs === null || c1.pgCpuMs === null ? null : c1.pgCpuMs - c0.pgCpuMs)}; load average ${loadAt.toFixed(1)}–${os.loadavg()[0]!.toFixed(1)}`,
    );
    if (stored < acked) {
      console.error(`${kind}: fewer events stored than acknowledged`);
      process.exitCode = 1;
    }
  }
}

const [role, ...rest] = process.argv.slice(2);
if (role === 'server') await server(rest[0] as 'postgres' | 'pglite');
else if (role === 'load') await load(rest[0]!, rest[1]!, Number(rest[2]), rest[3]!);
else await main();

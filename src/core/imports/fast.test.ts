// The raw CSV path (fast.ts) against the Node path: the same file into two
// workspaces, one each way, must store the same rows and report the same
// rejected rows; files COPY cannot read fall back to the Node path.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import iconv from 'iconv-lite';
import pg from 'pg';
import { sql } from 'kysely';
import type { Store } from '../../db/store.ts';
import { forEachStore } from '../../db/testing.ts';
import { type ImportEntity, SPECS } from './entities.ts';
import { NotForRawPath, RowSorter } from './fast.ts';
import { resolveMapping } from './mapping.ts';
import { mappedColumns } from './validate.ts';
import { type ImportOptions, type ImportReport, loadStats, runImport } from './import.service.ts';

const dir = mkdtempSync(join(tmpdir(), 'liuke-import-fast-test-'));
let n = 0;
function file(content: string | Buffer): string {
  const p = join(dir, `f${++n}.csv`);
  writeFileSync(p, content);
  return p;
}

const NOW = new Date('2024-06-01T00:00:00Z');

// Good rows in plain spellings (converted in SQL), good rows in other spellings
// (through the normalisers), bad values, duplicates, a blank row, quoting.
const MIXED =
  '订单号,客户ID,下单时间,实付金额,优惠金额,订单状态,门店,备注\n' +
  'A1,C1,2024-03-01 10:00,100.50,,已支付,上海店,x\n' +
  'A2,C2,2024-03-01,20,5.00,已退款,"北京, 三里屯",\n' +
  'A3,C1,2024/3/2 9:05,"¥1,234.50",,paid,"say ""hi""\nsecond line",\n' +
  ' A4 , C3 ,20240303,7,,退款,,\n' +
  'A5,C1,2023-02-29,10,,已支付,,\n' + // no 29 February in 2023
  'A6,C1,2024-02-29 23:59:59,-5,,已支付,,\n' + // a real date, a negative amount
  'A7,,2024-03-01 24:00,abc,,丢了,,\n' + // several problems in one row
  'A1,C9,2024-03-05,1,,,,\n' + // duplicate of row 2
  'A5,C9,2024-03-05,3,,,,\n' + // same id as a rejected row: kept
  ',,,,,,,\n' + // blank: skipped
  'A8,C4,2024-03-06 08:00,0.5,,PAID,,\n' +
  'A9,C4,1899-12-31,1,,已支付,,\n' +
  'A10,C5,2024-03-07 07:07,999999999999.99,,已支付,,\n' + // the largest amount
  'A11,C5,2024-02-29,0.123456,,已支付,上海店,\n' +
  'A12,C5\u00a0,2024-03-08 08:00:30,3,,已退货,\u3000店\u3000,\n'; // spaces String.trim() removes

/** Runs the Node path (LIUKE_IMPORT_RAW=0) instead of the raw one. */
async function viaRows<T>(fn: () => Promise<T>): Promise<T> {
  process.env.LIUKE_IMPORT_RAW = '0';
  try {
    return await fn();
  } finally {
    delete process.env.LIUKE_IMPORT_RAW;
  }
}

async function workspace(store: Store, id: number): Promise<void> {
  await sql`insert into workspaces (id, slug, name) values (${id}, ${`w${id}`}, ${`W${id}`}) on conflict do nothing`.execute(store.db);
}

forEachStore('imports: raw CSV path', (get) => {
  const run = (entity: ImportEntity, path: string, extra: Partial<ImportOptions> = {}) =>
    runImport(get(), { workspaceId: 1, entity, input: { path }, fileName: 'same.csv', actor: 'cli', now: NOW, ...extra });

  /** What a user could see of a workspace's orders, customers and figures. */
  async function stored(ws: number) {
    const db = get().db;
    const orders = await sql`
      select id, customer_id, ordered_at, amount, discount, coupon_code, status, store, channel
      from orders where workspace_id = ${ws} order by id`.execute(db);
    const customers = await sql`
      select id, is_stub, stats_first_order_at, stats_last_order_at, stats_orders, stats_spend
      from customers where workspace_id = ${ws} order by id`.execute(db);
    return { orders: orders.rows, customers: customers.rows };
  }

  const counts = (r: ImportReport) => ({
    status: r.status,
    rowsRead: r.rowsRead,
    inserted: r.inserted,
    updated: r.updated,
    unchanged: r.unchanged,
    rejected: r.rejected,
    stubCustomers: r.stubCustomers,
    errors: r.errors,
  });

  it('stores the same rows and reports the same rejected rows as the Node path', async () => {
    await workspace(get(), 21);
    await workspace(get(), 22);
    const p = file(MIXED);
    const rawIssues: unknown[] = [];
    const rowIssues: unknown[] = [];
    const raw = await run('orders', p, { workspaceId: 21, onIssue: (i) => rawIssues.push(i) });
    const rows = await viaRows(() => run('orders', p, { workspaceId: 22, onIssue: (i) => rowIssues.push(i) }));
    assert.equal(raw.loader, 'raw-csv');
    assert.equal(rows.loader, 'rows');
    assert.deepEqual(counts(raw), counts(rows));
    assert.deepEqual(rawIssues, rowIssues);
    assert.deepEqual(await stored(21), await stored(22));
    // What the two agree on is right: 9 loaded, 5 rejected, the blank row skipped.
    assert.deepEqual([raw.rowsRead, raw.inserted, raw.rejected, raw.stubCustomers], [14, 9, 5, 6]);
    assert.deepEqual(
      raw.errors.map((e) => `${e.row}|${e.column}|${e.reason.replace(/:.*/, '')}`),
      ['6|下单时间|not a valid date', '7|实付金额|negative amount', '8|客户ID|customer_id is required', '8|下单时间|not a valid time of day', '8|实付金额|not an amount', '8|订单状态|unknown order status', '9|订单号|duplicate', '13|下单时间|not a valid date'],
    );
    const a3 = (await stored(21)).orders.find((o) => (o as { id: string }).id === 'A3') as { amount: number; store: string; status: string };
    assert.deepEqual([a3.amount, a3.store, a3.status], [1234.5, 'say "hi"\nsecond line', 'paid']);
    const a12 = (await stored(21)).orders.find((o) => (o as { id: string }).id === 'A12') as { customer_id: string; store: string };
    assert.deepEqual([a12.customer_id, a12.store], ['C5', '店']);

    // Re-import: nothing changes either way; a changed row updates either way.
    const again = await run('orders', p, { workspaceId: 21 });
    const againRows = await viaRows(() => run('orders', p, { workspaceId: 22 }));
    assert.deepEqual(counts(again), counts(againRows));
    assert.deepEqual([again.inserted, again.updated, again.unchanged], [0, 0, 9]);
    const p2 = file(MIXED.replace('A2,C2,2024-03-01,20,', 'A2,C4,2024-03-01,25,'));
    const changed = await run('orders', p2, { workspaceId: 21 });
    const changedRows = await viaRows(() => run('orders', p2, { workspaceId: 22 }));
    assert.deepEqual(counts(changed), counts(changedRows));
    assert.deepEqual([changed.inserted, changed.updated, changed.unchanged], [0, 1, 8]);
    assert.deepEqual(await stored(21), await stored(22));
  });

  it('reads a GBK file through the raw path too', async () => {
    await workspace(get(), 23);
    await workspace(get(), 24);
    const p = file(iconv.encode('订单号,客户ID,下单时间,实付金额,门店\nG1,王五,2024-03-01,10,北京店\nG2,王五,2024-03-02,-1,北京店\n', 'gbk'));
    const raw = await run('orders', p, { workspaceId: 23 });
    const rows = await viaRows(() => run('orders', p, { workspaceId: 24 }));
    assert.deepEqual([raw.loader, raw.encoding, raw.inserted, raw.rejected], ['raw-csv', 'gb18030', 1, 1]);
    assert.deepEqual(counts(raw), counts(rows));
    assert.deepEqual(await stored(23), await stored(24));
  });

  it('a customers file of plain columns takes the raw path too; one with a phone column does not', async () => {
    await workspace(get(), 28);
    await workspace(get(), 29);
    const p = file('会员号,姓名,城市,注册时间\nK1,赵六,深圳,2024-01-02 13:05\nK2, 钱七 ,,2024/1/3\nK1,重复,,\n');
    const raw = await run('customers', p, { workspaceId: 28 });
    const rows = await viaRows(() => run('customers', p, { workspaceId: 29 }));
    assert.deepEqual([raw.loader, raw.inserted, raw.rejected], ['raw-csv', 2, 1]);
    assert.deepEqual(counts(raw), counts(rows));
    const people = async (ws: number) =>
      (await sql`select id, name, city, registered_at, is_stub from customers where workspace_id = ${ws} order by id`.execute(get().db)).rows;
    assert.deepEqual(await people(28), await people(29));
    const phones = await run('customers', file('会员号,手机号\nK1,13800138000\n'), { workspaceId: 28 });
    assert.equal(phones.loader, 'rows');
  });

  it('falls back to the Node path for a file COPY would refuse or read differently, with the same result', async () => {
    await workspace(get(), 25);
    await workspace(get(), 26);
    const cases = [
      'order_id,customer_id,order_date,amount\nR1,C1,2024-01-01,1\nR2,C1\nR3,C1,2024-01-01,3,\n', // ragged, and a stray trailing comma
      'order_id,customer_id,order_date,amount,store\nQ1,C1,2024-01-01,1,12" pizza\nQ2,C1,2024-01-01,2,"a"b\n', // quotes csv-parse reads as text
      'order_id,customer_id,order_date,amount\nL1,C1,2024-01-01,1\n\nL2,C1,2024-01-01,2\n', // a blank line
    ];
    for (const body of cases) {
      const p = file(body);
      const raw = await run('orders', p, { workspaceId: 25 });
      const rows = await viaRows(() => run('orders', p, { workspaceId: 26 }));
      assert.equal(raw.loader, 'rows', body);
      assert.deepEqual(counts(raw), counts(rows));
    }
    assert.deepEqual(await stored(25), await stored(26));
    const q1 = await get().db.selectFrom('orders').select('store').where('workspace_id', '=', 25).where('id', '=', 'Q1').executeTakeFirstOrThrow();
    assert.equal(q1.store, '12" pizza');
    const ragged = await get().db.selectFrom('import_runs').select('report').where('workspace_id', '=', 25).orderBy('id').executeTakeFirstOrThrow();
    assert.match(JSON.stringify(ragged.report), /row has 2 fields but the header has 4/);
  });

  it('--strict and --dry-run on the raw path: nothing written, exact counts', async () => {
    await workspace(get(), 27);
    const p = file(MIXED);
    const strict = await run('orders', p, { workspaceId: 27, strict: true });
    assert.deepEqual([strict.loader, strict.status, strict.rejected, strict.inserted], ['raw-csv', 'failed', 5, 0]);
    const dry = await run('orders', p, { workspaceId: 27, dryRun: true });
    assert.deepEqual([dry.status, dry.inserted, dry.rejected, dry.stubCustomers], ['dry_run', 9, 5, 6]);
    assert.deepEqual(await stored(27), { orders: [], customers: [] });
  });

  it('refuses a workspace that does not exist before writing anything (orders have no foreign key to catch it)', async () => {
    const p = file('order_id,customer_id,order_date,amount\nW1,C1,2024-01-01,1\n');
    await assert.rejects(run('orders', p, { workspaceId: 999 }), /workspace 999 does not exist/);
    const left = await sql<{ n: number }>`
      select (select count(*) from orders where workspace_id = 999) + (select count(*) from customers where workspace_id = 999) as n`.execute(get().db);
    assert.equal(Number(left.rows[0]!.n), 0);
  });
});

// A first load of a large file goes straight into the table (fast.ts copyDirect); `batchRows`
// makes these small files "large". A fresh store: the bulk load needs a table small next to the file.
forEachStore('imports: direct load', (get, kind) => {
  const run = (entity: ImportEntity, path: string, extra: Partial<ImportOptions> = {}) =>
    runImport(get(), { workspaceId: 1, entity, input: { path }, fileName: 'same.csv', actor: 'cli', now: NOW, batchRows: 3, ...extra });
  async function stored(ws: number) {
    const db = get().db;
    const q = async (s: ReturnType<typeof sql>) => (await s.execute(db)).rows;
    return {
      orders: await q(sql`select id, customer_id, ordered_at, amount, discount, coupon_code, status, store, channel, updated_at from orders where workspace_id = ${ws} order by id`),
      customers: await q(sql`select id, is_stub, stats_first_order_at, stats_last_order_at, stats_orders, stats_spend from customers where workspace_id = ${ws} order by id`),
    };
  }
  /** What a direct load takes off the tables for a while: keys, indexes, column defaults. */
  const keysAndIndexes = async () => {
    const db = get().db;
    const indexes = await sql`select tablename, indexname, indexdef from pg_indexes where schemaname = current_schema() and tablename in ('orders', 'customers') order by indexname`.execute(db);
    const defaults = await sql`
      select table_name, column_name, column_default from information_schema.columns
      where table_schema = current_schema() and table_name in ('orders', 'customers') order by table_name, column_name`.execute(db);
    return [...indexes.rows, ...defaults.rows];
  };
  /** A bulk load needs a table small next to the file: each test starts from empty tables. */
  async function emptyTables(): Promise<void> {
    for (const t of ['orders', 'customers']) await sql`delete from ${sql.table(t)}`.execute(get().db);
  }
  const counts = (r: ImportReport) => [r.status, r.loader, r.rowsRead, r.inserted, r.updated, r.unchanged, r.rejected, r.stubCustomers, r.errors];
  // MIXED without its duplicate key (a duplicate sends the file down the raw path: see below).
  const NO_DUP = MIXED.replace('A1,C9,2024-03-05,1,,,,\n', 'A13,C9,2024-03-05,1,,,,\n');

  it('a table another session holds is not waited for twice: the ordinary path loads the file', async (t) => {
    if (kind !== 'postgres') return t.skip('one connection on PGlite');
    for (const ws of [44, 45]) await workspace(get(), ws);
    await emptyTables();
    const d0 = loadStats.direct;
    const p = file(NO_DUP);
    const other = new pg.Client({ connectionString: get().url });
    await other.connect();
    try {
      await other.query('begin');
      await other.query('lock table orders in access share mode');
      const r = await run('orders', p, { workspaceId: 44 });
      await other.query('commit');
      const rows = await viaRows(() => run('orders', p, { workspaceId: 45 }));
      assert.deepEqual(counts(r).slice(2), counts(rows).slice(2));
      assert.deepEqual(await stored(44), await stored(45));
      assert.equal(loadStats.direct, d0);
    } finally {
      await other.end();
    }
  });

  it('a plain customers file loads directly too', async () => {
    for (const ws of [40, 41]) await workspace(get(), ws);
    await emptyTables();
    const d0 = loadStats.direct;
    const p = file('会员号,姓名,城市,注册时间\nK1,赵六,深圳,2024-01-02 13:05\nK2, 钱七 ,,2024/1/3\nK3,孙八,,\nK4,,上海,2024-02-29\n');
    const direct = await run('customers', p, { workspaceId: 40 });
    const rows = await viaRows(() => run('customers', p, { workspaceId: 41 }));
    assert.equal(loadStats.direct, d0 + 1);
    assert.deepEqual(counts(direct).slice(2), counts(rows).slice(2));
    const people = async (ws: number) =>
      (await sql`select id, name, city, registered_at, is_stub, updated_at from customers where workspace_id = ${ws} order by id`.execute(get().db)).rows;
    assert.deepEqual(await people(40), await people(41));
  });
  it('a file COPY of the file itself would refuse (line ends of two kinds) gets the same result as before', async () => {
    for (const ws of [38, 39]) await workspace(get(), ws);
    await emptyTables();
    const d0 = loadStats.direct;
    const mixedEnds = file('order_id,customer_id,order_date,amount\r\nE1,C1,2024-01-01,1\r\nE2,C1,2024-01-01,2\nE3,C2,2024-01-02,3\r\nE4,C2,2024-01-02,4\r\n');
    const r1 = await run('orders', mixedEnds, { workspaceId: 38 });
    const r2 = await viaRows(() => run('orders', mixedEnds, { workspaceId: 39 }));
    assert.deepEqual(counts(r1), counts(r2));
    assert.deepEqual(await stored(38), await stored(39));
    assert.equal(loadStats.direct, d0);
  });

  it('tallies the customers\' figures in Node as the records pass: the figures the aggregate gives; the aggregate where the time zone changes offset', async () => {
    for (const ws of [46, 47, 48, 49]) await workspace(get(), ws);
    await sql`update workspaces set time_zone = 'America/New_York' where id in (48, 49)`.execute(get().db);
    const p = file(
      '订单号,客户ID,下单时间,实付金额,订单状态\n' +
        'T1,P1,2024-03-09 23:00,1.005,已支付\n' + // rounded to cents as numeric(14, 2) rounds
        'T2,P1,2024-03-10 12:00:30,2.994999,\n' + // empty status: paid
        'T3,P1,2024-03-10,0.125,已退款\n' +
        'T4,P2,2024-01-01,5,已退款\n' + // only a refunded order
        'T5,P3,2024-11-02 01:30,10,paid\n' +
        'T6,P3,2024-11-04,99999999999.995,已支付\n' +
        'T7,"P4",2024-05-01,3,已支付\n' + // quoted: checked in Node, its figures merged in SQL
        'T8,P1,2024-06-01 08:00,7.5,已支付\n' +
        'T9,P4,2024-04-30 23:59:59,0.5,已退货\n' +
        'T10,P1,2024-03-09 22:59:59.5,1,已支付\n', // not a plain time: checked in Node
    );
    for (const [direct, rows, tallied] of [
      [46, 47, 1],
      [48, 49, 0],
    ] as const) {
      await emptyTables();
      const d0 = loadStats.direct;
      const t0 = loadStats.tallied;
      const r = await run('orders', p, { workspaceId: direct });
      assert.deepEqual([loadStats.direct, loadStats.tallied], [d0 + 1, t0 + tallied]);
      const byRows = await viaRows(() => run('orders', p, { workspaceId: rows }));
      assert.deepEqual(counts(r).slice(2), counts(byRows).slice(2));
      assert.deepEqual(await stored(direct), await stored(rows));
    }
    // Without a status column every order is paid.
    await emptyTables();
    const t0 = loadStats.tallied;
    const q = file('订单号,客户ID,下单时间,实付金额\nU1,Q1,2024-01-01,1\nU2,Q1,2024-01-02 10:00,2.5\nU3,Q2,2024-01-03,3\nU4,Q3,2024-01-03,3\n');
    await run('orders', q, { workspaceId: 46 });
    await viaRows(() => run('orders', q, { workspaceId: 47 }));
    assert.equal(loadStats.tallied, t0 + 1);
    assert.deepEqual(await stored(46), await stored(47));
  });

  it('a first orders file into a workspace without customers makes its stubs straight from the tally: the Node path\'s customers, in id order', async () => {
    for (const ws of [50, 51, 52, 53]) await workspace(get(), ws);
    const before = await keysAndIndexes();
    // Ids out of order (the stubs go in sorted), one customer with only a refunded order, amounts to round.
    const p = file('订单号,客户ID,下单时间,实付金额,订单状态\nV1,Z9,2024-02-01 10:00,1.005,已支付\nV2,Z10,2024-02-02,5,已退款\nV3,Z1,2024-02-03,2.5,paid\nV4,Z9,2024-01-15 08:30:15,7,已支付\nV5,Z2,2024-03-01,0.125,已支付\n');
    const full = async (ws: number) =>
      (
        await sql<{ id: string; is_stub: boolean; stats_orders: number; stats_spend: string }>`
                  select id, is_stub, created_at, updated_at, stats_first_order_at, stats_last_order_at, stats_orders, stats_spend
                  from customers where workspace_id = ${ws} order by ctid`.execute(get().db)
      ).rows;
    await emptyTables();
    const s0 = loadStats.straightStubs;
    const straight = await run('orders', p, { workspaceId: 50 });
    assert.equal(loadStats.straightStubs, s0 + 1);
    const rows = await viaRows(() => run('orders', p, { workspaceId: 51 }));
    assert.deepEqual(counts(straight).slice(2), counts(rows).slice(2));
    assert.equal(straight.stubCustomers, 4);
    assert.deepEqual(await full(50), await full(51));
    assert.deepEqual((await full(50)).map((c) => c.id), ['Z1', 'Z10', 'Z2', 'Z9']);
    assert.deepEqual(await keysAndIndexes(), before, 'keys, indexes and column defaults put back');
    // A customer of the workspace already there: the stubs are found by comparing with it, as before.
    await emptyTables();
    await sql`insert into customers (workspace_id, id, name) values (52, 'Z2', '老客')`.execute(get().db);
    const s1 = loadStats.straightStubs;
    const known = await run('orders', p, { workspaceId: 52 });
    assert.equal(loadStats.straightStubs, s1);
    assert.equal(known.stubCustomers, 3);
    const z2 = (await full(52)).find((c) => c.id === 'Z2')!;
    assert.deepEqual([z2.is_stub, z2.stats_orders, String(z2.stats_spend)], [false, 1, '0.13']);
    // A dry run makes no stubs straight: it reports them, and keeps nothing.
    await emptyTables();
    const dry = await run('orders', p, { workspaceId: 53, dryRun: true });
    assert.deepEqual([dry.status, dry.stubCustomers, loadStats.straightStubs], ['dry_run', 4, s1]);
    assert.deepEqual(await full(53), []);
  });

  it('stores the same rows and reports the same rejected rows as the Node path; dry run and strict write nothing', async () => {
    for (const ws of [31, 32, 33]) await workspace(get(), ws);
    await emptyTables();
    const before = await keysAndIndexes();
    const p = file(NO_DUP);
    const d0 = loadStats.direct;
    const dry = await run('orders', p, { workspaceId: 31, dryRun: true });
    const strict = await run('orders', p, { workspaceId: 31, strict: true });
    assert.equal(loadStats.direct, d0 + 2);
    assert.deepEqual([dry.status, dry.inserted, dry.rejected, dry.stubCustomers], ['dry_run', 10, 4, 6]);
    assert.deepEqual([strict.status, strict.inserted, strict.rejected, strict.stubCustomers], ['failed', 0, 4, 0]);
    assert.deepEqual(await stored(31), { orders: [], customers: [] });
    assert.deepEqual(await keysAndIndexes(), before);

    const issues: unknown[] = [];
    const rowIssues: unknown[] = [];
    const direct = await run('orders', p, { workspaceId: 31, onIssue: (i) => issues.push(i) });
    assert.equal(loadStats.direct, d0 + 3);
    const rows = await viaRows(() => run('orders', p, { workspaceId: 32, onIssue: (i) => rowIssues.push(i) }));
    assert.deepEqual(counts(direct), [...counts(rows).slice(0, 1), 'raw-csv', ...counts(rows).slice(2)]);
    assert.deepEqual(counts(direct).slice(2), [14, 10, 0, 0, 4, 6, dry.errors]);
    assert.deepEqual(issues, rowIssues);
    assert.deepEqual(await stored(31), await stored(32));
    assert.deepEqual(await keysAndIndexes(), before);
    // A re-import changes nothing (the workspace has rows now: the upsert path).
    const again = await run('orders', p, { workspaceId: 31 });
    assert.deepEqual([again.inserted, again.updated, again.unchanged, loadStats.direct], [0, 0, 10, d0 + 3]);
  });

  it('a duplicate key, or a row fixed up in Node repeating a key, undoes the direct load: the raw path then gives the Node path result', async () => {
    for (const ws of [34, 35, 36, 37]) await workspace(get(), ws);
    await emptyTables();
    const before = await keysAndIndexes();
    const d0 = loadStats.direct;
    const cases: [number, number, string][] = [
      [34, 35, MIXED], // A1 twice, both plain: the rebuilt primary key fails
      [36, 37, `${NO_DUP} A2 ,C8,2024-03-09,2,,,,\n`], // " A2 " is A2 once trimmed in Node
    ];
    for (const [a, b, body] of cases) {
      await emptyTables();
      const p = file(body);
      const first = await run('orders', p, { workspaceId: a });
      const rows = await viaRows(() => run('orders', p, { workspaceId: b }));
      assert.equal(first.loader, 'raw-csv');
      assert.deepEqual(counts(first).slice(2), counts(rows).slice(2));
      assert.deepEqual(await stored(a), await stored(b));
      assert.match(JSON.stringify(first.errors), /duplicate: the same id as row/);
    }
    assert.equal(loadStats.direct, d0);
    assert.deepEqual(await keysAndIndexes(), before);
  });

});

describe('direct load: RowSorter.transform', () => {
  const spec = SPECS.orders;
  const headers = ['订单号', '客户ID', '下单时间', '实付金额', '优惠金额', '订单状态', '备注'];
  const mapping = resolveMapping('orders', headers, undefined);
  const mapped = mappedColumns(spec, mapping, headers);
  const shape = { prefix: Buffer.from('7,'), suffix: Buffer.from(',2024-06-01T00:00:00.000Z\n'), cols: [...mapped].sort((a, b) => a.col - b.col).map((m) => m.col) };
  const sorter = () => new RowSorter(headers.length, mapped, [], false);

  it('writes plain records as lines of the table (words mapped, defaults for empty cells, unmapped columns left out) and keeps the others for Node', () => {
    const r = sorter();
    const out = r.transform(Buffer.from('A1,C1,2024-03-01 10:00,100.50,,已退款,x\nA2,C2,2024/3/1,1,2,paid,\n"A3",C3,2024-03-01,1,,,\n'), shape);
    assert.equal(out.toString(), '7,A1,C1,2024-03-01 10:00,100.50,0,refunded,2024-06-01T00:00:00.000Z\n');
    assert.deepEqual(r.takeBad().map((b) => b.toString()), ['3,A2,C2,2024/3/1,1,2,paid,\n', '4,"A3",C3,2024-03-01,1,,,\n']);
    assert.equal(r.records, 3);
  });

  it('refuses what COPY of the file would refuse even in a column it leaves out: bad UTF-8, NUL, a carriage return inside a record, two kinds of line ends', () => {
    const bad = [
      Buffer.concat([Buffer.from('A1,C1,2024-03-01,1,,,'), Buffer.from([0xff, 0x0a])]),
      Buffer.from('A1,C1,2024-03-01,1,,,a\u0000b\n'),
      Buffer.from('A1,C1,2024-03-01,1,,,a\rb\n'),
      Buffer.from('A1,C1,2024-03-01,1,,,\r\nA2,C1,2024-03-01,1,,,\n'),
    ];
    for (const b of bad) assert.throws(() => sorter().transform(b, shape), NotForRawPath, JSON.stringify(b.toString()));
    assert.equal(sorter().transform(Buffer.from('A1,C1,2024-03-01,1,,,\r\nA2,C1,2024-03-01,1,,,\r\n'), shape).toString().split('\n').length, 3);
  });
});

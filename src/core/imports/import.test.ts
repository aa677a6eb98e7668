import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { sql } from 'kysely';
import { forEachStore } from '../../db/testing.ts';
import { estimatedRows } from '../../db/planner.ts';
import { refreshCustomerStats } from '../customers/customers.stats.ts';
import { type ImportOptions, loadStats, runImport } from './import.service.ts';
import type { ImportEntity } from './entities.ts';

const dir = mkdtempSync(join(tmpdir(), 'liuke-import-test-'));
let n = 0;
function file(content: string | Buffer, ext = 'csv'): string {
  const p = join(dir, `f${++n}.${ext}`);
  writeFileSync(p, content);
  return p;
}

const NOW = new Date('2024-06-01T00:00:00Z');

forEachStore('imports', (get) => {
  const run = (entity: ImportEntity, path: string, extra: Partial<ImportOptions> = {}) =>
    runImport(get(), { workspaceId: 1, entity, input: { path }, fileName: path, actor: 'cli', now: NOW, ...extra });

  it('imports customers with Chinese headers, normalises values and keeps unknown headers as attributes', async () => {
    const p = file(
      '客户编号,姓名,手机号,邮箱,性别,生日,省份,城市,注册时间,渠道,会员等级,宝宝生日\n' +
        'C1,张三,138 0013 8000,Zhang@Example.COM,男,1990/1/2,广东,深圳,2024-01-02 13:05,小程序,金卡,2023-05-01\n' +
        'C2,李四,+86 139-0000-0000,,女,,,,20240103,门店,,\n',
    );
    const r = await run('customers', p);
    assert.equal(r.status, 'done');
    assert.deepEqual([r.rowsRead, r.inserted, r.updated, r.unchanged, r.rejected], [2, 2, 0, 0, 0]);
    const c1 = await get().db.selectFrom('customers').selectAll().where('id', '=', 'C1').executeTakeFirstOrThrow();
    assert.equal(c1.phone, '+8613800138000');
    assert.equal(c1.email, 'zhang@example.com');
    assert.equal(c1.gender, 'male');
    assert.equal(c1.birthday, '1990-01-02');
    // No offset given: read in the workspace time zone (Asia/Shanghai, UTC+8).
    assert.equal(c1.registered_at?.toISOString(), '2024-01-02T05:05:00.000Z');
    assert.deepEqual(c1.attributes, { 宝宝生日: '2023-05-01' });
    assert.equal(c1.is_stub, false);
  });

  it('re-importing the same file changes nothing; a changed row updates', async () => {
    const body = 'order_id,customer_id,order_date,amount,status\nO1,C1,2024-02-01,¥1,234.50,已支付\nO2,C9,2024-02-02T10:00:00+08:00,99,已退款\n';
    const p = file(body.replace('¥1,234.50', '"¥1,234.50"'));
    const first = await run('orders', p);
    assert.deepEqual([first.inserted, first.updated, first.unchanged, first.rejected], [2, 0, 0, 0]);
    assert.equal(first.stubCustomers, 1, 'C9 is unknown and becomes a stub');
    const again = await run('orders', p);
    assert.deepEqual([again.inserted, again.updated, again.unchanged, again.rejected], [0, 0, 2, 0]);
    const p2 = file(body.replace('¥1,234.50', '"¥1,300"'));
    const changed = await run('orders', p2);
    assert.deepEqual([changed.inserted, changed.updated, changed.unchanged], [0, 1, 1]);
    const o1 = await get().db.selectFrom('orders').selectAll().where('id', '=', 'O1').executeTakeFirstOrThrow();
    assert.equal(o1.amount, 1300);
    const stub = await get().db.selectFrom('customers').selectAll().where('id', '=', 'C9').executeTakeFirstOrThrow();
    assert.equal(stub.is_stub, true);
    const runs = await get().db.selectFrom('import_runs').selectAll().where('entity', '=', 'orders').orderBy('id').execute();
    assert.deepEqual(runs.map((x) => [x.status, x.inserted, x.updated, x.unchanged]), [['done', 2, 0, 0], ['done', 0, 0, 2], ['done', 0, 1, 1]]);
  });

  it('rejects bad rows with row, column and reason, and loads the good ones', async () => {
    const p = file(
      'order_id,customer_id,order_date,amount\n' +
        'B1,C1,2024-02-30,10\n' + // no 30 February
        'B2,C1,2024-02-01,-5\n' +
        'B3,C1,2024-02-01,abc\n' +
        'B4,C1,2024-02-01,12.5\n' +
        'B4,C1,2024-02-03,13\n' + // duplicate of row 5
        'B5,C1\n', // ragged
    );
    const issues: unknown[] = [];
    const r = await run('orders', p, { onIssue: (i) => issues.push(i) });
    assert.equal(r.inserted, 1);
    assert.equal(r.rejected, 5);
    const reasons = r.errors.map((e) => `${e.row}|${e.column}|${e.reason}`);
    assert.match(reasons[0]!, /^2\|order_date\|not a valid date/);
    assert.match(reasons[1]!, /^3\|amount\|negative amount/);
    assert.match(reasons[2]!, /^4\|amount\|not an amount/);
    assert.match(reasons[3]!, /^6\|order_id\|duplicate: .* row 5/);
    assert.match(reasons[4]!, /^7\|\|row has 2 fields but the header has 4/);
    assert.equal(issues.length, 5);
  });

  it('--strict writes nothing when a row is bad; --dry-run reports and writes nothing', async () => {
    const p = file('product_id,name,price\nP1,Tea,12\nP2,Cup,-1\n');
    const strict = await run('products', p, { strict: true });
    assert.equal(strict.status, 'failed');
    assert.equal(strict.rejected, 1);
    assert.match(strict.message ?? '', /--strict/);
    const count = async () => Number((await sql<{ n: number }>`select count(*) as n from products`.execute(get().db)).rows[0]!.n);
    assert.equal(await count(), 0);
    const dry = await run('products', p, { dryRun: true });
    assert.equal(dry.status, 'dry_run');
    assert.deepEqual([dry.inserted, dry.rejected], [1, 1]);
    assert.equal(await count(), 0);
  });

  it('fails before writing anything when required columns are missing, naming them and the headers found', async () => {
    const p = file('订单号,备注\nX1,hello\n');
    await assert.rejects(run('orders', p), (e: Error) => {
      assert.match(e.message, /missing required columns for orders: customer_id .*ordered_at .*amount/);
      assert.match(e.message, /"订单号", "备注"/);
      return true;
    });
    const last = await get().db.selectFrom('import_runs').selectAll().orderBy('id', 'desc').executeTakeFirstOrThrow();
    assert.equal(last.status, 'failed');
  });

  it('reports unknown headers as ignored for entities other than customers', async () => {
    const p = file('商品ID,商品名称,类目,价格,供应商\nP9,Tea,饮品,¥8.00,ACME\n');
    const r = await run('products', p);
    assert.equal(r.inserted, 1);
    assert.deepEqual(r.ignoredHeaders, [{ header: '供应商', reason: 'unknown header' }]);
  });

  it('detects a GBK file, and fails clearly when told it is UTF-8', async () => {
    const p = file(iconv.encode('客户编号,姓名,城市\nG1,王五,北京\n', 'gbk'));
    const r = await run('customers', p);
    assert.equal(r.encoding, 'gb18030');
    const g1 = await get().db.selectFrom('customers').select(['name', 'city']).where('id', '=', 'G1').executeTakeFirstOrThrow();
    assert.deepEqual(g1, { name: '王五', city: '北京' });
    await assert.rejects(run('customers', p, { encoding: 'utf8' }), /not valid UTF-8 .*--encoding gb18030/);
  });

  it('refuses malformed CSV with unbalanced quotes and leaves the store as it was', async () => {
    const p = file('product_id,name\nQ1,ok\nQ2,"never closed\nQ3,x\n');
    await assert.rejects(run('products', p), /malformed CSV .*unbalanced quotes/);
    const q = await get().db.selectFrom('products').select('id').where('id', 'like', 'Q%').execute();
    assert.equal(q.length, 0);
  });

  it('refuses an empty file and a binary file', async () => {
    await assert.rejects(run('products', file('')), /is empty/);
    await assert.rejects(run('products', file('\n\n')), /is empty/);
    await assert.rejects(run('products', file(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 13, 1, 2, 3]), 'png')), /not a text file/);
  });

  it('imports XLSX with dates and serial numbers, and asks which sheet when several have data', async () => {
    const wb = new ExcelJS.Workbook();
    const s1 = wb.addWorksheet('订单');
    s1.addRow(['订单号', '客户ID', '下单时间', '实付金额']);
    s1.addRow(['X1', 'C1', new Date(Date.UTC(2024, 0, 2, 13, 5)), 50]);
    s1.addRow(['X2', 'C1', 45293, 60.5]); // Excel serial for 2024-01-02
    const s2 = wb.addWorksheet('备注');
    s2.addRow(['note']);
    const p = join(dir, 'orders.xlsx');
    await wb.xlsx.writeFile(p);
    await assert.rejects(run('orders', p), /several sheets with data \("订单", "备注"\): choose one with --sheet/);
    const r = await run('orders', p, { sheet: '订单' });
    assert.deepEqual([r.format, r.inserted, r.rejected], ['xlsx', 2, 0]);
    const x = await get().db.selectFrom('orders').select(['id', 'ordered_at', 'amount']).where('id', 'in', ['X1', 'X2']).orderBy('id').execute();
    assert.equal(x[0]!.ordered_at.toISOString(), '2024-01-02T05:05:00.000Z');
    assert.equal(x[1]!.ordered_at.toISOString(), '2024-01-01T16:00:00.000Z');
    assert.equal(x[1]!.amount, 60.5);
  });

  it('gives imported events a deterministic id so a re-import stores nothing twice', async () => {
    const p = file('客户ID,事件类型,发生时间,页面\nC1,登录,2024-03-01 08:00,/home\nC1,加入购物车,2024-03-01 08:05,/cart\nE7,search,2024-03-01 09:00,/\n');
    const a = await run('events', p);
    assert.deepEqual([a.inserted, a.stubCustomers], [3, 1]);
    const b = await run('events', p);
    assert.deepEqual([b.inserted, b.unchanged], [0, 3]);
    const types = await get().db.selectFrom('events').select('type').orderBy('occurred_at').execute();
    assert.deepEqual(types.map((t) => t.type), ['login', 'add_to_cart', 'search']);
  });

  it('numbers order lines per order, and imports tickets and surveys with Chinese enums', async () => {
    const lines = await run('order-lines', file('订单号,商品ID,品类,数量,单价\nO1,SKU1,茶,2,10\nO1,SKU2,杯,1,30\nO2,SKU1,茶,1,10\n'));
    assert.equal(lines.inserted, 3);
    const l = await get().db.selectFrom('order_lines').select(['order_id', 'line_no']).orderBy('order_id').orderBy('line_no').execute();
    assert.deepEqual(l.map((x) => `${x.order_id}/${x.line_no}`), ['O1/1', 'O1/2', 'O2/1']);
    const t = await run('tickets', file('工单号,客户ID,类型,分类,优先级,状态,创建时间,满意度\nT1,C1,投诉,物流,紧急,处理中,2024-03-01 10:00,2\n'));
    assert.equal(t.inserted, 1);
    const tk = await get().db.selectFrom('tickets').selectAll().executeTakeFirstOrThrow();
    assert.deepEqual([tk.kind, tk.priority, tk.status, tk.csat], ['complaint', 'urgent', 'pending', 2]);
    const s = await run('surveys', file('编号,客户ID,提交时间,NPS,流失原因,评价内容\nS1,C1,2024-03-02,3,价格太高,太贵了\nS2,C1,2024-03-02,11,,\n'));
    assert.deepEqual([s.inserted, s.rejected], [1, 1]);
    assert.match(s.errors[0]!.reason, /NPS must be from 0 to 10/);
  });

  it('a customer import fills in a stub customer created by an order', async () => {
    await run('orders', file('订单号,客户ID,下单时间,订单金额\nS-O1,STUB1,2024-01-01,10\n'));
    const r = await run('customers', file('会员号,姓名\nSTUB1,赵六\n'));
    assert.deepEqual([r.inserted, r.updated], [0, 1]);
    const c = await get().db.selectFrom('customers').select(['name', 'is_stub']).where('id', '=', 'STUB1').executeTakeFirstOrThrow();
    assert.deepEqual(c, { name: '赵六', is_stub: false });
  });

  it('a customers file gives its new customers zero order figures and leaves the others\' alone; order lines change none', async () => {
    const db = get().db;
    await sql`insert into workspaces (id, slug, name) values (9, 'figures-scope', 'Figures scope') on conflict do nothing`.execute(db);
    const listed = async () =>
      Object.fromEntries(
        (await sql<{ id: string; o: number | null; s: number | null }>`select id, stats_orders as o, stats_spend as s from customers where workspace_id = 9 order by id`.execute(db)).rows.map(
          (r) => [r.id, [r.o, r.s]],
        ),
      );
    await run('customers', file('会员号,姓名\nY1,甲\nY2,乙\n'), { workspaceId: 9 });
    await run('orders', file('订单号,客户ID,下单时间,订单金额\nY-O1,Y1,2024-01-01,10\n'), { workspaceId: 9 });
    assert.deepEqual(await listed(), { Y1: [1, 10], Y2: [0, 0] });
    // A figure made stale behind the import's back stays so: neither file refreshes every customer.
    await sql`update customers set stats_orders = 42 where workspace_id = 9 and id = 'Y2'`.execute(db);
    await run('customers', file('会员号,姓名\nY3,丙\nY1,甲一\n'), { workspaceId: 9 });
    assert.equal((await run('order-lines', file('订单号,行号,商品ID,单价\nY-O1,1,P1,10\n'), { workspaceId: 9 })).inserted, 1);
    assert.deepEqual(await listed(), { Y1: [1, 10], Y2: [42, 0], Y3: [0, 0] });
  });

  it('a file large next to the table loads with its indexes dropped and rebuilt: same rows, same keys, re-import unchanged', async () => {
    const db = get().db;
    await sql`insert into workspaces (id, slug, name) values (7, 'bulk', 'Bulk') on conflict do nothing`.execute(db);
    const shape = async () =>
      (
        await sql<{ d: string }>`
          select indexdef as d from pg_indexes where tablename in ('orders', 'customers')
          union all select conname || ' ' || pg_get_constraintdef(oid) from pg_constraint where conrelid in ('orders'::regclass, 'customers'::regclass)
          order by 1`.execute(db)
      ).rows.map((r) => r.d);
    const before = await shape();
    const rows = Array.from({ length: 60 }, (_, i) => `BK${i},BC${i % 25},2024-03-0${1 + (i % 9)} 10:00,${i + 1},${i % 5 === 0 ? '已退款' : '已支付'}\n`);
    // Row 62 repeats order BK3: rejected as before, not stored twice.
    const p = file(`订单号,客户ID,下单时间,实付金额,订单状态\n${rows.join('')}BK3,BC1,2024-03-01,1,已支付\n`);
    const r = await run('orders', p, { workspaceId: 7, batchRows: 10 });
    assert.deepEqual([r.inserted, r.rejected, r.stubCustomers], [60, 1, 25]);
    assert.match(r.errors[0]!.reason, /duplicate: .* row 5/);
    assert.deepEqual(await shape(), before, 'every index and key is back as it was');
    const n = await sql<{ o: number; c: number; listed: number }>`
      select (select count(*) from orders where workspace_id = 7)::integer as o,
             (select count(*) from customers where workspace_id = 7 and is_stub)::integer as c,
             (select sum(stats_orders) from customers where workspace_id = 7)::integer as listed`.execute(db);
    assert.deepEqual(n.rows[0], { o: 60, c: 25, listed: 48 });
    const again = await run('orders', p, { workspaceId: 7, batchRows: 10 });
    assert.deepEqual([again.inserted, again.updated, again.unchanged, again.stubCustomers], [0, 0, 60, 0]);
  });

  it('an orders file naming many existing customers rewrites their figures with customers\' indexes dropped and rebuilt: same figures as a full refresh', async () => {
    const db = get().db;
    await sql`insert into workspaces (id, slug, name) values (8, 'bulk-customers', 'Bulk customers') on conflict do nothing`.execute(db);
    const shape = async () =>
      (
        await sql<{ d: string }>`
          select indexdef as d from pg_indexes where tablename = 'customers'
          union all select conname || ' ' || pg_get_constraintdef(oid) from pg_constraint where conrelid = 'customers'::regclass
          order by 1`.execute(db)
      ).rows.map((r) => r.d);
    const before = await shape();
    const customers = Array.from({ length: 40 }, (_, i) => `XC${i},客户${i},138${String(i).padStart(8, '0')},${i % 2 ? '深圳' : '上海'},金卡\n`);
    const c = await run('customers', file(`客户ID,姓名,手机号,城市,会员等级\n${customers.join('')}`), { workspaceId: 8, batchRows: 10 });
    assert.equal(c.inserted, 40);
    // Orders for 36 of them and 4 unknown ids (stubs).
    const orders = Array.from({ length: 90 }, (_, i) => `XO${i},XC${i % 40 < 36 ? i % 40 : 40 + (i % 4)},2024-03-0${1 + (i % 9)} 10:00,${i + 1}.5,${i % 7 === 0 ? '已退款' : '已支付'}\n`);
    const bulk0 = loadStats.bulk.filter((t) => t === 'customers').length;
    const r = await run('orders', file(`订单号,客户ID,下单时间,实付金额,订单状态\n${orders.join('')}`), { workspaceId: 8, batchRows: 10 });
    assert.deepEqual([r.inserted, r.rejected, r.stubCustomers], [90, 0, 4]);
    assert.equal(loadStats.bulk.filter((t) => t === 'customers').length, bulk0 + 1, 'customers were taken for the rewrite');
    assert.deepEqual(await shape(), before, 'every index and key is back as it was');
    const figures = async () => ({
      listed: (await sql`select id, stats_first_order_at, stats_last_order_at, stats_orders, stats_spend from customers where workspace_id = 8 order by id`.execute(db)).rows,
    });
    const imported = await figures();
    assert.equal(imported.listed.length, 44);
    await refreshCustomerStats(db, 8);
    assert.deepEqual(imported, await figures(), 'the figures a full refresh computes');
  });

  it('a small orders file (a day of a large workspace) gives its customers the figures a full refresh gives', async () => {
    const db = get().db;
    // Customers of workspace 8 from the test above, with orders; the planner's count of
    // customers now puts the two touched below well under a third: each is read through
    // its own index range of orders (collectFigures) rather than one pass over all orders.
    await sql`analyze customers`.execute(db);
    assert.ok((await estimatedRows(db, 'customers')) >= 3 * 2);
    const r = await run('orders', file('订单号,客户ID,下单时间,实付金额,订单状态\nXD1,XC3,2024-04-01 10:00,12.5,已支付\nXD2,XC5,2024-04-02 11:00,7.25,已退款\nXD3,XC3,2024-04-03 09:00,3,已支付\n'), {
      workspaceId: 8,
    });
    assert.deepEqual([r.inserted, r.rejected, r.stubCustomers], [3, 0, 0]);
    const figures = async () => ({
      listed: (await sql`select id, stats_first_order_at, stats_last_order_at, stats_orders, stats_spend from customers where workspace_id = 8 order by id`.execute(db)).rows,
    });
    const imported = await figures();
    const xc3 = imported.listed.find((c) => (c as { id: string }).id === 'XC3') as { stats_last_order_at: Date };
    assert.equal(xc3.stats_last_order_at.toISOString().slice(0, 10), '2024-04-03');
    await refreshCustomerStats(db, 8);
    assert.deepEqual(imported, await figures(), 'the figures a full refresh computes');
  });

  it('honours an explicit mapping file', async () => {
    const r = await run('products', file('code,label,cost\nM1,Mug,5\n'), { mapping: { code: 'id', label: 'name', cost: 'price' } });
    assert.equal(r.inserted, 1);
    await assert.rejects(run('products', file('code\nM2\n'), { mapping: { code: 'sku' } }), /unknown products field "sku"/);
  });
});

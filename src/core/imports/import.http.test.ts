import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { forEachStore } from '../../db/testing.ts';
import { startTestServer, type TestServer } from '../../server/testing.ts';

const TOKEN = 'local-token-for-import-tests-0123456789';

function upload(srv: TestServer, entity: string, body: string | Buffer, opts: { query?: string; mapping?: object; name?: string } = {}) {
  const form = new FormData();
  if (opts.mapping) form.append('mapping', JSON.stringify(opts.mapping));
  form.append('file', new Blob([typeof body === 'string' ? body : new Uint8Array(body)]), opts.name ?? 'data.csv');
  return fetch(`${srv.url}/api/imports/${entity}${opts.query ? `?${opts.query}` : ''}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}` },
    body: form,
  });
}

type Report = { status: string; loader?: string; inserted: number; updated: number; unchanged: number; rejected: number; errors: { row: number; reason: string }[] };
type ErrorBody = { error: { code: string; message: string } };

forEachStore('imports over HTTP', (get) => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer(get(), { localToken: TOKEN, env: { LIUKE_MAX_UPLOAD_BYTES: '4096' } });
  });
  after(() => srv.close());

  it('imports an uploaded CSV and returns the report; the same upload again changes nothing', async () => {
    const csv = '订单号,客户ID,下单时间,实付金额,订单状态\nH1,HC1,2024-01-02 10:00,99.00,已支付\nH2,HC1,2024/1/3,¥12,已退款\n';
    const r = await upload(srv, 'orders', csv);
    assert.equal(r.status, 200);
    const rep = (await r.json()) as Report;
    // spooled to a file first, an upload takes the raw path as a file named on the command line does
    assert.deepEqual([rep.status, rep.inserted, rep.rejected, rep.loader], ['done', 2, 0, 'raw-csv']);
    const again = (await (await upload(srv, 'orders', csv)).json()) as Report;
    assert.deepEqual([again.inserted, again.updated, again.unchanged], [0, 0, 2]);
  });

  it('takes strict, dry_run and a mapping, and detects a GBK upload', async () => {
    const dry = (await (await upload(srv, 'products', 'code,label\nHP1,Tea\n', { query: 'dry_run=true', mapping: { code: 'id', label: 'name' } })).json()) as Report;
    assert.deepEqual([dry.status, dry.inserted], ['dry_run', 1]);
    const strict = (await (await upload(srv, 'products', 'product_id,price\nHP2,1\nHP3,-1\n', { query: 'strict=true' })).json()) as Report;
    assert.deepEqual([strict.status, strict.rejected, strict.inserted], ['failed', 1, 0]);
    const gbk = (await (await upload(srv, 'customers', iconv.encode('会员号,姓名\nHG1,钱七\n', 'gbk'))).json()) as Report;
    assert.deepEqual([gbk.status, gbk.inserted], ['done', 1]);
    const c = await get().db.selectFrom('customers').select('name').where('id', '=', 'HG1').executeTakeFirstOrThrow();
    assert.equal(c.name, '钱七');
  });

  it('imports an uploaded XLSX, choosing the sheet from the query', async () => {
    const wb = new ExcelJS.Workbook();
    wb.addWorksheet('商品').addRow(['商品编码', '商品名称']);
    wb.getWorksheet('商品')!.addRow(['HX1', '绿茶']);
    wb.addWorksheet('备注').addRow(['note']);
    const book = Buffer.from(await wb.xlsx.writeBuffer());
    // a workbook is larger than this suite's 4 KB limit: a server with the default one
    const roomy = await startTestServer(get(), { localToken: TOKEN });
    try {
      const several = await upload(roomy, 'products', book, { name: 'products.xlsx' });
      assert.equal(several.status, 400);
      assert.match(((await several.json()) as ErrorBody).error.message, /several sheets/);
      const r = (await (await upload(roomy, 'products', book, { name: 'products.xlsx', query: `sheet=${encodeURIComponent('商品')}` })).json()) as Report & { format: string };
      assert.deepEqual([r.status, r.format, r.inserted], ['done', 'xlsx', 1]);
    } finally {
      await roomy.close();
    }
    const p = await get().db.selectFrom('products').select('name').where('id', '=', 'HX1').executeTakeFirstOrThrow();
    assert.equal(p.name, '绿茶');
  });

  it('answers a file it cannot import with 400 in the error shape', async () => {
    const r = await upload(srv, 'orders', '订单号\nX\n');
    assert.equal(r.status, 400);
    const body = (await r.json()) as ErrorBody;
    assert.equal(body.error.code, 'missing_columns');
    const bin = await upload(srv, 'orders', Buffer.from([1, 2, 0, 0, 5, 6]), { name: 'x.bin' });
    assert.equal(((await bin.json()) as ErrorBody).error.code, 'binary_file');
  });

  it('refuses an upload over the size limit with 413 and imports nothing', async () => {
    const rows = Array.from({ length: 400 }, (_, i) => `BIG${i},Product ${i},9.90`).join('\n');
    const r = await upload(srv, 'products', `product_id,name,price\n${rows}\n`);
    assert.equal(r.status, 413);
    assert.equal(((await r.json()) as ErrorBody).error.code, 'too_large');
    const n = await get().db.selectFrom('products').select('id').where('id', 'like', 'BIG%').execute();
    assert.equal(n.length, 0);
  });

  it('refuses a caller without an allowed role and an unknown entity', async () => {
    const form = new FormData();
    form.append('file', new Blob(['product_id\nA1\n']), 'p.csv');
    const anon = await fetch(`${srv.url}/api/imports/products`, { method: 'POST', body: form });
    assert.equal(anon.status, 401);
    const bad = await upload(srv, 'widgets', 'a\n1\n');
    assert.equal(bad.status, 400);
  });
});

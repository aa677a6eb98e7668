import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { refreshCustomerStats } from '../../core/customers/customers.stats.ts';
import { signInAs } from '../../core/users/users.testing.ts';
import type { Database } from '../../db/schema.ts';
import { forEachStore } from '../../db/testing.ts';
import { type Kysely, sql } from 'kysely';
import { startTestServer, type TestServer } from '../testing.ts';

// biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary JSON
type Json = Record<string, any>;
const NOW = new Date('2025-06-30T12:00:00Z');

async function seed(db: Kysely<Database>): Promise<void> {
  const c = (id: string, name: string | null, phone: string | null, email: string | null, city: string, level: string, registered: string, extra: Json = {}) => ({
    workspace_id: 1,
    id,
    name,
    phone,
    email,
    gender: null,
    birthday: '1990-05-01',
    region: null,
    city,
    time_zone: null,
    registered_at: registered,
    acquisition_channel: null,
    membership_level: level,
    membership_expires_at: null,
    owner: extra.owner ?? null,
    preferred_channel: null,
    consent: JSON.stringify({ sms: { marketing: true } }),
    attributes: JSON.stringify({ address: '上海市长宁路 1 号', vip_note: 'likes tea' }),
    merged_into: null,
    erased_at: null,
    is_stub: extra.is_stub ?? false,
  });
  await db
    .insertInto('customers')
    .values([
      c('C001', '张伟', '13812345678', 'zhang.wei@example.com', '上海', 'gold', '2023-01-10T00:00:00Z', { owner: 'amy' }),
      c('C002', '王芳', '13900001111', 'wang@example.com', '北京', 'silver', '2023-03-01T00:00:00Z'),
      c('C003', 'Zhao Lei', '13700002222', 'zl@example.org', '上海', 'gold', '2024-02-01T00:00:00Z'),
      c('C004', null, null, null, '上海', 'none', '2024-05-01T00:00:00Z', { is_stub: true }),
      c('C010', '张三', '13655555678', 'z3@example.com', '广州', 'silver', '2024-06-01T00:00:00Z'),
    ])
    .execute();
  const o = (id: string, customer: string, at: string, amount: number, status: 'paid' | 'refunded' = 'paid') => ({
    workspace_id: 1,
    id,
    customer_id: customer,
    ordered_at: at,
    amount,
    coupon_code: null,
    status,
    store: 'S1',
    channel: 'pos',
    attributes: JSON.stringify({ shipping_address: '长宁路 1 号' }),
  });
  await db
    .insertInto('orders')
    .values([
      o('O1', 'C001', '2025-01-05T10:00:00Z', 100),
      o('O2', 'C001', '2025-03-05T10:00:00Z', 300),
      o('O3', 'C001', '2025-04-05T10:00:00Z', 999, 'refunded'),
      o('O4', 'C002', '2025-02-01T10:00:00Z', 50),
      o('O5', 'C003', '2025-06-01T10:00:00Z', 1000),
    ])
    .execute();
  await db
    .insertInto('order_lines')
    .values([
      { workspace_id: 1, order_id: 'O1', line_no: 1, product_id: 'P1', category: 'tea', quantity: 2, price: 50 },
      { workspace_id: 1, order_id: 'O2', line_no: 1, product_id: 'P2', category: 'cup', quantity: 1, price: 300 },
    ])
    .execute();
  await db
    .insertInto('events')
    .values([
      { workspace_id: 1, message_id: 'E1', customer_id: 'C001', anonymous_id: null, type: 'login', occurred_at: '2025-06-20T09:00:00Z', properties: JSON.stringify({ ip: '1.2.3.4' }) },
      { workspace_id: 1, message_id: 'E2', customer_id: 'C001', anonymous_id: null, type: 'view', occurred_at: '2025-03-05T10:00:00Z', properties: '{}' },
    ])
    .execute();
  await db
    .insertInto('tickets')
    .values({
      workspace_id: 1,
      id: 'T1',
      customer_id: 'C001',
      category: 'delivery',
      subject: '快递太慢',
      body: '我的电话是 13812345678',
      owner: null,
      channel: 'phone',
      created_at: '2025-05-01T08:00:00Z',
      first_response_at: null,
      resolved_at: null,
      due_at: null,
      csat: null,
      attributes: '{}',
    })
    .execute();
  await db
    .insertInto('survey_responses')
    .values({ workspace_id: 1, id: 'S1', customer_id: 'C001', responded_at: '2025-05-02T08:00:00Z', nps: 9, csat: 4, churn_reason: null, text: '很好，张伟', attributes: '{}' })
    .execute();
  await refreshCustomerStats(db, 1);
}

forEachStore('customer API', (get) => {
  let srv: TestServer;
  let admin: string;
  let viewer: string;
  let agent: string;
  let analyst: string;
  before(async () => {
    srv = await startTestServer(get(), { now: () => NOW });
    await seed(get().db);
    admin = (await signInAs(get().db, srv.url, 'admin')).cookie;
    viewer = (await signInAs(get().db, srv.url, 'viewer')).cookie;
    agent = (await signInAs(get().db, srv.url, 'agent')).cookie;
    analyst = (await signInAs(get().db, srv.url, 'analyst')).cookie;
  });
  after(() => srv.close());

  const call = async (path: string, cookie: string, method = 'GET') => {
    const res = await fetch(`${srv.url}${path}`, { method, headers: { cookie } });
    const text = await res.text();
    let json: Json = {};
    try {
      json = JSON.parse(text);
    } catch {}
    return { status: res.status, json, text, headers: res.headers };
  };
  const ids = (r: { json: Json }) => r.json.items.map((i: Json) => i.id);

  it('lists customers with their paid-order figures', async () => {
    const r = await call('/api/customers', analyst);
    assert.equal(r.status, 200);
    assert.equal(r.json.total, 5);
    assert.equal(r.json.total_exact, true);
    const c1 = r.json.items.find((i: Json) => i.id === 'C001');
    assert.equal(c1.orders, 2, 'the refunded order is not counted');
    assert.equal(c1.spend, 400);
    assert.equal(c1.phone, '13812345678');
    assert.equal(c1.first_order_at, '2025-01-05T10:00:00.000Z');
    assert.equal(c1.last_order_at, '2025-03-05T10:00:00.000Z');
  });

  it('searches id, phone prefix and suffix, email prefix and name prefix', async () => {
    assert.deepEqual(ids(await call('/api/customers?q=C001', analyst)), ['C001']);
    assert.deepEqual(ids(await call('/api/customers?q=139', analyst)), ['C002']);
    assert.deepEqual(ids(await call('/api/customers?q=5678', analyst)), ['C001', 'C010'], 'last four digits');
    assert.deepEqual(ids(await call('/api/customers?q=ZHANG.W', analyst)), ['C001'], 'email prefix, any case');
    assert.deepEqual(ids(await call(`/api/customers?q=${encodeURIComponent('张')}`, analyst)), ['C001', 'C010']);
    assert.deepEqual(ids(await call('/api/customers?q=zhao', analyst)), ['C003']);
    assert.deepEqual(ids(await call('/api/customers?q=%25', analyst)), [], 'LIKE wildcards are literal');
  });

  it('filters and sorts', async () => {
    assert.deepEqual(ids(await call(`/api/customers?city=${encodeURIComponent('上海')}&sort=spend&order=desc`, analyst)), ['C003', 'C001', 'C004']);
    assert.deepEqual(ids(await call('/api/customers?membership_level=gold&sort=registered_at&order=desc', analyst)), ['C003', 'C001']);
    assert.deepEqual(ids(await call('/api/customers?is_stub=true', analyst)), ['C004']);
    assert.deepEqual(ids(await call('/api/customers?owner=amy', analyst)), ['C001']);
    assert.deepEqual(ids(await call('/api/customers?min_spend=100&max_spend=500', analyst)), ['C001']);
    assert.deepEqual(ids(await call('/api/customers?registered_from=2024-01-01T00:00:00Z&registered_to=2024-05-15T00:00:00Z', analyst)), ['C003', 'C004']);
    assert.deepEqual(ids(await call('/api/customers?sort=orders&order=desc&page_size=2', analyst)), ['C001', 'C003']);
    const p2 = await call('/api/customers?sort=id&page=2&page_size=2', analyst);
    assert.deepEqual(ids(p2), ['C003', 'C004']);
    assert.equal(p2.json.total, 5);
    const byName = ids(await call('/api/customers?sort=name&page_size=5', analyst));
    assert.equal(byName[0], 'C003', 'Latin before Chinese names');
    assert.equal(byName[4], 'C004', 'no name sorts last');
  });

  it('masks phone and email for agent and viewer, everywhere', async () => {
    for (const cookie of [agent, viewer]) {
      const list = await call('/api/customers?q=C001', cookie);
      assert.equal(list.json.items[0].phone, '138****5678');
      assert.equal(list.json.items[0].email, 'z***@example.com');
      const one = await call('/api/customers/C001', cookie);
      assert.equal(one.json.customer.phone, '138****5678');
      const csv = await call('/api/customers/export?format=csv&q=C001', cookie);
      assert.ok(csv.text.includes('138****5678'));
      assert.ok(!csv.text.includes('13812345678'));
    }
    assert.equal((await call('/api/customers/C001', admin)).json.customer.phone, '13812345678');
  });

  it('exports the filtered list as CSV and XLSX', async () => {
    const csv = await call(`/api/customers/export?format=csv&city=${encodeURIComponent('上海')}`, analyst);
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-disposition') ?? '', /customers\.csv/);
    const lines = csv.text.replace(/^\uFEFF/, '').trim().split('\n');
    assert.equal(lines[0], 'id,name,phone,email,city,membership_level,owner,registered_at,first_order_at,last_order_at,orders,spend');
    assert.equal(lines.length, 4);
    const x = await fetch(`${srv.url}/api/customers/export?format=xlsx`, { headers: { cookie: analyst } });
    assert.equal(Buffer.from(await x.arrayBuffer()).subarray(0, 2).toString(), 'PK');
  });

  it('answers the 360 view with profile and figures', async () => {
    const r = await call('/api/customers/C001', analyst);
    assert.equal(r.status, 200);
    assert.equal(r.json.customer.membership_level, 'gold');
    assert.deepEqual(r.json.customer.consent, { sms: { marketing: true } });
    assert.deepEqual(r.json.figures, {
      first_order_at: '2025-01-05T10:00:00.000Z',
      last_order_at: '2025-03-05T10:00:00.000Z',
      orders: 2,
      spend: 400,
      average_order_value: 200,
      refunded_orders: 1,
      open_tickets: 1,
      last_nps: 9,
      last_csat: 4,
      events_30d: 1,
    });
    assert.equal((await call('/api/customers/NOPE', analyst)).status, 404);
  });

  it('pages the timeline newest first with a cursor', async () => {
    const all: Json[] = [];
    let cursor: string | null = null;
    do {
      const r = await call(`/api/customers/C001/timeline?limit=2${cursor ? `&before=${cursor}` : ''}`, analyst);
      assert.equal(r.status, 200);
      all.push(...r.json.items);
      cursor = r.json.next_cursor;
    } while (cursor);
    assert.deepEqual(
      all.map((i) => `${i.type}:${i.id}`),
      ['event:E1', 'survey:S1', 'ticket:T1', 'order:O3', 'order:O2', 'event:E2', 'order:O1'],
    );
    assert.equal(all[6]!.detail.lines[0].product_id, 'P1');
    const only = await call('/api/customers/C001/timeline?types=ticket,survey', analyst);
    assert.deepEqual(only.json.items.map((i: Json) => i.type), ['survey', 'ticket']);
    assert.equal((await call('/api/customers/C001/timeline?types=bogus', analyst)).status, 400);
    assert.equal((await call('/api/customers/C001/timeline?before=zzz', analyst)).status, 400);
  });

  it('exports and erases one person for an admin, keeping amounts, both audited', async () => {
    assert.equal((await call('/api/privacy/customers/C001/export', analyst)).status, 403);
    const ex = await call('/api/privacy/customers/C001/export', admin);
    assert.equal(ex.status, 200);
    assert.equal(ex.json.customer.phone, '13812345678');
    assert.equal(ex.json.orders.length, 3);
    assert.equal(ex.json.orders[0].lines[0].product_id, 'P1');
    assert.equal(ex.json.events.length, 2);
    assert.equal(ex.json.tickets[0].subject, '快递太慢');
    assert.equal(ex.json.surveys[0].nps, 9);
    const er = await call('/api/privacy/customers/C001/erase', admin, 'POST');
    assert.equal(er.status, 200);
    assert.equal(er.json.tickets, 1);
    const one = await call('/api/customers/C001', admin);
    assert.equal(one.json.customer.name, null);
    assert.equal(one.json.customer.phone, null);
    assert.equal(one.json.customer.birthday, null);
    assert.ok(one.json.customer.erased_at);
    assert.deepEqual(one.json.customer.attributes, { vip_note: 'likes tea' });
    assert.equal(one.json.figures.spend, 400, 'amounts stay');
    const again = await call('/api/privacy/customers/C001/export', admin);
    assert.ok(!again.text.includes('13812345678'), 'no trace of the phone number left');
    assert.ok(!again.text.includes('长宁路'), 'no trace of the address left');
    assert.ok(!again.text.includes('1.2.3.4'));
    const audit = await call('/api/audit?entity=customer&entity_id=C001', admin);
    assert.deepEqual(audit.json.items.map((i: Json) => i.action), ['export', 'erase', 'export']);
    assert.equal((await call('/api/privacy/customers/NOPE/erase', admin, 'POST')).status, 404);
  });

  it('refreshCustomerStats for some customers updates only them', async () => {
    const { db } = get();
    const before = (await call('/api/customers?q=C001', analyst)).json.items[0];
    await db.insertInto('orders').values({ workspace_id: 1, id: 'O9', customer_id: 'C002', ordered_at: '2025-06-10T00:00:00Z', amount: 70, coupon_code: null, store: null, channel: null, attributes: '{}' }).execute();
    await db.insertInto('orders').values({ workspace_id: 1, id: 'O10', customer_id: 'C001', ordered_at: '2025-06-11T00:00:00Z', amount: 5, coupon_code: null, store: null, channel: null, attributes: '{}' }).execute();
    assert.equal(await refreshCustomerStats(db, 1, ['C002']), 1);
    const r = await call('/api/customers?q=C002', analyst);
    assert.equal(r.json.items[0].orders, 2);
    assert.equal(r.json.items[0].spend, 120);
    // C001's new order is not in the list until C001 is refreshed
    assert.deepEqual((await call('/api/customers?q=C001', analyst)).json.items[0], before);
    assert.equal(await refreshCustomerStats(db, 1, ['C001']), 1);
    const after = (await call('/api/customers?q=C001', analyst)).json.items[0];
    assert.deepEqual([after.orders, after.spend], [before.orders + 1, before.spend + 5]);
  });

  it('counts exactly up to 1,000 and estimates above, saying so', async () => {
    const { db } = get();
    await sql`insert into customers (workspace_id, id, name, city) select 1, 'X' || lpad(g::text, 5, '0'), 'Xu ' || g, '杭州' from generate_series(1, 1500) g`.execute(db);
    await sql`analyze customers`.execute(db);
    const few = await call(`/api/customers?city=${encodeURIComponent('上海')}`, analyst);
    assert.equal(few.json.total_exact, true);
    const many = await call(`/api/customers?city=${encodeURIComponent('杭州')}&page_size=10`, analyst);
    assert.equal(many.json.total_exact, false);
    assert.ok(many.json.total > 1000, `estimate ${many.json.total}`);
    assert.equal(many.json.items.length, 10);
    const searched = await call('/api/customers?q=xu&page_size=10&sort=name&order=desc', analyst);
    assert.equal(searched.json.total_exact, false, 'more than 1,000 matches: the search was cut off');
    assert.equal(searched.json.items.length, 10);
    const one = await call('/api/customers?q=X01499', analyst);
    assert.deepEqual([one.json.total, one.json.total_exact], [1, true]);
  });
});

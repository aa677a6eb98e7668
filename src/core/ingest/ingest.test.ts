// Ingestion through real HTTP on both stores: the Segment endpoints, the REST
// endpoints, dedupe, partial batches, limits and keys — and a real Segment client.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { Analytics } from '@segment/analytics-node';
import { sql } from 'kysely';
import { forEachStore } from '../../db/testing.ts';
import { startTestServer, type TestServer } from '../../server/testing.ts';
import { createKey, revokeKey } from '../keys/keys.service.ts';

const NOW = new Date('2025-03-01T08:00:00Z');
const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

interface Answer {
  status: number;
  body: Record<string, unknown> & { error?: { code: string; message: string; field?: string } };
}

forEachStore('ingestion', (get) => {
  let srv: TestServer;
  let key: string;
  let adminKey: string;
  before(async () => {
    srv = await startTestServer(get(), {
      now: () => NOW,
      // Stands in for a signed-in operator (sessions are not this suite's concern).
      authenticators: [
        async (req) =>
          req.headers['x-test-operator'] ? { kind: 'user', id: 'op', actor: 'user:op', role: 'operator', workspaceId: 1 } : null,
      ],
    });
    key = (await createKey(get().db, { workspaceId: 1, role: 'ingest' })).key;
    adminKey = (await createKey(get().db, { workspaceId: 1, role: 'admin' })).key;
  });
  after(() => srv.close());

  const post = async (path: string, body: unknown, opts: { key?: string | null; headers?: Record<string, string> } = {}): Promise<Answer> => {
    const k = opts.key === undefined ? key : opts.key;
    const r = await fetch(`${srv.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(k ? { authorization: basic(k) } : {}), ...opts.headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json()) as Answer['body'] };
  };
  const count = async (table: string, where = sql`true`) =>
    Number((await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)} where ${where}`.execute(get().db)).rows[0]!.n);
  const customer = async (id: string) => get().db.selectFrom('customers').selectAll().where('id', '=', id).executeTakeFirst();
  const event = async (messageId: string) => get().db.selectFrom('events').selectAll().where('message_id', '=', messageId).executeTakeFirst();

  it('identify creates a customer from known traits and merges custom ones into attributes', async () => {
    const a = await post('/v1/identify', {
      userId: 'u1',
      messageId: 'id-1',
      traits: {
        firstName: '三',
        lastName: '张',
        email: 'San@Example.com',
        phone: '13800000001',
        gender: '男',
        birthday: '1990-05-03',
        createdAt: '2024-01-02T03:04:05Z',
        address: { city: '杭州', state: '浙江', street: '文三路' },
        plan: 'gold',
      },
      context: { timezone: 'Asia/Shanghai' },
    });
    assert.equal(a.status, 200);
    assert.deepEqual(a.body, { success: true });
    const c = await customer('u1');
    assert.ok(c);
    assert.equal(c.name, '张三');
    assert.equal(c.email, 'san@example.com');
    assert.equal(c.gender, 'male');
    assert.equal(c.birthday, '1990-05-03');
    assert.equal(c.city, '杭州');
    assert.equal(c.region, '浙江');
    assert.equal(c.time_zone, 'Asia/Shanghai');
    assert.equal(c.registered_at?.toISOString(), '2024-01-02T03:04:05.000Z');
    assert.equal(c.is_stub, false);
    assert.deepEqual(c.attributes, { plan: 'gold', address: { street: '文三路' } });

    await post('/v1/identify', { userId: 'u1', messageId: 'id-2', traits: { vip: true, plan: 'platinum' } });
    const c2 = await customer('u1');
    assert.equal(c2?.name, '张三', 'a trait not sent keeps its value');
    assert.deepEqual(c2?.attributes, { plan: 'platinum', address: { street: '文三路' }, vip: true });
  });

  it('track stores a normalised event, keeps the name, and makes a stub of an unknown user', async () => {
    const a = await post('/v1/track', {
      userId: 'stub-1',
      event: 'Product Viewed',
      messageId: 'tr-1',
      timestamp: '2025-02-28T10:00:00Z',
      properties: { product_id: 'p1', price: 9.9 },
    });
    assert.equal(a.status, 200);
    const e = await event('tr-1');
    assert.equal(e?.type, 'product_view');
    assert.equal(e?.customer_id, 'stub-1');
    assert.equal(e?.occurred_at.toISOString(), '2025-02-28T10:00:00.000Z');
    assert.equal(e?.received_at.toISOString(), NOW.toISOString());
    assert.deepEqual(e?.properties, { product_id: 'p1', price: 9.9, $event: 'Product Viewed' });
    const c = await customer('stub-1');
    assert.equal(c?.is_stub, true);

    await post('/v1/track', { userId: 'stub-1', event: 'Signed In', messageId: 'tr-2' });
    assert.equal((await event('tr-2'))?.type, 'login');
    assert.equal((await event('tr-2'))?.occurred_at.toISOString(), NOW.toISOString(), 'no time sent: the time received');
  });

  it('corrects originalTimestamp for client clock skew with sentAt, as Segment does', async () => {
    // The client's clock is 1 hour fast: it sent 5 s after the event, by its clock.
    await post('/v1/batch', {
      sentAt: '2025-03-01T09:00:05Z',
      batch: [{ type: 'track', userId: 'u1', event: 'Feature Used', messageId: 'skew-1', originalTimestamp: '2025-03-01T09:00:00Z' }],
    });
    assert.equal((await event('skew-1'))?.occurred_at.toISOString(), '2025-03-01T07:59:55.000Z');
    assert.equal((await event('skew-1'))?.type, 'feature_used');
  });

  it('page, screen, group and alias are accepted', async () => {
    assert.equal((await post('/v1/page', { anonymousId: 'a-9', name: 'Home', messageId: 'pg-1', properties: { path: '/' } })).status, 200);
    const p = await event('pg-1');
    assert.equal(p?.type, 'page_view');
    assert.equal(p?.anonymous_id, 'a-9');
    assert.equal(p?.customer_id, null);
    assert.deepEqual(p?.properties, { path: '/', $name: 'Home' });
    assert.equal((await post('/v1/screen', { userId: 'u1', name: 'Cart', messageId: 'sc-1' })).status, 200);
    assert.equal((await event('sc-1'))?.type, 'screen_view');
    assert.equal((await post('/v1/group', { userId: 'u1', groupId: 'acme', messageId: 'gr-1', traits: { size: 10 } })).status, 200);
    assert.deepEqual((await event('gr-1'))?.properties, { groupId: 'acme', traits: { size: 10 } });
    assert.equal((await post('/v1/alias', { userId: 'u1', previousId: 'a-9', messageId: 'al-1' })).status, 200);
    assert.equal((await event('pg-1'))?.customer_id, 'u1', 'alias links the previous anonymous id');
  });

  it('identify with an anonymousId links the visitor\'s earlier events to the customer', async () => {
    await post('/v1/batch', {
      batch: [
        { type: 'page', anonymousId: 'anon-7', messageId: 'an-1' },
        { type: 'track', anonymousId: 'anon-7', event: 'Product Added', messageId: 'an-2' },
      ],
    });
    assert.equal((await event('an-2'))?.customer_id, null);
    assert.equal((await event('an-2'))?.type, 'add_to_cart');
    const r = await post('/v1/identify', { userId: 'u7', anonymousId: 'anon-7', messageId: 'an-3', traits: { email: 'u7@example.com' } });
    assert.equal(r.status, 200);
    assert.equal((await event('an-1'))?.customer_id, 'u7');
    assert.equal((await event('an-2'))?.customer_id, 'u7');
    assert.equal((await event('an-2'))?.anonymous_id, 'anon-7', 'the anonymous id is kept');
    assert.equal((await customer('u7'))?.email, 'u7@example.com');
  });

  it('a retried batch stores nothing twice', async () => {
    const batch = {
      batch: Array.from({ length: 20 }, (_, i) => ({ type: 'track', userId: `d${i % 3}`, event: 'Lesson Completed', messageId: `dup-${i}` })),
    };
    assert.equal((await post('/v1/batch', batch)).status, 200);
    const n = await count('events');
    const again = await post('/v1/batch', batch);
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, { success: true });
    assert.equal(await count('events'), n);
    assert.equal(await count('events', sql`message_id like 'dup-%'`), 20);
    assert.equal(await count('events', sql`type = 'course_lesson_completed'`), 20);
  });

  it('batches sent at the same time, some repeating each other\'s messages, are each acknowledged and stored once', async () => {
    // Concurrent plain batches share INSERT statements (event-writer.ts); who shares with whom must not matter.
    const at = (j: number) => new Date(Date.UTC(2025, 1, 1, 0, j)).toISOString();
    const bodies = Array.from({ length: 12 }, (_, r) => ({
      batch: Array.from({ length: 10 }, (_, i) => {
        const j = r * 5 + i; // batch r repeats the second half of batch r - 1
        return { type: 'track', userId: `cc${j % 7}`, event: 'Signed In', messageId: `cc-${j}`, timestamp: at(j) };
      }),
    }));
    const answers = await Promise.all(bodies.map((b) => post('/v1/batch', b)));
    assert.deepEqual(answers.map((a) => a.status), bodies.map(() => 200));
    assert.equal(await count('events', sql`message_id like 'cc-%'`), 12 * 5 + 5);
    const e = await event('cc-33');
    assert.equal(e?.customer_id, 'cc5');
    assert.equal(new Date(e!.occurred_at).toISOString(), at(33), 'each message keeps its own fields');
    assert.equal(new Date(e!.received_at).toISOString(), NOW.toISOString());
    assert.equal(await count('customers', sql`id like 'cc%'`), 7, 'a stub for each new user, once');
  });

  it('a batch with a bad message stores the good ones and answers 400 naming the bad one', async () => {
    const r = await post('/v1/batch', {
      batch: [
        { type: 'track', userId: 'u1', event: 'Search', messageId: 'pb-0' },
        { type: 'track', userId: 'u1', event: 'Search', messageId: 'pb-1' },
        { type: 'track', userId: 'u1', event: 'Search', messageId: 'pb-2' },
        { type: 'track', userId: 'u1', messageId: 'pb-3' },
        { type: 'track', event: 'Search', messageId: 'pb-4' },
        { type: 'bogus', userId: 'u1', messageId: 'pb-5' },
      ],
    });
    assert.equal(r.status, 400);
    assert.equal(r.body.error?.code, 'invalid');
    assert.equal(r.body.error?.field, 'batch[3].event');
    assert.match(r.body.error?.message ?? '', /3 of 6 messages rejected, 3 accepted/);
    assert.equal(r.body.accepted, 3);
    assert.deepEqual(
      (r.body.rejected as { index: number; field: string }[]).map((x) => [x.index, x.field]),
      [
        [3, 'batch[3].event'],
        [4, 'batch[4].userId'],
        [5, 'batch[5].type'],
      ],
    );
    assert.equal(await count('events', sql`message_id like 'pb-%'`), 3);
  });

  it('names the field at fault on single messages and rejects what is not a batch', async () => {
    const r = await post('/v1/track', { event: 'X', userId: { not: 'an id' } });
    assert.equal(r.status, 400);
    assert.equal(r.body.error?.field, 'userId');
    const t = await post('/v1/identify', { userId: 'u1', traits: { birthday: 'someday' } });
    assert.equal(t.status, 400);
    assert.equal(t.body.error?.field, 'traits.birthday');
    const b = await post('/v1/batch', { nope: [] });
    assert.equal(b.status, 400);
    assert.equal(b.body.error?.field, 'batch');
    const j = await post('/v1/track', '{"event": ');
    assert.equal(j.status, 400);
  });

  it('names a date outside the years 1–9999 and keeps text with a broken surrogate pair', async () => {
    const far = await post('/v1/batch', {
      batch: [
        { type: 'track', userId: 'u1', event: 'Search', messageId: 'yr-0', timestamp: '+010000-01-01T00:00:00Z' },
        { type: 'identify', userId: 'u1', messageId: 'yr-1', traits: { createdAt: 1e15 } },
        { type: 'track', userId: 'u1', event: 'Search', messageId: 'yr-2', timestamp: '2025-02-01T00:00:00Z' },
      ],
    });
    assert.equal(far.status, 400);
    assert.deepEqual(
      (far.body.rejected as { index: number; field: string }[]).map((x) => [x.index, x.field]),
      [
        [0, 'batch[0].timestamp'],
        [1, 'batch[1].traits.createdAt'],
      ],
    );
    assert.equal(await count('events', sql`message_id like 'yr-%'`), 1);
    // "\ud83d" alone is half an emoji: JSON allows it, PostgreSQL does not; it becomes U+FFFD.
    const r = await post('/v1/track', '{"userId":"u1","event":"Search","messageId":"sur-1","properties":{"q":"ok \\ud83d end","\\udc00k":1}}');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const props = (await event('sur-1'))?.properties as Record<string, unknown> | undefined;
    assert.equal(props?.q, 'ok \ufffd end');
    assert.equal(props?.['\ufffdk'], 1);
  });

  it('refuses a message over 32 KB (400) and a body over the limit (413)', async () => {
    const big = 'x'.repeat(33 * 1024);
    const r = await post('/v1/batch', {
      batch: [
        { type: 'track', userId: 'u1', event: 'Search', messageId: 'sz-0' },
        { type: 'track', userId: 'u1', event: 'Search', messageId: 'sz-1', properties: { big } },
      ],
    });
    assert.equal(r.status, 400);
    assert.equal(r.body.error?.field, 'batch[1]');
    assert.match(r.body.error?.message ?? '', /32 KB/);
    assert.ok(await event('sz-0'));
    const huge = { batch: Array.from({ length: 40 }, (_, i) => ({ type: 'track', userId: 'u1', event: 'S', messageId: `hz-${i}`, properties: { big: 'y'.repeat(15_000) } })) };
    const h = await post('/v1/batch', huge);
    assert.equal(h.status, 413);
    assert.equal(h.body.error?.code, 'too_large');
    assert.equal(await count('events', sql`message_id like 'hz-%'`), 0);
  });

  it('refuses a missing, wrong or revoked write key with 401, and takes the writeKey body field', async () => {
    const msg = { userId: 'u1', event: 'Search', messageId: 'k-1' };
    assert.equal((await post('/v1/track', msg, { key: null })).status, 401);
    const wrong = await post('/v1/track', msg, { key: 'lk_ingest_wrong' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error?.code, 'unauthorized');
    assert.equal((await post('/v1/track', msg, { key: 'not-even-ours' })).status, 401);
    const k = await createKey(get().db, { workspaceId: 1, role: 'ingest' });
    assert.equal((await post('/v1/track', { ...msg, messageId: 'k-2' }, { key: k.key })).status, 200);
    await revokeKey(get().db, 1, k.id);
    assert.equal((await post('/v1/track', { ...msg, messageId: 'k-3' }, { key: k.key })).status, 401);
    assert.equal((await post('/v1/track', { ...msg, messageId: 'k-4', writeKey: k.key }, { key: null })).status, 401);
    assert.equal((await post('/v1/track', { ...msg, messageId: 'k-5', writeKey: 'lk_nope' }, { key: null })).status, 401);
    assert.equal(await count('events', sql`message_id in ('k-1', 'k-3', 'k-4', 'k-5')`), 0);
    // analytics.js: writeKey in a text/plain body, no Authorization header
    const r = await post('/v1/track', { ...msg, messageId: 'k-6', writeKey: key }, { key: null, headers: { 'content-type': 'text/plain' } });
    assert.equal(r.status, 200);
    assert.ok(await event('k-6'));
    // an admin key may send too
    assert.equal((await post('/v1/track', { ...msg, messageId: 'k-7' }, { key: adminKey })).status, 200);
  });

  it('takes analytics.js short paths (/v1/t, /v1/p, /v1/b)', async () => {
    const body = { event: 'Cart Viewed', anonymousId: 'br-1', messageId: 'js-1', writeKey: key };
    const h = { 'content-type': 'text/plain' };
    assert.equal((await post('/v1/t', body, { key: null, headers: h })).status, 200);
    assert.equal((await event('js-1'))?.type, 'cart_view');
    assert.equal((await post('/v1/p', { anonymousId: 'br-1', messageId: 'js-2', writeKey: key }, { key: null, headers: h })).status, 200);
    assert.equal((await event('js-2'))?.type, 'page_view');
    const b = { writeKey: key, batch: [{ type: 'track', event: 'Checkout Started', anonymousId: 'br-1', messageId: 'js-3' }] };
    assert.equal((await post('/v1/b', b, { key: null, headers: h })).status, 200);
    assert.equal((await event('js-3'))?.type, 'checkout_started');
  });

  it('answers a CORS preflight for browsers', async () => {
    const r = await fetch(`${srv.url}/v1/batch`, { method: 'OPTIONS', headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST' } });
    assert.equal(r.status, 204);
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
  });

  it('Order Completed records an order with lines and products; Order Refunded marks it; a retry changes nothing', async () => {
    const completed = {
      type: 'track',
      userId: 'buyer-1',
      event: 'Order Completed',
      messageId: 'oc-1',
      timestamp: '2025-02-20T12:00:00Z',
      properties: {
        order_id: 'o-100',
        total: 188,
        discount: 12,
        coupon: 'SPRING',
        currency: 'CNY',
        products: [
          { product_id: 'sku-1', name: '绿茶', category: 'tea', price: 50, quantity: 2 },
          { sku: 'sku-2', name: '茶杯', category: 'ware', price: 100 },
        ],
      },
    };
    assert.equal((await post('/v1/batch', { batch: [completed] })).status, 200);
    const o = await get().db.selectFrom('orders').selectAll().where('id', '=', 'o-100').executeTakeFirst();
    assert.equal(o?.customer_id, 'buyer-1');
    assert.equal(o?.amount, 188);
    assert.equal(o?.discount, 12);
    assert.equal(o?.coupon_code, 'SPRING');
    assert.equal(o?.status, 'paid');
    assert.equal(o?.ordered_at.toISOString(), '2025-02-20T12:00:00.000Z');
    const lines = await get().db.selectFrom('order_lines').selectAll().where('order_id', '=', 'o-100').orderBy('line_no').execute();
    assert.deepEqual(
      lines.map((l) => [l.line_no, l.product_id, l.category, l.quantity, l.price]),
      [
        [1, 'sku-1', 'tea', 2, 50],
        [2, 'sku-2', 'ware', 1, 100],
      ],
    );
    assert.equal((await get().db.selectFrom('products').select('name').where('id', '=', 'sku-1').executeTakeFirst())?.name, '绿茶');
    assert.equal((await customer('buyer-1'))?.is_stub, true);
    assert.equal((await event('oc-1'))?.type, 'order_completed');

    const bad = await post('/v1/track', { userId: 'buyer-1', event: 'Order Completed', messageId: 'oc-bad', properties: { total: 5 } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error?.field, 'properties.order_id');

    await post('/v1/track', { userId: 'buyer-1', event: 'Order Refunded', messageId: 'or-1', properties: { order_id: 'o-100' } });
    const r = await get().db.selectFrom('orders').selectAll().where('id', '=', 'o-100').executeTakeFirst();
    assert.equal(r?.status, 'refunded');
    assert.equal(r?.amount, 188);
    assert.equal(await count('order_lines', sql`order_id = 'o-100'`), 2);
    // A retry of the old Order Completed must not undo the refund.
    assert.equal((await post('/v1/batch', { batch: [completed] })).status, 200);
    assert.equal((await get().db.selectFrom('orders').select('status').where('id', '=', 'o-100').executeTakeFirst())?.status, 'refunded');
  });

  it('POST /api/orders upserts one order or many, replacing lines, and stubs unknown customers', async () => {
    const one = {
      id: 'pos-1',
      customer_id: 'walkin-1',
      ordered_at: '2025-02-01T10:00:00+08:00',
      amount: 99.5,
      store: '西湖店',
      lines: [{ product_id: 'sku-9', price: 99.5 }],
    };
    const r = await post('/api/orders', one);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { success: true, inserted: 1, updated: 0, stub_customers: 1 });
    assert.equal((await customer('walkin-1'))?.is_stub, true);
    const r2 = await post('/api/orders', [
      { ...one, amount: 80, lines: [{ product_id: 'sku-9', price: 40, quantity: 2 }, { product_id: 'sku-8', price: 0 }] },
      { id: 'pos-2', customer_id: 'u1', ordered_at: '2025-02-02T10:00:00Z', amount: 10, status: 'returned' },
    ]);
    assert.deepEqual(r2.body, { success: true, inserted: 1, updated: 1, stub_customers: 0 });
    const o = await get().db.selectFrom('orders').selectAll().where('id', '=', 'pos-1').executeTakeFirst();
    assert.equal(o?.amount, 80);
    assert.equal(o?.ordered_at.toISOString(), '2025-02-01T02:00:00.000Z');
    assert.equal(await count('order_lines', sql`order_id = 'pos-1'`), 2);
    const bad = await post('/api/orders', [{ ...one, amount: -1 }]);
    assert.equal(bad.status, 400);
    assert.match(bad.body.error?.field ?? '', /amount/);
    const noKey = await post('/api/orders', one, { key: null });
    assert.equal(noKey.status, 401);
  });

  it('POST /api/tickets upserts tickets, for ingest keys and operators', async () => {
    const t = { id: 't-1', customer_id: 'u1', subject: '物流太慢', created_at: '2025-02-10T09:00:00Z', priority: 'urgent' };
    const r = await post('/api/tickets', t);
    assert.equal(r.status, 200);
    assert.equal(r.body.inserted, 1);
    const byOperator = await fetch(`${srv.url}/api/tickets`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-test-operator': '1' },
      body: JSON.stringify({ ...t, status: 'resolved', resolved_at: '2025-02-11T09:00:00Z', csat: 4 }),
    });
    assert.equal(byOperator.status, 200);
    const row = await get().db.selectFrom('tickets').selectAll().where('id', '=', 't-1').executeTakeFirst();
    assert.equal(row?.status, 'resolved');
    assert.equal(row?.kind, 'complaint');
    assert.equal(row?.csat, 4);
    const bad = await post('/api/tickets', { ...t, priority: 'whenever' });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error?.field ?? '', /priority/);
  });

  it('POST /api/surveys records NPS and CSAT responses, one response once', async () => {
    const s = { customer_id: 'new-survey-taker', responded_at: '2025-02-15T09:00:00Z', nps: 3, churn_reason: 'price', text: '太贵了' };
    const r = await post('/api/surveys', [s, { ...s, survey: 'csat', nps: null, csat: 5 }]);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { success: true, inserted: 2, updated: 0, stub_customers: 1 });
    const again = await post('/api/surveys', s);
    assert.deepEqual(again.body, { success: true, inserted: 0, updated: 1, stub_customers: 0 });
    assert.equal(await count('survey_responses', sql`customer_id = 'new-survey-taker'`), 2);
    const bad = await post('/api/surveys', { ...s, nps: 11 });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error?.field ?? '', /nps/);
    const badCsat = await post('/api/surveys', { ...s, csat: 0 });
    assert.equal(badCsat.status, 400);
  });

  it('documents the REST and Segment endpoints in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${srv.url}/api/docs`)).json()) as { paths: Record<string, unknown> };
    for (const p of ['/api/orders', '/api/tickets', '/api/surveys', '/v1/batch', '/v1/track', '/v1/identify']) assert.ok(doc.paths[p], p);
  });

  it('receives events from the real Segment Node library (@segment/analytics-node)', async () => {
    const analytics = new Analytics({ writeKey: key, host: srv.url, flushAt: 2, flushInterval: 50, maxRetries: 1 });
    const failures: unknown[] = [];
    analytics.on('error', (e) => failures.push(e));
    analytics.identify({ userId: 'seg-1', anonymousId: 'seg-anon', traits: { name: 'Segment User', email: 'seg@example.com', tier: 'gold' } });
    analytics.track({ userId: 'seg-1', event: 'Product Viewed', properties: { product_id: 'p-seg' } });
    analytics.page({ userId: 'seg-1', name: 'Pricing' });
    analytics.track({
      userId: 'seg-1',
      event: 'Order Completed',
      properties: { order_id: 'seg-o-1', revenue: 42, products: [{ product_id: 'p-seg', price: 42 }] },
    });
    await analytics.closeAndFlush({ timeout: 5000 });
    assert.deepEqual(failures, []);
    const c = await customer('seg-1');
    assert.equal(c?.name, 'Segment User');
    assert.deepEqual(c?.attributes, { tier: 'gold' });
    assert.equal(await count('events', sql`customer_id = 'seg-1'`), 4);
    assert.equal(await count('events', sql`customer_id = 'seg-1' and type = 'product_view'`), 1);
    assert.equal(await count('events', sql`customer_id = 'seg-1' and type = 'page_view'`), 1);
    assert.equal((await get().db.selectFrom('orders').select('amount').where('id', '=', 'seg-o-1').executeTakeFirst())?.amount, 42);
  });
});

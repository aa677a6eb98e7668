import assert from 'node:assert/strict';
import { it } from 'node:test';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { forEachStore } from '../../db/testing.ts';
import { MergeError, mergeAllBy, mergeAttributes, mergeConsent, mergeCustomers } from './merge.service.ts';
import { computeDataQuality } from './quality.service.ts';
import { addCustomers, addOrders, daysAgo, fullCustomer, NOW, newWorkspace } from './testing.ts';

it('lets a withdrawn consent win over a granted one, per channel and purpose', () => {
  assert.deepEqual(
    mergeConsent([
      { sms: { marketing: true, service: true }, email: { marketing: true } },
      { sms: { marketing: false }, wechat: { marketing: true } },
      { email: { marketing: true } },
    ]),
    { sms: { marketing: false, service: true }, email: { marketing: true }, wechat: { marketing: true } },
  );
});

it('keeps the target attributes and fills the rest from the sources in order', () => {
  assert.deepEqual(mergeAttributes({ a: 1 }, [{ a: 2, b: 2 }, { b: 3, c: 3 }]), { a: 1, b: 2, c: 3 });
});

/** Everything a merge may touch, for before/after comparisons. */
async function snapshot(db: Kysely<Database>, ws: number) {
  const q = (t: 'customers' | 'orders' | 'events' | 'tickets' | 'survey_responses' | 'referrals' | 'coupons' | 'audit_log') =>
    sql<Record<string, unknown>>`select * from ${sql.table(t)} where workspace_id = ${ws} order by 2`.execute(db).then((r) => r.rows);
  return {
    customers: await q('customers'),
    orders: await q('orders'),
    events: await q('events'),
    tickets: await q('tickets'),
    surveys: await q('survey_responses'),
    referrals: await q('referrals'),
    coupons: await q('coupons'),
    audit: await q('audit_log'),
  };
}

/** Target t with gaps; sources s1 (a real customer) and s2 (a stub) with history of every kind. */
async function seed(db: Kysely<Database>) {
  const ws = await newWorkspace(db);
  await addCustomers(db, ws, [
    fullCustomer('t', {
      name: 'Wang Fang',
      email: null,
      city: null,
      birthday: null,
      consent: { sms: { marketing: true } },
      attributes: { tier: 'gold' },
    }),
    fullCustomer('s1', {
      name: 'W. Fang',
      email: 'fang@example.com',
      city: 'Ningbo',
      birthday: '1988-03-02',
      consent: { sms: { marketing: false }, email: { marketing: true } },
      attributes: { tier: 'silver', baby_birth: '2024-01-01' },
    }),
    { id: 's2', is_stub: true },
    fullCustomer('other'),
    // merged into s1 earlier: must end up pointing at t
    fullCustomer('old', { merged_into: 's1' }),
  ]);
  await addOrders(db, ws, [
    { id: 'o-t', customer_id: 't' },
    { id: 'o-s1', customer_id: 's1' },
    { id: 'o-s2', customer_id: 's2' },
    { id: 'o-x', customer_id: 'other' },
  ]);
  await db
    .insertInto('events')
    .values([
      { workspace_id: ws, message_id: 'e1', customer_id: 's1', type: 'login', occurred_at: daysAgo(1), properties: '{}' },
      { workspace_id: ws, message_id: 'e2', customer_id: 's2', type: 'visit', occurred_at: daysAgo(2), properties: '{}' },
    ])
    .execute();
  await db.insertInto('tickets').values({ workspace_id: ws, id: 'k1', customer_id: 's1', created_at: daysAgo(3), attributes: '{}' }).execute();
  await db.insertInto('survey_responses').values({ workspace_id: ws, id: 'r1', customer_id: 's2', responded_at: daysAgo(4), nps: 3, attributes: '{}' }).execute();
  await db
    .insertInto('referrals')
    .values([
      { workspace_id: ws, id: 'ref1', referrer_id: 's1', referee_id: 'other', referred_at: daysAgo(50) },
      { workspace_id: ws, id: 'ref2', referrer_id: 'other', referee_id: 's2', referred_at: daysAgo(40) },
    ])
    .execute();
  await db.insertInto('coupons').values({ workspace_id: ws, code: 'C1', customer_id: 's1', issued_at: daysAgo(5) }).execute();
  return ws;
}

forEachStore('customer merge', (get) => {
  it('moves all history to the target, fills its gaps, merges consent and attributes, and audits', async () => {
    const { db } = get();
    const ws = await seed(db);
    const r = await mergeCustomers(db, { workspaceId: ws, into: 't', from: ['s1', 's2'], actor: 'cli', now: NOW });
    assert.deepEqual(r.moved, {
      orders: 2,
      events: 2,
      tickets: 1,
      surveyResponses: 1,
      referralsMade: 1,
      referralsReceived: 1,
      coupons: 1,
      earlierMerges: 1,
    });
    assert.deepEqual(r.filled.sort(), ['birthday', 'city', 'email']);

    const s = await snapshot(db, ws);
    const cust = (id: string) => s.customers.find((c) => c.id === id)!;
    assert.equal(cust('t').name, 'Wang Fang'); // never overwritten
    assert.equal(cust('t').email, 'fang@example.com');
    assert.equal(cust('t').city, 'Ningbo');
    assert.equal(cust('t').birthday, '1988-03-02');
    assert.deepEqual(cust('t').consent, { sms: { marketing: false }, email: { marketing: true } });
    assert.deepEqual(cust('t').attributes, { tier: 'gold', baby_birth: '2024-01-01' });
    assert.equal(cust('t').is_stub, false);
    assert.equal(cust('s1').merged_into, 't');
    assert.equal(cust('s2').merged_into, 't');
    assert.equal(cust('old').merged_into, 't');
    assert.equal(cust('other').merged_into, null);

    assert.deepEqual(s.orders.map((o) => [o.id, o.customer_id]), [['o-s1', 't'], ['o-s2', 't'], ['o-t', 't'], ['o-x', 'other']]);
    assert.ok(s.events.every((e) => e.customer_id === 't'));
    assert.equal(s.tickets[0]?.customer_id, 't');
    assert.equal(s.surveys[0]?.customer_id, 't');
    assert.deepEqual(s.referrals.map((x) => [x.referrer_id, x.referee_id]), [['t', 'other'], ['other', 't']]);
    assert.equal(s.coupons[0]?.customer_id, 't');

    assert.equal(s.audit.length, 1);
    const a = s.audit[0]!;
    assert.equal(a.action, 'merge');
    assert.equal(a.entity, 'customer');
    assert.equal(a.entity_id, 't');
    assert.equal(a.actor, 'cli');
    const before = (a.before as { customers: { id: string; email: string | null; merged_into: string | null }[] }).customers;
    const after = (a.after as { customers: { id: string; email: string | null; merged_into: string | null }[] }).customers;
    assert.deepEqual(before.map((c) => c.id), ['t', 's1', 's2']);
    assert.equal(before[0]?.email, null);
    assert.equal(after[0]?.email, 'fang@example.com');
    assert.deepEqual(after.map((c) => c.merged_into), [null, 't', 't']);

    // The report counts the sources as merged, not as customers or duplicates.
    const q = await computeDataQuality(db, ws, NOW);
    assert.equal(q.counts.customers, 2);
    assert.equal(q.counts.merged, 3);
    assert.equal(q.duplicates.email.groups, 0);
  });

  it('changes nothing on a dry run, yet reports what it would do', async () => {
    const { db } = get();
    const ws = await seed(db);
    const before = await snapshot(db, ws);
    const r = await mergeCustomers(db, { workspaceId: ws, into: 't', from: ['s1', 's2'], actor: 'cli', now: NOW, dryRun: true });
    assert.equal(r.dryRun, true);
    assert.equal(r.moved.orders, 2);
    assert.equal(r.after[1]?.merged_into, 't');
    assert.deepEqual(await snapshot(db, ws), before);
  });

  it('leaves everything as it was when any step fails', async () => {
    const { db } = get();
    const ws = await seed(db);
    const before = await snapshot(db, ws);
    // The audit entry is the last write of a merge: make it fail.
    await sql`create function liuke_test_fail() returns trigger language plpgsql as $$
      begin raise exception 'audit unavailable'; end $$`.execute(db);
    await sql`create trigger liuke_test_fail before insert on audit_log for each row execute function liuke_test_fail()`.execute(db);
    try {
      await assert.rejects(mergeCustomers(db, { workspaceId: ws, into: 't', from: ['s1', 's2'], actor: 'cli', now: NOW }), /audit unavailable/);
    } finally {
      await sql`drop trigger liuke_test_fail on audit_log`.execute(db);
      await sql`drop function liuke_test_fail()`.execute(db);
    }
    assert.deepEqual(await snapshot(db, ws), before);
  });

  it('refuses to merge into itself, into an unknown id, into a merged customer, or from a merged one', async () => {
    const { db } = get();
    const ws = await seed(db);
    const m = (into: string, from: string[]) => mergeCustomers(db, { workspaceId: ws, into, from, actor: 'cli', now: NOW });
    const is = (code: string, re: RegExp) => (e: unknown) => e instanceof MergeError && e.code === code && re.test(e.message);
    await assert.rejects(m('t', ['t']), is('self', /into itself/));
    await assert.rejects(m('nobody', ['s1']), is('unknown', /no customer nobody to merge into/));
    await assert.rejects(m('t', ['s1', 'ghost']), is('unknown', /no customer ghost to merge from/));
    await assert.rejects(m('old', ['t']), is('merged', /old was itself merged into s1: merge into s1 instead/));
    await assert.rejects(m('t', ['old']), is('merged', /old was already merged into s1/));
    await assert.rejects(m('t', []), is('invalid', /at least one/));
    assert.equal((await snapshot(db, ws)).audit.length, 0);
  });

  it('merges every duplicate group by phone into the earliest real customer', async () => {
    const { db } = get();
    const ws = await newWorkspace(db);
    await addCustomers(db, ws, [
      fullCustomer('a1', { phone: '13911110000', registered_at: daysAgo(100) }),
      fullCustomer('a2', { phone: '13911110000', registered_at: daysAgo(300) }),
      { id: 'a3', phone: '13911110000', is_stub: true },
      fullCustomer('b1', { phone: '13922220000', registered_at: daysAgo(10) }),
      fullCustomer('b2', { phone: '13922220000', registered_at: daysAgo(10) }),
      fullCustomer('solo'),
    ]);
    await addOrders(db, ws, [{ id: 'x', customer_id: 'a3' }]);
    const dry = await mergeAllBy(db, { workspaceId: ws, by: 'phone', actor: 'cli', now: NOW, dryRun: true });
    assert.equal(dry.groups, 2);
    assert.equal(dry.merged, 3);
    assert.equal((await computeDataQuality(db, ws, NOW)).duplicates.phone.groups, 2);

    const r = await mergeAllBy(db, { workspaceId: ws, by: 'phone', actor: 'cli', now: NOW });
    assert.deepEqual(
      r.merges.map((m) => [m.into, m.from]),
      [['a2', ['a1', 'a3']], ['b1', ['b2']]],
    );
    const q = await computeDataQuality(db, ws, NOW);
    assert.equal(q.duplicates.phone.groups, 0);
    assert.equal(q.counts.customers, 3);
    assert.equal(q.counts.merged, 3);
    const order = await db.selectFrom('orders').select('customer_id').where('workspace_id', '=', ws).executeTakeFirstOrThrow();
    assert.equal(order.customer_id, 'a2');
    const audits = await db.selectFrom('audit_log').select('entity_id').where('workspace_id', '=', ws).orderBy('id').execute();
    assert.deepEqual(audits.map((a) => a.entity_id), ['a2', 'b1']);
  });
});

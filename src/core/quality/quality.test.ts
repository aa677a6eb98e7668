import assert from 'node:assert/strict';
import { it } from 'node:test';
import { forEachStore } from '../../db/testing.ts';
import { type FindingCode, renderFinding } from './quality.messages.ts';
import { computeDataQuality, formatDataQuality, localiseReport, outlierThreshold } from './quality.service.ts';
import { addCustomers, addLines, addOrders, cleanWorkspace, daysAgo, fullCustomer, NOW, newWorkspace } from './testing.ts';

const codes = (r: { findings: { code: FindingCode }[] }) => r.findings.map((f) => f.code).sort();

it('puts the outlier fence three log-IQRs above Q3, and falls back when amounts do not vary', () => {
  assert.deepEqual(outlierThreshold(100, 200, 900, 50), { method: 'log-iqr', threshold: 1600 });
  assert.deepEqual(outlierThreshold(99, 99, 150, 50), { method: 'p99.9', threshold: 150 });
  assert.equal(outlierThreshold(100, 200, 900, 5).method, 'skipped');
});

it('has an English and a Chinese sentence for every finding', () => {
  for (const code of [
    'no_data',
    'stub_customers',
    'duplicate_phone',
    'duplicate_email',
    'refunds',
    'outlier_orders',
    'missing_registered_at',
    'missing_birthday',
    'future_birthdays',
    'future_registered_at',
    'future_orders',
    'orders_before_2000',
    'future_events',
    'future_tickets',
    'future_survey_responses',
    'orphan_order_lines',
    'order_amount_mismatch',
    'low_completeness',
  ] as FindingCode[]) {
    const p = { count: 3, percent: 12.5, groups: 2, customers: 4, orders: 3, lines: 5, threshold: 900, max: 5000, example: 'o1' };
    assert.ok(renderFinding(code, p, 'en').length > 20, code);
    assert.match(renderFinding(code, p, 'zh-CN'), /[\u4e00-\u9fff]/, code);
  }
});

forEachStore('data-quality report', (get) => {
  it('says there is no data in an empty workspace', async () => {
    const ws = await newWorkspace(get().db);
    const r = await computeDataQuality(get().db, ws, NOW);
    assert.deepEqual(codes(r), ['no_data']);
    assert.equal(r.completeness.overall, null);
    assert.equal(r.outliers.method, 'skipped');
  });

  it('finds nothing in clean data, with every field complete', async () => {
    const { db } = get();
    const ws = await cleanWorkspace(db);
    const r = await computeDataQuality(db, ws, NOW);
    assert.deepEqual(r.findings, []);
    assert.equal(r.counts.customers, 10);
    assert.equal(r.counts.orders, 20);
    assert.equal(r.counts.orderLines, 20);
    assert.equal(r.counts.events, 10);
    assert.equal(r.completeness.overall, 100);
    assert.ok(r.completeness.fields.every((f) => f.percent === 100 && f.filled === 10));
    assert.equal(r.outliers.method, 'log-iqr');
    assert.equal(r.outliers.count, 0);
    assert.match(formatDataQuality(r), /No problems found/);
    assert.match(formatDataQuality(r, 'zh-CN'), /未发现问题/);
  });

  it('computes completeness per field and overall', async () => {
    const { db } = get();
    const ws = await newWorkspace(db);
    await addCustomers(db, ws, [
      fullCustomer('c1'),
      fullCustomer('c2', { name: '  ', email: null, consent: {} }),
      fullCustomer('c3', { name: null, phone: '', gender: null }),
      fullCustomer('c4', { owner: null, city: null, region: null, registered_at: null }),
      // merged and erased customers are not measured
      fullCustomer('c5', { name: null, merged_into: 'c1' }),
      fullCustomer('c6', { name: null, erased_at: daysAgo(1) }),
    ]);
    const r = await computeDataQuality(db, ws, NOW);
    const by = Object.fromEntries(r.completeness.fields.map((f) => [f.field, f.percent]));
    assert.equal(r.completeness.profiles, 4);
    assert.equal(by.name, 50);
    assert.equal(by.phone, 75);
    assert.equal(by.email, 75);
    assert.equal(by.gender, 75);
    assert.equal(by.consent, 75);
    assert.equal(by.city, 75);
    assert.equal(by.birthday, 100);
    // (50 + 75×8 + 100×3) / 12 filled of 12 fields: name 50; phone, email, gender, consent, city, region, owner, registered_at 75
    assert.equal(r.completeness.overall, Math.round(((50 + 75 * 8 + 100 * 3) / 12) * 10) / 10);
    assert.equal(r.counts.customers, 5);
    assert.equal(r.counts.merged, 1);
    assert.equal(r.counts.erased, 1);
  });

  it('reports low completeness with the emptiest fields', async () => {
    const { db } = get();
    const ws = await newWorkspace(db);
    await addCustomers(db, ws, [{ id: 'a', name: 'A' }, { id: 'b' }]);
    const r = await computeDataQuality(db, ws, NOW);
    const f = r.findings.find((x) => x.code === 'low_completeness');
    assert.ok(f);
    assert.equal(f.severity, 'info');
    assert.match(f.message, /complete; the emptiest fields are phone \(0%\)/);
  });

  it('counts stub customers', async () => {
    const { db } = get();
    const ws = await cleanWorkspace(db);
    await addCustomers(db, ws, [{ id: 'stub1', is_stub: true }, { id: 'stub2', is_stub: true }]);
    const r = await computeDataQuality(db, ws, NOW);
    assert.equal(r.stubs.count, 2);
    const f = r.findings.find((x) => x.code === 'stub_customers');
    assert.equal(f?.severity, 'warn'); // 2 of 12 > 10%
    assert.match(f?.message ?? '', /^2 customers \(16\.7%\)/);
  });

  it('finds duplicate phones and emails, but not among merged customers', async () => {
    const { db } = get();
    const ws = await cleanWorkspace(db);
    const phone = async (id: string) =>
      (await db.selectFrom('customers').select('phone').where('workspace_id', '=', ws).where('id', '=', id).executeTakeFirstOrThrow()).phone;
    await addCustomers(db, ws, [
      fullCustomer('d1', { phone: await phone('c1') }),
      fullCustomer('d2', { email: 'C2@Example.com' }), // same email as c2, other case
      fullCustomer('d3', { email: 'c2@example.com' }),
      fullCustomer('m1', { phone: await phone('c3'), merged_into: 'c3' }), // merged: not a duplicate
    ]);
    const r = await computeDataQuality(db, ws, NOW);
    assert.deepEqual(
      { groups: r.duplicates.phone.groups, customers: r.duplicates.phone.customers },
      { groups: 1, customers: 2 },
    );
    assert.deepEqual(r.duplicates.phone.sample[0]?.customers.map((c) => c.id).sort(), ['c1', 'd1']);
    assert.equal(r.duplicates.email.groups, 1);
    assert.equal(r.duplicates.email.customers, 3);
    assert.equal(r.duplicates.email.sample[0]?.key, 'c2@example.com');
    assert.deepEqual(codes(r), ['duplicate_email', 'duplicate_phone']);
    assert.equal(r.counts.merged, 1);
  });

  it('reports the refund and return share of orders and amount', async () => {
    const { db } = get();
    const ws = await cleanWorkspace(db);
    await addOrders(db, ws, [
      { id: 'r1', customer_id: 'c1', amount: 100, status: 'refunded' },
      { id: 'r2', customer_id: 'c2', amount: 110, status: 'returned' },
    ]);
    const r = await computeDataQuality(db, ws, NOW);
    assert.equal(r.refunds.orders, 2);
    assert.equal(r.refunds.refunded, 1);
    assert.equal(r.refunds.returned, 1);
    assert.equal(r.refunds.percent, Math.round((2 / 22) * 1000) / 10);
    assert.equal(r.refunds.amount, 210);
    assert.deepEqual(codes(r), ['refunds']);
    assert.equal(r.findings[0]?.severity, 'info');
  });

  it('finds outlier orders above the fence and lists the largest', async () => {
    const { db } = get();
    const ws = await cleanWorkspace(db);
    await addOrders(db, ws, [
      { id: 'big1', customer_id: 'c1', amount: 99_999 },
      { id: 'big2', customer_id: 'c2', amount: 12_000 },
    ]);
    const r = await computeDataQuality(db, ws, NOW);
    assert.equal(r.outliers.count, 2);
    assert.ok((r.outliers.threshold ?? 0) > 119 && (r.outliers.threshold ?? 0) < 12_000);
    assert.deepEqual(r.outliers.top.map((o) => o.id), ['big1', 'big2']);
    assert.deepEqual(codes(r), ['outlier_orders']);
    assert.match(r.findings[0]?.message ?? '', /largest is 99,999/);
  });

  it('finds missing and impossible dates', async () => {
    const { db } = get();
    const ws = await cleanWorkspace(db);
    await addCustomers(db, ws, [
      fullCustomer('n1', { registered_at: null, birthday: null }),
      fullCustomer('n2', { birthday: '2030-01-01', registered_at: new Date('2026-01-01T00:00:00Z') }),
    ]);
    await addOrders(db, ws, [
      { id: 'f1', customer_id: 'c1', ordered_at: new Date('2025-07-01T00:00:00Z') },
      { id: 'old', customer_id: 'c1', ordered_at: new Date('1970-01-01T00:00:00Z') },
    ]);
    const later = new Date('2025-06-02T00:00:00Z');
    await db.insertInto('events').values({ workspace_id: ws, message_id: 'fe', customer_id: 'c1', type: 'login', occurred_at: later, properties: '{}' }).execute();
    await db.insertInto('tickets').values({ workspace_id: ws, id: 'ft', customer_id: 'c1', created_at: later, attributes: '{}' }).execute();
    await db.insertInto('survey_responses').values({ workspace_id: ws, id: 'fs', customer_id: 'c1', responded_at: later, attributes: '{}' }).execute();
    const r = await computeDataQuality(db, ws, NOW);
    assert.deepEqual(r.dates, {
      customersWithoutRegisteredAt: 1,
      customersWithoutBirthday: 1,
      futureBirthdays: 1,
      futureRegisteredAt: 1,
      futureOrders: 1,
      ordersBefore2000: 1,
      futureEvents: 1,
      futureTickets: 1,
      futureSurveyResponses: 1,
    });
    assert.deepEqual(codes(r), [
      'future_birthdays',
      'future_events',
      'future_orders',
      'future_registered_at',
      'future_survey_responses',
      'future_tickets',
      'missing_birthday',
      'missing_registered_at',
      'orders_before_2000',
    ]);
    // errors come first
    assert.deepEqual(r.findings.slice(0, 2).map((f) => f.severity), ['error', 'error']);
  });

  it('finds order lines without an order and orders whose lines do not add up', async () => {
    const { db } = get();
    const ws = await cleanWorkspace(db);
    await addLines(db, ws, [
      { order_id: 'ghost', line_no: 1, price: 10 },
      { order_id: 'ghost', line_no: 2, price: 10 },
    ]);
    // lines 2 × 50 = 100, amount 140: mismatch; amount 100.5 vs 100: within tolerance
    await addOrders(db, ws, [{ id: 'mm', customer_id: 'c1', amount: 140 }, { id: 'ok', customer_id: 'c1', amount: 100.5 }], false);
    await addLines(db, ws, [
      { order_id: 'mm', line_no: 1, price: 50, quantity: 2 },
      { order_id: 'ok', line_no: 1, price: 50, quantity: 2 },
    ]);
    const r = await computeDataQuality(db, ws, NOW);
    assert.equal(r.orderLines.orphanLines, 2);
    assert.equal(r.orderLines.orphanOrders, 1);
    assert.deepEqual(r.orderLines.orphanSample, [{ orderId: 'ghost', lines: 2 }]);
    assert.equal(r.orderLines.mismatchedOrders, 1);
    assert.deepEqual(r.orderLines.mismatchSample, [{ orderId: 'mm', amount: 140, discount: 0, linesTotal: 100 }]);
    assert.deepEqual(codes(r), ['order_amount_mismatch', 'orphan_order_lines']);
    assert.match(r.findings.find((f) => f.code === 'orphan_order_lines')?.message ?? '', /2 order lines point to 1 order that does not exist \(for example ghost\)/);
  });

  it('renders findings in Chinese on request', async () => {
    const { db } = get();
    const ws = await cleanWorkspace(db);
    await addCustomers(db, ws, [{ id: 'stub', is_stub: true }]);
    const r = await computeDataQuality(db, ws, NOW, { locale: 'zh-CN' });
    assert.match(r.findings[0]?.message ?? '', /位客户/);
    assert.match(localiseReport(r, 'en').findings[0]?.message ?? '', /^1 customer \(9.1%\) exists only/);
    assert.match(formatDataQuality(r), /\[INFO\] 有 1 位客户/);
  });
});

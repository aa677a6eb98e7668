import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveMapping } from './mapping.ts';
import * as n from './normalize.ts';

describe('import normalisers', () => {
  it('reads the date formats exports use, without inventing an offset', () => {
    assert.equal(n.parseDateTime('2024-01-02'), '2024-01-02 00:00:00');
    assert.equal(n.parseDateTime('2024/1/2'), '2024-01-02 00:00:00');
    assert.equal(n.parseDateTime('2024-01-02 13:05'), '2024-01-02 13:05:00');
    assert.equal(n.parseDateTime('20240102'), '2024-01-02 00:00:00');
    assert.equal(n.parseDateTime('2024年1月2日'), '2024-01-02 00:00:00');
    assert.equal(n.parseDateTime('2024-01-02T13:05:07.5+08:00'), '2024-01-02 13:05:07.5+08:00');
    assert.equal(n.parseDateTime('2024-01-02T05:05:00Z'), '2024-01-02 05:05:00+00:00');
    assert.equal(n.excelSerialToDateTime(45293.5), '2024-01-02 12:00:00');
    assert.throws(() => n.parseDateTime('2023-02-29'), /not a valid date/);
    assert.throws(() => n.parseDateTime('02/01/2024'), /not a date/);
    assert.throws(() => n.parseDateTime('2024-01-02 25:00'), /time of day/);
  });

  it('reads amounts with currency signs and thousands separators, and refuses negative or non-numeric ones', () => {
    assert.equal(n.parseAmount('¥1,234.50'), '1234.50');
    assert.equal(n.parseAmount('￥ 99'), '99');
    assert.equal(n.parseAmount('1234.5元'), '1234.5');
    assert.equal(n.parseAmount('.5'), '0.5');
    assert.throws(() => n.parseAmount('-3'), /negative amount/);
    assert.throws(() => n.parseAmount('¥-3'), /negative amount/);
    assert.throws(() => n.parseAmount('(3.00)'), /negative amount/);
    assert.throws(() => n.parseAmount('twelve'), /not an amount/);
  });

  it('normalises phone numbers to E.164 and emails to lower case', () => {
    assert.equal(n.normalizePhone('138 0013 8000'), '+8613800138000');
    assert.equal(n.normalizePhone('+86 138-0013-8000'), '+8613800138000');
    assert.equal(n.normalizePhone('008613800138000'), '+8613800138000');
    assert.equal(n.normalizePhone('010-12345678'), '+861012345678');
    assert.equal(n.normalizePhone('+44 20 7946 0958'), '+442079460958');
    assert.throws(() => n.normalizePhone('12345'), /not a phone number/);
    assert.equal(n.normalizeEmail(' Li@Example.COM '), 'li@example.com');
    assert.throws(() => n.normalizeEmail('li@example'), /not an email/);
  });

  it('understands Chinese enum words', () => {
    assert.equal(n.parseOrderStatus('已退货'), 'returned');
    assert.equal(n.parseOrderStatus('已支付'), 'paid');
    assert.equal(n.parseGender('女'), 'female');
    assert.equal(n.parseGender('未知'), null);
    assert.throws(() => n.parseOrderStatus('取消'), /unknown order status: "取消" \(expected one of paid, refunded, returned\)/);
  });

  it('matches headers ignoring case, spaces, underscores and a unit in brackets', () => {
    const m = resolveMapping('orders', ['Order ID', 'customer_id', '下单时间', '实付金额(元)', '订单金额', 'Remark']);
    assert.deepEqual(m.byHeader, { 'Order ID': 'id', customer_id: 'customer_id', 下单时间: 'ordered_at', '实付金额(元)': 'amount' });
    assert.deepEqual(
      m.ignored.map((i) => i.header),
      ['Remark', '订单金额'],
    );
  });
});

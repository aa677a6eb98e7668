import assert from 'node:assert/strict';
import { it } from 'node:test';
import { maskEmail, maskPhone, maskRecord } from './mask.ts';

it('masks phones and emails the way support staff expect', () => {
  assert.equal(maskPhone('13812345678'), '138****5678');
  assert.equal(maskPhone('+8613812345678'), '+86****5678');
  assert.equal(maskPhone('12345'), '****45');
  assert.equal(maskPhone(null), null);
  assert.equal(maskEmail('zhang@example.com'), 'z***@example.com');
  assert.equal(maskEmail('broken'), '***');
  assert.equal(maskEmail(null), null);
});

it('masks for agent and viewer only', () => {
  const row = { id: 'c1', phone: '13812345678', email: 'zhang@example.com' };
  assert.deepEqual(maskRecord(row, 'viewer'), { id: 'c1', phone: '138****5678', email: 'z***@example.com' });
  assert.deepEqual(maskRecord(row, 'agent').phone, '138****5678');
  assert.equal(maskRecord(row, 'analyst'), row);
  assert.equal(maskRecord(row, 'admin'), row);
});

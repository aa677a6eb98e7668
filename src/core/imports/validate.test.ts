import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyIndex } from './validate.ts';

describe('duplicate-key index', () => {
  it('finds every key it was given across its growths, and nothing it was not', () => {
    const k = new KeyIndex(16);
    const n = 300_000;
    for (let i = 0; i < n; i++) k.set(`O${i}`, i + 1);
    assert.equal(k.size, n);
    for (let i = 0; i < n; i += 7) assert.equal(k.get(`O${i}`), i + 1);
    assert.equal(k.get('O-1'), 0);
    assert.equal(k.get(`O${n}`), 0);
  });

  it('grows by half at 85 % full, so a big file keeps at most ~21 bytes a key', () => {
    const k = new KeyIndex();
    const n = 1_000_000;
    for (let i = 0; i < n; i++) k.set(`O${i}`, i + 1);
    assert.ok(k.capacity <= (n / 0.85) * 1.5, `capacity ${k.capacity} for ${n} keys`);
    assert.ok(k.capacity >= n / 0.85);
  });
});

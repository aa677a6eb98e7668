import assert from 'node:assert/strict';
import { it } from 'node:test';
import { forEachStore } from '../../db/testing.ts';
import { createKey, listKeys, revokeKey, verifyKey } from './keys.service.ts';

forEachStore('api keys', (get) => {
  it('verifies a created key, never stores it, and refuses it once revoked', async () => {
    const { db } = get();
    const k = await createKey(db, { workspaceId: 1, role: 'ingest', name: 'web' });
    assert.match(k.key, /^lk_ingest_/);
    assert.deepEqual(await verifyKey(db, k.key), { id: k.id, workspaceId: 1, role: 'ingest', name: 'web' });
    const stored = await db.selectFrom('api_keys').selectAll().execute();
    assert.ok(!JSON.stringify(stored).includes(k.key));
    assert.equal(await verifyKey(db, `${k.key}x`), null);
    assert.equal(await revokeKey(db, 1, k.id), true);
    assert.equal(await verifyKey(db, k.key), null);
    assert.equal(await revokeKey(db, 1, k.id), false);
    assert.ok((await listKeys(db, 1))[0]?.revoked_at instanceof Date);
  });
});

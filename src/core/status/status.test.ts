import assert from 'node:assert/strict';
import { it } from 'node:test';
import { sql } from 'kysely';
import { forEachStore } from '../../db/testing.ts';
import { ADVISE_FROM_CUSTOMERS, getStatus, serverAdvice } from './status.service.ts';

forEachStore('status: server settings too small for the data', (get, kind) => {
  it('advises a bigger buffer pool on a server with 128 MB for a large workspace, and nothing otherwise', async () => {
    const { db } = get();
    // an empty workspace, or the embedded store: nothing to advise
    assert.deepEqual((await getStatus(db, 1, { server: kind === 'postgres' })).serverAdvice, []);
    assert.deepEqual(await serverAdvice(db, ADVISE_FROM_CUSTOMERS - 1), []);
    if (kind !== 'postgres') return;
    const pool = await sql<{ bytes: string; value: string }>`
      select setting::bigint * pg_size_bytes(unit) as bytes, current_setting('shared_buffers') as value from pg_settings where name = 'shared_buffers'`.execute(db);
    const { bytes, value } = pool.rows[0]!;
    const advice = await serverAdvice(db, 1_000_000);
    if (Number(bytes) < 1024 ** 3) {
      // this machine's packaged configuration (128 MB)
      assert.equal(advice.length, 1);
      assert.equal(advice[0]!.setting, 'shared_buffers');
      assert.equal(advice[0]!.value, value);
      assert.match(advice[0]!.advice, /1,000,000 customers.*quarter of the machine's memory/);
    } else assert.deepEqual(advice, [], `shared_buffers ${value} is enough`);
  });
});

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { sql } from 'kysely';
import { forEachStore } from '../../db/testing.ts';
import { ADVISE_FROM_CUSTOMERS, getStatus, serverAdvice } from './status.service.ts';

forEachStore('status: server settings too small for the data', (get, kind) => {
  it('advises a bigger buffer pool and WAL on a server with the packaged sizes for a large workspace, and nothing otherwise', async () => {
    const { db } = get();
    // an empty workspace, or the embedded store: nothing to advise
    assert.deepEqual((await getStatus(db, 1, { server: kind === 'postgres' })).serverAdvice, []);
    assert.deepEqual(await serverAdvice(db, ADVISE_FROM_CUSTOMERS - 1), []);
    if (kind !== 'postgres') return;
    // what the server shows (as `SHOW` does: 128MB, 1GB), read here independently of the store's units
    const shown = await sql<{ name: string; value: string }>`
      select name, current_setting(name) as value from pg_settings where name in ('shared_buffers', 'max_wal_size') order by name desc`.execute(db);
    const bytes = (v: string) => {
      const m = /^(\d+)(kB|MB|GB|TB)$/.exec(v);
      assert.ok(m, `a size as PostgreSQL shows it: ${v}`);
      return Number(m[1]) * 1024 ** { kB: 1, MB: 2, GB: 3, TB: 4 }[m[2] as 'kB'];
    };
    const advice = await serverAdvice(db, 1_000_000);
    // this machine's packaged configuration (128MB, 1GB) gets both; a tuned server neither
    const small = shown.rows.filter((x) => bytes(x.value) < (x.name === 'shared_buffers' ? 1024 ** 3 : 2 * 1024 ** 3));
    assert.deepEqual(
      advice.map((a) => [a.setting, a.value, a.minimum]),
      small.map((x) => [x.name, x.value, x.name === 'shared_buffers' ? '1GB' : '2GB']),
    );
    for (const a of advice) assert.match(a.advice, /1,000,000 customers.*docs\/architecture\.md/);
    assert.match(advice.find((a) => a.setting === 'shared_buffers')?.advice ?? 'quarter of the machine', /quarter of the machine's memory/);
  });
});

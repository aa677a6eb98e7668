// `npm test`: every test file, on both stores. When LIUKE_TEST_STORES is not set and no
// PostgreSQL server answers at LIUKE_TEST_PG_URL, the tests run on PGlite alone and say so,
// so that the README's test command works on a machine without a server (as `npm start`
// does); CI sets LIUKE_TEST_STORES=pglite,postgres, so a server that failed to start
// there fails the run instead of halving it. Arguments replace the default file globs.
import { spawnSync } from 'node:child_process';
import pg from 'pg';

const url = process.env.LIUKE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function serverAnswers(): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return null;
  } catch (err) {
    return err instanceof Error ? err.message || err.constructor.name : String(err);
  } finally {
    await client.end().catch(() => {});
  }
}

const env = { ...process.env };
if (!env.LIUKE_TEST_STORES) {
  const why = await serverAnswers();
  if (why !== null) {
    env.LIUKE_TEST_STORES = 'pglite';
    console.warn(
      `no PostgreSQL server at ${url.replace(/\/\/[^@/]*@/, '//…@')} (${why}): the tests run on PGlite only.\n` +
        'Start a server there, or set LIUKE_TEST_PG_URL, to run them on PostgreSQL too.',
    );
  }
}
const files = process.argv.length > 2 ? process.argv.slice(2) : ['src/**/*.test.ts', 'web/**/*.test.ts'];
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...files], { stdio: 'inherit', env });
process.exit(r.status ?? 1);

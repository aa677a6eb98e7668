import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { buildApp } from '../../server/app.ts';
import { ensureFirstAdmin } from '../../core/users/users.service.ts';
import { DEFAULT_WORKSPACE_ID } from '../../db/schema.ts';
import { openConfiguredStore } from '../context.ts';
import { loadDemoOnFirstStart } from '../../core/demo/demo.service.ts';
import { loadConfig } from '../../config.ts';

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('start the Liuke server (embedded store unless DATABASE_URL is set)')
    .option('-p, --port <port>', 'port to listen on (default LIUKE_PORT or 3710)')
    .option('--host <host>', 'address to listen on (default LIUKE_HOST or 127.0.0.1)')
    .action(async (opts: { port?: string; host?: string }) => {
      const config = loadConfig({
        ...process.env,
        ...(opts.port ? { LIUKE_PORT: opts.port } : {}),
        ...(opts.host ? { LIUKE_HOST: opts.host } : {}),
      });
      const opened = await openConfiguredStore('start', config);
      // First start on an empty store: a demo business to look at (LIUKE_DEMO_CUSTOMERS=0 skips it).
      await loadDemoOnFirstStart(opened.store, {
        customers: config.LIUKE_DEMO_CUSTOMERS,
        now: new Date(),
        log: (m) => process.stdout.write(`${m}\n`),
      });
      const firstAdmin = await ensureFirstAdmin(opened.store.db, DEFAULT_WORKSPACE_ID, new Date());
      const localToken = randomBytes(24).toString('hex');
      const app = await buildApp({ store: opened.store, config, localToken, logger: { level: config.LIUKE_LOG_LEVEL } });
      const url = await app.listen({ host: config.LIUKE_HOST, port: config.LIUKE_PORT });
      await opened.lock?.update({ serverUrl: url, localToken });
      process.stdout.write(`Liuke is running at ${url} (store: ${opened.store.kind} ${opened.store.location})\n`);
      if (firstAdmin) process.stdout.write(`First start: sign in as ${firstAdmin.email} with the one-time password ${firstAdmin.password} (shown once; you will set your own)\n`);

      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        process.stdout.write(`\n${signal}: finishing requests in flight, then stopping…\n`);
        await app.close();
        await opened.close();
        process.exit(0);
      };
      process.on('SIGINT', () => void stop('SIGINT'));
      process.on('SIGTERM', () => void stop('SIGTERM'));
    });
}

import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { buildApp } from '../../server/app.ts';
import { ensureFirstAdmin } from '../../core/users/users.service.ts';
import { DEFAULT_WORKSPACE_ID } from '../../db/schema.ts';
import { openConfiguredStore } from '../context.ts';
import { loadDemoOnFirstStart } from '../../core/demo/demo.service.ts';
import { loadConfig } from '../../config.ts';
import { backfillHistory } from '../../core/analytics/backfill.ts';
import { failOrphanedRuns } from '../../core/pipeline/pipeline.ts';
import { startWorker } from '../../core/pipeline/pipeline.job.ts';
import { PIPELINE_TASK } from '../../core/pipeline/steps.ts';
import { enqueue } from '../../core/jobs/queue.ts';
import { MODEL_TRAIN_TASK } from '../../core/churn/churn.job.ts';

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
      // Embedded: whatever was mid-run when the last process stopped is over.
      if (!config.DATABASE_URL) await failOrphanedRuns(opened.store.db, DEFAULT_WORKSPACE_ID);
      // First start on an empty store: a demo business to look at (LIUKE_DEMO_CUSTOMERS=0 skips it).
      const demo = await loadDemoOnFirstStart(opened.store, {
        customers: config.LIUKE_DEMO_CUSTOMERS,
        now: new Date(),
        log: (m) => process.stdout.write(`${m}\n`),
      });
      if (demo) {
        // Six months of as-of runs give the dashboard tier history, transitions and KPI trends at once.
        process.stdout.write('computing analytics with six months of history…\n');
        const t0 = performance.now();
        await backfillHistory(opened.store, DEFAULT_WORKSPACE_ID, new Date(), 6);
        process.stdout.write(`analytics ready in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
        // A first churn model and the risk list, in the background once the server is up: the
        // worker trains (job 'model.train'), then re-runs the pipeline, which scores every customer.
        await enqueue(opened.store.db, { workspaceId: DEFAULT_WORKSPACE_ID, task: MODEL_TRAIN_TASK, payload: { cutoffs: 6, actor: 'system:first-start' }, maxAttempts: 1 });
        await enqueue(opened.store.db, { workspaceId: DEFAULT_WORKSPACE_ID, task: PIPELINE_TASK, payload: { mode: 'incremental' }, maxAttempts: 1 });
        process.stdout.write('a first churn model is being trained in the background; the Risk page fills in when it is done\n');
      }
      const firstAdmin = await ensureFirstAdmin(opened.store.db, DEFAULT_WORKSPACE_ID, new Date());
      const localToken = randomBytes(24).toString('hex');
      const app = await buildApp({ store: opened.store, config, localToken, logger: { level: config.LIUKE_LOG_LEVEL } });
      const url = await app.listen({ host: config.LIUKE_HOST, port: config.LIUKE_PORT });
      await opened.lock?.update({ serverUrl: url, localToken });
      // Scheduled and queued work (the 09:00 pipeline, runs started from the UI). In the embedded mode this
      // process is the only one that can open the store, so it is the worker; with PostgreSQL, separate
      // `liuke worker` processes can share the work (LIUKE_WORKER=off keeps it out of the server).
      const worker =
        process.env.LIUKE_WORKER === 'off' && config.DATABASE_URL
          ? null
          : await startWorker(opened.store, (m) => app.log.info(m));
      process.stdout.write(`Liuke is running at ${url} (store: ${opened.store.kind} ${opened.store.location})\n`);
      if (firstAdmin) process.stdout.write(`First start: sign in as ${firstAdmin.email} with the one-time password ${firstAdmin.password} (shown once; you will set your own)\n`);

      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        process.stdout.write(`\n${signal}: finishing requests in flight, then stopping…\n`);
        await worker?.stop();
        await app.close();
        await opened.close();
        process.exit(0);
      };
      process.on('SIGINT', () => void stop('SIGINT'));
      process.on('SIGTERM', () => void stop('SIGTERM'));
    });
}

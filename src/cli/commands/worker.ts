import type { Command } from 'commander';
import { startWorker } from '../../core/pipeline/pipeline.job.ts';
import { loadConfig } from '../../config.ts';
import { openConfiguredStore, UserError } from '../context.ts';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run a worker process for scheduled and queued jobs (PostgreSQL; start more than one to share the work)')
    .action(async () => {
      const config = loadConfig();
      if (!config.DATABASE_URL) {
        throw new UserError('`liuke start` already runs the worker in the embedded mode; separate workers need a PostgreSQL server (DATABASE_URL)');
      }
      const opened = await openConfiguredStore('worker', config);
      const worker = await startWorker(opened.store, (m) => process.stdout.write(`${new Date().toISOString()} ${m}\n`));
      process.stdout.write(`worker ${worker.id} is taking jobs from ${opened.store.location}\n`);
      const stop = async () => {
        process.stdout.write('stopping: finishing the job in hand…\n');
        await worker.stop();
        await opened.close();
        process.exit(0);
      };
      process.on('SIGINT', () => void stop());
      process.on('SIGTERM', () => void stop());
    });
}

import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { INDUSTRIES } from '../../core/demo/catalogue.ts';
import { createDemoBusiness, summary } from '../../core/demo/demo.service.ts';
import { AppError } from '../../server/errors.ts';
import { UserError, withStore } from '../context.ts';

function int(name: string, v: string): number {
  if (!/^-?\d+$/.test(v)) throw new UserError(`--${name} must be a whole number, not "${v}"`);
  return Number(v);
}

/** A progress bar on stderr for runs big enough to wait for. */
export function demoProgress(customers: number): { update: (done: number, total: number) => void; stop: () => void } {
  if (customers < 20_000 || !process.stderr.isTTY) return { update: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    { format: 'demo |{bar}| {percentage}% | {value}/{total} customers | {duration_formatted} elapsed, ETA {eta_formatted}', stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  bar.start(customers, 0);
  return { update: (done) => bar.update(done), stop: () => bar.stop() };
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('generate a demo business (24 months of history ending now) and load it into the store')
    .option('--customers <n>', 'number of customers', '2000')
    .option('--seed <s>', 'random seed: the same seed and date give the same business', '1')
    .option('--industry <name>', `one of ${INDUSTRIES.join(', ')}`, 'retail')
    .option('--now <date>', 'end of the history (ISO date; default: the current time)')
    .option('--reset', "delete this workspace's business data first")
    .action(async (opts: { customers: string; seed: string; industry: string; now?: string; reset?: boolean }) => {
      const customers = int('customers', opts.customers);
      const seed = int('seed', opts.seed);
      const now = opts.now ? new Date(opts.now) : new Date();
      if (Number.isNaN(now.getTime())) throw new UserError(`--now must be a date such as 2025-06-30, not "${opts.now}"`);
      await withStore('demo', async ({ store }) => {
        process.stderr.write(
          `generating a ${opts.industry} business: ${customers.toLocaleString('en')} customers, seed ${seed}, history to ${now.toISOString()}` +
            `${opts.reset ? ', replacing existing data' : ''} (store: ${store.kind} ${store.location})\n`,
        );
        const progress = demoProgress(customers);
        try {
          const r = await createDemoBusiness(store, { customers, seed, industry: opts.industry, now, reset: Boolean(opts.reset), actor: 'cli', onProgress: progress.update });
          progress.stop();
          process.stdout.write(`loaded ${summary(r)} in ${r.seconds.toFixed(1)} s\n`);
        } catch (e) {
          progress.stop();
          if (e instanceof AppError) throw new UserError(e.message);
          throw e;
        }
      });
    });
}

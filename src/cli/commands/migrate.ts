import type { Command } from 'commander';
import { withStore } from '../context.ts';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('apply pending database migrations (start does this too)')
    .action(async () => {
      await withStore('migrate', async ({ store }) => {
        // openConfiguredStore already migrated; report what the store is at.
        const rows = await store.db.selectFrom('liuke_migrations').select(['version', 'name']).orderBy('version').execute();
        process.stdout.write(`${store.kind} store at ${store.location}: ${rows.length} migrations applied (latest ${rows.at(-1)?.name})\n`);
      });
    });
}

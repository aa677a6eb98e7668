import type { Command } from 'commander';
import { createKeyAudited, revokeKeyAudited } from '../../core/keys/keys.admin.ts';
import { type KeyRole, listKeys } from '../../core/keys/keys.service.ts';
import { DEFAULT_WORKSPACE_ID } from '../../db/schema.ts';
import { UserError, withStore } from '../context.ts';

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('API keys: ingest-only write keys and admin keys');
  keys
    .command('create')
    .description('create a key and print it (shown once)')
    .requiredOption('--role <role>', 'ingest (send data only, e.g. a Segment write key) or admin')
    .option('--name <name>', 'what the key is for')
    .action(async (opts: { role: string; name?: string }) => {
      if (opts.role !== 'ingest' && opts.role !== 'admin') throw new UserError(`--role must be ingest or admin, not "${opts.role}"`);
      await withStore('keys create', async ({ store }) => {
        const k = await createKeyAudited(store.db, { workspaceId: DEFAULT_WORKSPACE_ID, role: opts.role as KeyRole, ...(opts.name ? { name: opts.name } : {}), actor: 'cli', now: new Date() });
        process.stderr.write(`created ${k.role} key ${k.id}; store it now, it is not shown again:\n`);
        process.stdout.write(`${k.key}\n`);
      });
    });
  keys
    .command('list')
    .description('list keys (never the keys themselves)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withStore('keys list', async ({ store }) => {
        const rows = await listKeys(store.db, DEFAULT_WORKSPACE_ID);
        if (opts.json) return void process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        for (const r of rows) {
          const state = r.revoked_at ? `revoked ${r.revoked_at.toISOString()}` : 'active';
          process.stdout.write(`${r.id}\t${r.role}\t${r.prefix}…\t${r.name ?? ''}\t${state}\n`);
        }
      });
    });
  keys
    .command('revoke <id>')
    .description('revoke a key by its id (see keys list)')
    .action(async (id: string) => {
      await withStore('keys revoke', async ({ store }) => {
        if (!(await revokeKeyAudited(store.db, { workspaceId: DEFAULT_WORKSPACE_ID, id, actor: 'cli', now: new Date() }))) throw new UserError(`no active key with id ${id}: see \`liuke keys list\``);
        process.stdout.write(`revoked ${id}\n`);
      });
    });
}

import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { eraseCustomer, exportCustomerData, PrivacyError } from '../../core/privacy/privacy.service.ts';
import { DEFAULT_WORKSPACE_ID } from '../../db/schema.ts';
import { runningServer, UserError, withStore } from '../context.ts';

async function viaServer(method: string, path: string): Promise<unknown | null> {
  const server = await runningServer();
  if (!server) return null;
  const res = await fetch(`${server.serverUrl}${path}`, { method, headers: { authorization: `Bearer ${server.localToken}` } });
  const json = (await res.json()) as { error?: { message: string } };
  if (!res.ok) throw new UserError(json.error?.message ?? `the running server answered ${res.status}`);
  return json;
}

async function local<T>(command: string, fn: (db: Parameters<typeof eraseCustomer>[0]) => Promise<T>): Promise<T> {
  return withStore(command, async ({ store }) => {
    try {
      return await fn(store.db);
    } catch (e) {
      if (e instanceof PrivacyError) throw new UserError(e.message);
      throw e;
    }
  });
}

export function registerPrivacy(program: Command): void {
  const privacy = program.command('privacy').description("data-subject requests: one person's data, exported or erased (both audited)");
  privacy
    .command('export')
    .description('everything held on one customer as JSON: profile, orders with lines, events, tickets, surveys, referrals, coupons, audit entries')
    .requiredOption('--customer <id>', 'customer id')
    .option('--out <file>', 'write to a file instead of stdout')
    .action(async (opts: { customer: string; out?: string }) => {
      const data =
        (await viaServer('GET', `/api/privacy/customers/${encodeURIComponent(opts.customer)}/export`)) ??
        (await local('privacy export', (db) => exportCustomerData(db, DEFAULT_WORKSPACE_ID, opts.customer, { actor: 'cli', now: new Date() })));
      const text = `${JSON.stringify(data, null, 2)}\n`;
      if (opts.out) {
        await writeFile(opts.out, text);
        process.stderr.write(`wrote ${opts.out}\n`);
      } else process.stdout.write(text);
    });
  privacy
    .command('erase')
    .description("blank one customer's personal data (name, phone, email, birthday, personal attributes, ticket and survey text); ids and amounts stay")
    .requiredOption('--customer <id>', 'customer id')
    .action(async (opts: { customer: string }) => {
      const r =
        (await viaServer('POST', `/api/privacy/customers/${encodeURIComponent(opts.customer)}/erase`)) ??
        (await local('privacy erase', (db) => eraseCustomer(db, DEFAULT_WORKSPACE_ID, opts.customer, { actor: 'cli', now: new Date() })));
      const e = r as { customer_id: string; tickets: number; surveys: number; orders: number; events: number };
      process.stdout.write(
        `erased customer ${e.customer_id}: profile, ${e.tickets} tickets, ${e.surveys} surveys, ${e.orders} orders' and ${e.events} events' personal keys\n`,
      );
    });
}

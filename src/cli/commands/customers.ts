import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { MergeError, type MergeResult, mergeAllBy, mergeCustomers } from '../../core/quality/merge.service.ts';
import { type DuplicateKey, duplicateGroups } from '../../core/quality/quality.repository.ts';
import { DEFAULT_WORKSPACE_ID } from '../../db/schema.ts';
import { runningServer, UserError, withStore } from '../context.ts';

function parseBy(v: string, flag: string): DuplicateKey {
  if (v === 'phone' || v === 'email') return v;
  throw new UserError(`${flag} must be phone or email, not "${v}"`);
}

const asUserError = (e: unknown) => (e instanceof MergeError ? new UserError(e.message) : e);

function printMerge(r: MergeResult, json: boolean): void {
  if (json) return void process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
  const m = r.moved;
  const verb = r.dryRun ? 'would merge' : 'merged';
  process.stdout.write(`${verb} ${r.from.join(', ')} into ${r.into}\n`);
  process.stdout.write(
    `  moved: ${m.orders} orders, ${m.events} events, ${m.tickets} tickets, ${m.surveyResponses} survey responses, ` +
      `${m.referralsMade + m.referralsReceived} referrals, ${m.coupons} coupons\n`,
  );
  process.stdout.write(`  filled on ${r.into}: ${r.filled.length ? r.filled.join(', ') : 'nothing (no empty fields the others could fill)'}\n`);
  if (r.dryRun) process.stdout.write('  dry run: nothing was changed\n');
}

export function registerCustomers(program: Command): void {
  const customers = program.command('customers').description('customer identities: find and merge duplicates');

  customers
    .command('duplicates')
    .description('list groups of customers that share a phone number or an email address (ignoring case)')
    .option('--by <key>', 'phone or email (default: both)')
    .option('--limit <n>', 'at most this many groups per key', '50')
    .option('--json', 'print JSON')
    .action(async (opts: { by?: string; limit: string; json?: boolean }) => {
      const keys: DuplicateKey[] = opts.by ? [parseBy(opts.by, '--by')] : ['phone', 'email'];
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new UserError(`--limit must be a positive whole number, not "${opts.limit}"`);
      await withStore('customers duplicates', async ({ store }) => {
        const groups = [];
        for (const by of keys) groups.push(...(await duplicateGroups(store.db, DEFAULT_WORKSPACE_ID, by, limit)));
        if (opts.json) return void process.stdout.write(`${JSON.stringify(groups, null, 2)}\n`);
        if (groups.length === 0) return void process.stdout.write('no duplicate identities found\n');
        for (const g of groups) {
          process.stdout.write(`${g.by} ${g.key} (${g.customers.length} customers)\n`);
          g.customers.forEach((c, i) => {
            const tag = i === 0 ? 'keep ' : '     ';
            process.stdout.write(
              `  ${tag}${c.id}\t${c.name ?? ''}\t${c.phone ?? ''}\t${c.email ?? ''}\t${c.isStub ? 'stub' : ''}\t${c.registeredAt?.slice(0, 10) ?? ''}\n`,
            );
          });
        }
        process.stdout.write(
          `\nmerge one group with \`liuke customers merge --into ID --from ID\`, or all with \`liuke customers merge --all-by ${keys[0]}\` ("keep" marks the customer --all-by keeps)\n`,
        );
      });
    });

  customers
    .command('merge')
    .description('merge customers into one: orders, events, tickets, surveys, referrals and coupons move to the target; audited')
    .option('--into <id>', 'the customer to keep')
    .option('--from <id...>', 'the customers merged into it (repeatable)')
    .option('--all-by <key>', 'merge every duplicate group by phone or email')
    .option('--dry-run', 'show what would happen, change nothing')
    .option('--json', 'print JSON')
    .action(async (opts: { into?: string; from?: string[]; allBy?: string; dryRun?: boolean; json?: boolean }) => {
      const dryRun = Boolean(opts.dryRun);
      if (opts.allBy !== undefined) {
        if (opts.into || opts.from) throw new UserError('use either --all-by or --into with --from, not both');
        const by = parseBy(opts.allBy, '--all-by');
        await withStore('customers merge', async ({ store }) => {
          const bar = process.stderr.isTTY && !opts.json ? new cliProgress.SingleBar({ format: 'merge {bar} {value}/{total} groups' }, cliProgress.Presets.shades_classic) : null;
          let started = false;
          const r = await mergeAllBy(store.db, {
            workspaceId: DEFAULT_WORKSPACE_ID,
            by,
            actor: 'cli',
            now: new Date(),
            dryRun,
            onProgress: (done, total) => {
              if (!started) bar?.start(total, 0);
              started = true;
              bar?.update(done);
            },
          }).catch((e) => {
            bar?.stop();
            throw asUserError(e);
          });
          bar?.stop();
          if (opts.json) return void process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
          for (const m of r.merges) process.stdout.write(`${by} ${m.key}: ${m.from.join(', ')} → ${m.into}\n`);
          process.stdout.write(
            `${dryRun ? 'would merge' : 'merged'} ${r.merged} customers in ${r.groups} groups by ${by}${dryRun ? ' (dry run: nothing was changed)' : ''}\n`,
          );
        });
        return;
      }
      if (!opts.into || !opts.from?.length) {
        throw new UserError('name the customer to keep and the ones to merge into it: --into ID --from ID [--from ID …], or use --all-by phone|email');
      }
      const input = { into: opts.into, from: opts.from, dryRun };
      const server = await runningServer();
      if (server) {
        const res = await fetch(`${server.serverUrl}/api/customers/merge`, {
          method: 'POST',
          headers: { authorization: `Bearer ${server.localToken}`, 'content-type': 'application/json' },
          body: JSON.stringify(input),
        });
        const body = (await res.json()) as MergeResult | { error: { message: string } };
        if ('error' in body) throw new UserError(body.error.message);
        printMerge(body, Boolean(opts.json));
        return;
      }
      await withStore('customers merge', async ({ store }) => {
        const r = await mergeCustomers(store.db, { workspaceId: DEFAULT_WORKSPACE_ID, ...input, actor: 'cli', now: new Date() }).catch((e) => {
          throw asUserError(e);
        });
        printMerge(r, Boolean(opts.json));
      });
    });
}

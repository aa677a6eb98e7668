import type { Command } from 'commander';
import { createUser, listUsers, type PublicUser, updateUser, UserInputError, USER_ROLES } from '../../core/users/users.service.ts';
import { DEFAULT_WORKSPACE_ID, type UserRole } from '../../db/schema.ts';
import { runningServer, UserError, withStore } from '../context.ts';

/** Through the running server when it holds the embedded store, else null. */
async function viaServer<T>(method: string, path: string, body?: unknown): Promise<T | null> {
  const server = await runningServer();
  if (!server) return null;
  const res = await fetch(`${server.serverUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${server.localToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const json = (await res.json()) as T & { error?: { message: string } };
  if (!res.ok) throw new UserError(json.error?.message ?? `the running server answered ${res.status}`);
  return json;
}

function print(users: PublicUser[], json: boolean): void {
  if (json) return void process.stdout.write(`${JSON.stringify(users, null, 2)}\n`);
  for (const u of users) {
    const state = u.disabled_at ? 'disabled' : u.must_change_password ? 'must change password' : 'active';
    process.stdout.write(`${u.id}\t${u.email}\t${u.role}\t${u.name ?? ''}\t${state}\n`);
  }
}

async function findByEmailOrId(users: PublicUser[], who: string): Promise<PublicUser> {
  const u = users.find((x) => x.id === who || x.email.toLowerCase() === who.toLowerCase());
  if (!u) throw new UserError(`no user ${who}: see \`liuke users list\``);
  return u;
}

export function registerUsers(program: Command): void {
  const users = program.command('users').description('dashboard users and their roles');
  users
    .command('create')
    .description('create a user; without --password a one-time password is printed (changed at first sign-in)')
    .requiredOption('--email <email>', 'sign-in email')
    .requiredOption('--role <role>', `one of ${USER_ROLES.join(', ')}`)
    .option('--name <name>', 'display name')
    .option('--password <password>', 'initial password (8+ characters)')
    .action(async (opts: { email: string; role: string; name?: string; password?: string }) => {
      if (!USER_ROLES.includes(opts.role as UserRole)) throw new UserError(`--role must be one of ${USER_ROLES.join(', ')}, not "${opts.role}"`);
      const body = { email: opts.email, role: opts.role, ...(opts.name ? { name: opts.name } : {}), ...(opts.password ? { password: opts.password } : {}) };
      let r = await viaServer<{ user: PublicUser; one_time_password: string | null }>('POST', '/api/users', body);
      if (!r) {
        r = await withStore('users create', async ({ store }) => {
          try {
            const c = await createUser(store.db, {
              workspaceId: DEFAULT_WORKSPACE_ID,
              email: opts.email,
              role: opts.role as UserRole,
              name: opts.name ?? null,
              ...(opts.password ? { password: opts.password } : {}),
              actor: 'cli',
              now: new Date(),
            });
            return { user: c.user, one_time_password: c.oneTimePassword };
          } catch (e) {
            if (e instanceof UserInputError) throw new UserError(e.message);
            throw e;
          }
        });
      }
      process.stderr.write(`created ${r.user.role} ${r.user.email} (${r.user.id})\n`);
      if (r.one_time_password) {
        process.stderr.write('one-time password (shown once; it must be changed at first sign-in):\n');
        process.stdout.write(`${r.one_time_password}\n`);
      }
    });
  users
    .command('list')
    .description('list users')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const r = await viaServer<{ items: PublicUser[] }>('GET', '/api/users');
      const items = r ? r.items : await withStore('users list', ({ store }) => listUsers(store.db, DEFAULT_WORKSPACE_ID));
      print(items, Boolean(opts.json));
    });
  users
    .command('disable <email-or-id>')
    .description('disable a user and end their sessions')
    .action(async (who: string) => {
      const r = await viaServer<{ items: PublicUser[] }>('GET', '/api/users');
      if (r) {
        const u = await findByEmailOrId(r.items, who);
        await viaServer('PATCH', `/api/users/${encodeURIComponent(u.id)}`, { disabled: true });
        process.stdout.write(`disabled ${u.email}\n`);
        return;
      }
      await withStore('users disable', async ({ store }) => {
        const u = await findByEmailOrId(await listUsers(store.db, DEFAULT_WORKSPACE_ID), who);
        try {
          await updateUser(store.db, DEFAULT_WORKSPACE_ID, u.id, { disabled: true }, { actor: 'cli', now: new Date() });
        } catch (e) {
          if (e instanceof UserInputError) throw new UserError(e.message);
          throw e;
        }
        process.stdout.write(`disabled ${u.email}\n`);
      });
    });
}

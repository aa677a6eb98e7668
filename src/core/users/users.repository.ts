import { type Kysely, sql } from 'kysely';
import type { Database, UserRole } from '../../db/schema.ts';

export const PUBLIC_USER_COLUMNS = ['id', 'email', 'name', 'role', 'locale', 'created_at', 'disabled_at', 'must_change_password'] as const;

export function insertUser(
  db: Kysely<Database>,
  row: { workspace_id: number; id: string; email: string; name: string | null; role: UserRole; password_hash: string; locale: 'zh-CN' | 'en'; must_change_password: boolean; created_at: Date },
) {
  return db.insertInto('users').values({ ...row, disabled_at: null }).execute();
}

export function findUserByEmail(db: Kysely<Database>, workspaceId: number, email: string) {
  return db
    .selectFrom('users')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where(sql<string>`lower(email)`, '=', email.toLowerCase())
    .executeTakeFirst();
}

export function findUserById(db: Kysely<Database>, workspaceId: number, id: string) {
  return db.selectFrom('users').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
}

export function listUsers(db: Kysely<Database>, workspaceId: number) {
  return db.selectFrom('users').select(PUBLIC_USER_COLUMNS).where('workspace_id', '=', workspaceId).orderBy('created_at').orderBy('id').execute();
}

export function countUsers(db: Kysely<Database>, workspaceId: number) {
  return db.selectFrom('users').select((e) => e.fn.countAll<number>().as('n')).where('workspace_id', '=', workspaceId).executeTakeFirstOrThrow();
}

export function updateUser(
  db: Kysely<Database>,
  workspaceId: number,
  id: string,
  set: Partial<{ role: UserRole; name: string | null; locale: 'zh-CN' | 'en'; disabled_at: Date | null; password_hash: string; must_change_password: boolean }>,
) {
  return db.updateTable('users').set(set).where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
}

export function countActiveAdmins(db: Kysely<Database>, workspaceId: number) {
  return db
    .selectFrom('users')
    .select((e) => e.fn.countAll<number>().as('n'))
    .where('workspace_id', '=', workspaceId)
    .where('role', '=', 'admin')
    .where('disabled_at', 'is', null)
    .executeTakeFirstOrThrow();
}

export function recordFailedLogin(db: Kysely<Database>, workspaceId: number, email: string, ip: string, at: Date) {
  return db.insertInto('login_attempts').values({ workspace_id: workspaceId, email: email.toLowerCase(), ip, at }).execute();
}

export function countFailedLogins(db: Kysely<Database>, workspaceId: number, email: string, ip: string, since: Date) {
  return db
    .selectFrom('login_attempts')
    .select((e) => [e.fn.countAll<number>().as('n'), e.fn.min('at').as('first')])
    .where('workspace_id', '=', workspaceId)
    .where('email', '=', email.toLowerCase())
    .where('ip', '=', ip)
    .where('at', '>', since)
    .executeTakeFirstOrThrow();
}

export function clearFailedLogins(db: Kysely<Database>, workspaceId: number, email: string, ip: string, olderThan: Date) {
  return db
    .deleteFrom('login_attempts')
    .where('workspace_id', '=', workspaceId)
    .where((eb) => eb.or([eb.and([eb('email', '=', email.toLowerCase()), eb('ip', '=', ip)]), eb('at', '<', olderThan)]))
    .execute();
}

import type { Kysely } from 'kysely';
import type { ApiKeysTable, Database } from '../../db/schema.ts';
import type { Insertable } from 'kysely';

export function insertKey(db: Kysely<Database>, row: Insertable<ApiKeysTable>) {
  return db.insertInto('api_keys').values(row).execute();
}

export function findActiveKeyByHash(db: Kysely<Database>, keyHash: string) {
  return db
    .selectFrom('api_keys')
    .select(['id', 'workspace_id', 'role', 'name', 'last_used_at'])
    .where('key_hash', '=', keyHash)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}

export function touchKey(db: Kysely<Database>, id: string, at: Date) {
  return db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
}

export function listKeys(db: Kysely<Database>, workspaceId: number) {
  return db
    .selectFrom('api_keys')
    .select(['id', 'name', 'role', 'prefix', 'created_at', 'created_by', 'last_used_at', 'revoked_at'])
    .where('workspace_id', '=', workspaceId)
    .orderBy('created_at', 'desc')
    .execute();
}

export function revokeKey(db: Kysely<Database>, workspaceId: number, id: string, at: Date) {
  return db
    .updateTable('api_keys')
    .set({ revoked_at: at })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}

// Whether a workspace exists: the check the writers run once, up front, for the tables
// that carry no foreign key to workspaces (migrations 0012, 0013, 0020, 0029, 0030).
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

export async function workspaceExists(db: Kysely<Database>, workspaceId: number): Promise<boolean> {
  return (await db.selectFrom('workspaces').select('id').where('id', '=', workspaceId).executeTakeFirst()) !== undefined;
}

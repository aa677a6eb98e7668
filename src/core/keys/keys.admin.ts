// Key changes made by people (API, CLI with audit): create and revoke, each
// recorded in the audit log in the same transaction.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { recordAudit } from '../audit/audit.service.ts';
import { forgetCallers } from '../sessions/callers.cache.ts';
import { createKey, type KeyRole, revokeKey } from './keys.service.ts';

export function createKeyAudited(db: Kysely<Database>, opts: { workspaceId: number; role: KeyRole; name?: string; actor: string; now: Date }) {
  return db.transaction().execute(async (trx) => {
    const k = await createKey(trx, { workspaceId: opts.workspaceId, role: opts.role, ...(opts.name ? { name: opts.name } : {}), createdBy: opts.actor });
    await recordAudit(trx, { workspaceId: opts.workspaceId, actor: opts.actor, action: 'create', entity: 'api_key', entityId: k.id, after: { id: k.id, role: k.role, name: opts.name ?? null }, at: opts.now });
    return k;
  });
}

export function revokeKeyAudited(db: Kysely<Database>, opts: { workspaceId: number; id: string; actor: string; now: Date }): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const ok = await revokeKey(trx, opts.workspaceId, opts.id, opts.now);
    if (ok) await recordAudit(trx, { workspaceId: opts.workspaceId, actor: opts.actor, action: 'revoke', entity: 'api_key', entityId: opts.id, at: opts.now });
    return ok;
  }).finally(forgetCallers); // again after the commit: a lookup in between saw the key still active
}

// The audit log: who changed what, when, with the state before and after.
// Callers pass their transaction so the entry commits with the change itself.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';

export interface AuditEntry {
  workspaceId: number;
  /** "user:alice", "key:key_ab12", "cli", "system" */
  actor: string;
  /** verb: create, update, delete, merge, erase, export, revoke, login, … */
  action: string;
  /** what kind of thing: customer, user, api_key, settings, rule, … */
  entity: string;
  entityId?: string | null;
  before?: unknown;
  after?: unknown;
  at?: Date;
}

export async function recordAudit(db: Kysely<Database>, e: AuditEntry): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      workspace_id: e.workspaceId,
      actor: e.actor,
      action: e.action,
      entity: e.entity,
      entity_id: e.entityId ?? null,
      before: e.before === undefined ? null : JSON.stringify(e.before),
      after: e.after === undefined ? null : JSON.stringify(e.after),
      ...(e.at ? { at: e.at } : {}),
    })
    .execute();
}

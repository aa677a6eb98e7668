import type { Kysely, SelectQueryBuilder } from 'kysely';
import type { AuditLogTable, Database } from '../../db/schema.ts';

export interface AuditFilter {
  workspaceId: number;
  entity?: string | undefined;
  entityId?: string | undefined;
  actor?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

function filtered(db: Kysely<Database>, f: AuditFilter): SelectQueryBuilder<Database, 'audit_log', object> {
  let q = db.selectFrom('audit_log').where('workspace_id', '=', f.workspaceId);
  if (f.entity) q = q.where('entity', '=', f.entity);
  if (f.entityId) q = q.where('entity_id', '=', f.entityId);
  if (f.actor) q = q.where('actor', '=', f.actor);
  if (f.from) q = q.where('at', '>=', f.from);
  if (f.to) q = q.where('at', '<', f.to);
  return q;
}

export type AuditRow = Pick<AuditLogTable, 'entity' | 'actor' | 'action' | 'entity_id'> & { id: number; at: Date; before: unknown; after: unknown };

export async function countAudit(db: Kysely<Database>, f: AuditFilter): Promise<number> {
  const r = await filtered(db, f).select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

export function pageAudit(db: Kysely<Database>, f: AuditFilter, limit: number, offset: number): Promise<AuditRow[]> {
  return filtered(db, f)
    .select(['id', 'at', 'actor', 'action', 'entity', 'entity_id', 'before', 'after'])
    .orderBy('at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .offset(offset)
    .execute() as Promise<AuditRow[]>;
}

/** Every matching entry, newest first, read in keyset batches. */
export async function* streamAudit(db: Kysely<Database>, f: AuditFilter, batch = 2000): AsyncGenerator<AuditRow> {
  let lastId: number | null = null;
  for (;;) {
    let q = filtered(db, f).select(['id', 'at', 'actor', 'action', 'entity', 'entity_id', 'before', 'after']);
    if (lastId !== null) q = q.where('id', '<', lastId);
    const rows = (await q.orderBy('id', 'desc').limit(batch).execute()) as AuditRow[];
    yield* rows;
    if (rows.length < batch) return;
    lastId = rows[rows.length - 1]!.id;
  }
}

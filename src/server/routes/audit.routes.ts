import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { type AuditFilter, type AuditRow, countAudit, pageAudit, streamAudit } from '../../core/audit/audit.repository.ts';
import { principal } from '../auth.ts';
import { DateTime } from '../schemas.ts';
import { sendTable } from '../tabular.ts';

const Filter = {
  entity: Type.Optional(Type.String({ maxLength: 100 })),
  entity_id: Type.Optional(Type.String({ maxLength: 200 })),
  actor: Type.Optional(Type.String({ maxLength: 200 })),
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time' })),
};
const AuditItem = Type.Object({
  id: Type.Integer(),
  at: DateTime,
  actor: Type.String(),
  action: Type.String(),
  entity: Type.String(),
  entity_id: Type.Union([Type.String(), Type.Null()]),
  before: Type.Unknown(),
  after: Type.Unknown(),
});

function filterOf(workspaceId: number, q: { entity?: string; entity_id?: string; actor?: string; from?: string; to?: string }): AuditFilter {
  return {
    workspaceId,
    entity: q.entity,
    entityId: q.entity_id,
    actor: q.actor,
    from: q.from ? new Date(q.from) : undefined,
    to: q.to ? new Date(q.to) : undefined,
  };
}

export async function auditRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/audit',
    {
      config: { roles: ['admin'] },
      schema: {
        tags: ['audit'],
        summary: 'The audit log, newest first',
        querystring: Type.Object({
          ...Filter,
          page: Type.Integer({ minimum: 1, default: 1 }),
          page_size: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
        }),
        response: { 200: Type.Object({ total: Type.Integer(), page: Type.Integer(), page_size: Type.Integer(), items: Type.Array(AuditItem) }) },
      },
    },
    async (req) => {
      const f = filterOf(principal(req).workspaceId, req.query);
      const { page, page_size } = req.query;
      const [total, items] = await Promise.all([
        countAudit(app.deps.store.db, f),
        pageAudit(app.deps.store.db, f, page_size, (page - 1) * page_size),
      ]);
      return { total, page, page_size, items };
    },
  );
  app.get(
    '/api/audit/export',
    {
      config: { roles: ['admin'] },
      schema: {
        tags: ['audit'],
        summary: 'The audit log as a CSV or XLSX download',
        querystring: Type.Object({ ...Filter, format: Type.Union([Type.Literal('csv'), Type.Literal('xlsx')], { default: 'csv' }) }),
      },
    },
    async (req, reply) => {
      const f = filterOf(principal(req).workspaceId, req.query);
      return sendTable<AuditRow>(
        reply,
        req.query.format,
        'audit-log',
        [
          { header: 'id', value: (r) => r.id },
          { header: 'at', value: (r) => r.at },
          { header: 'actor', value: (r) => r.actor },
          { header: 'action', value: (r) => r.action },
          { header: 'entity', value: (r) => r.entity },
          { header: 'entity_id', value: (r) => r.entity_id },
          { header: 'before', value: (r) => r.before },
          { header: 'after', value: (r) => r.after },
        ],
        streamAudit(app.deps.store.db, f),
      );
    },
  );
}

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { createKeyAudited, revokeKeyAudited } from '../../core/keys/keys.admin.ts';
import { listKeys } from '../../core/keys/keys.service.ts';
import { principal } from '../auth.ts';
import { notFound } from '../errors.ts';

import { DateTime, NullableDateTime } from '../schemas.ts';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const KeySchema = Type.Object({
  id: Type.String(),
  name: Nullable(Type.String()),
  role: Type.Union([Type.Literal('ingest'), Type.Literal('admin')]),
  prefix: Type.String(),
  created_at: DateTime,
  created_by: Nullable(Type.String()),
  last_used_at: NullableDateTime,
  revoked_at: NullableDateTime,
});

export async function keysRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const admin = { roles: ['admin' as const] };
  app.get(
    '/api/keys',
    { config: admin, schema: { tags: ['keys'], summary: 'API keys (never the keys themselves)', response: { 200: Type.Object({ items: Type.Array(KeySchema) }) } } },
    async (req) => ({ items: await listKeys(app.deps.store.db, principal(req).workspaceId) }),
  );
  app.post(
    '/api/keys',
    {
      config: admin,
      schema: {
        tags: ['keys'],
        summary: 'Create a key; the key is in this answer only',
        body: Type.Object(
          { role: Type.Union([Type.Literal('ingest'), Type.Literal('admin')]), name: Type.Optional(Type.String({ maxLength: 200 })) },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ id: Type.String(), key: Type.String(), role: Type.String() }) },
      },
    },
    async (req, reply) => {
      const p = principal(req);
      const k = await createKeyAudited(app.deps.store.db, {
        workspaceId: p.workspaceId,
        role: req.body.role,
        ...(req.body.name ? { name: req.body.name } : {}),
        actor: p.actor,
        now: app.deps.now(),
      });
      return reply.status(201).send(k);
    },
  );
  app.delete(
    '/api/keys/:id',
    { config: admin, schema: { tags: ['keys'], summary: 'Revoke a key', params: Type.Object({ id: Type.String() }) } },
    async (req) => {
      const p = principal(req);
      if (!(await revokeKeyAudited(app.deps.store.db, { workspaceId: p.workspaceId, id: req.params.id, actor: p.actor, now: app.deps.now() }))) {
        throw notFound(`active key ${req.params.id}`);
      }
      return { ok: true };
    },
  );
}

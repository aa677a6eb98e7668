import type { FastifyInstance } from 'fastify';
import { getStatus } from '../../core/status/status.service.ts';
import { ANY_USER, principal } from '../auth.ts';

export async function statusRoutes(app: FastifyInstance): Promise<void> {
  app.get('/api/status', { config: { roles: ANY_USER }, schema: { tags: ['status'], summary: 'Entity counts and the last pipeline run' } }, async (req) =>
    getStatus(app.deps.store.db, principal(req).workspaceId, { server: app.deps.store.kind === 'postgres' }),
  );
}

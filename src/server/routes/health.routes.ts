import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';

export async function healthRoutes(app: FastifyInstance): Promise<void> {
  const pub = { config: { roles: 'public' as const }, schema: { tags: ['health'] } };
  /** The process is up. */
  app.get('/healthz', pub, async () => ({ ok: true }));
  /** The process can reach its store. */
  app.get('/readyz', pub, async (_req, reply) => {
    try {
      await sql`select 1`.execute(app.deps.store.db);
      return { ok: true, store: app.deps.store.kind };
    } catch (e) {
      return reply.status(503).send({ error: { code: 'not_ready', message: `store unreachable: ${(e as Error).message}` } });
    }
  });
}

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { eraseCustomer, exportCustomerData, PrivacyError } from '../../core/privacy/privacy.service.ts';
import { principal } from '../auth.ts';
import { notFound } from '../errors.ts';

export async function privacyRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });
  const wrap = async <T>(id: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof PrivacyError) throw notFound(`customer ${id}`);
      throw e;
    }
  };
  app.get(
    '/api/privacy/customers/:id/export',
    {
      config: { roles: ['admin'] },
      schema: { tags: ['privacy'], summary: 'Everything held on one customer as JSON (audited)', params },
    },
    async (req, reply) => {
      const p = principal(req);
      const data = await wrap(req.params.id, () => exportCustomerData(app.deps.store.db, p.workspaceId, req.params.id, { actor: p.actor, now: app.deps.now() }));
      reply.header('content-disposition', `attachment; filename="customer-${encodeURIComponent(req.params.id)}.json"`);
      return data;
    },
  );
  app.post(
    '/api/privacy/customers/:id/erase',
    {
      config: { roles: ['admin'] },
      schema: {
        tags: ['privacy'],
        summary: 'Erase one customer\'s personal data; ids and amounts stay (audited)',
        params,
        response: {
          200: Type.Object({
            customer_id: Type.String(),
            erased_at: Type.String(),
            tickets: Type.Integer(),
            surveys: Type.Integer(),
            orders: Type.Integer(),
            events: Type.Integer(),
          }),
        },
      },
    },
    async (req) => {
      const p = principal(req);
      return wrap(req.params.id, () => eraseCustomer(app.deps.store.db, p.workspaceId, req.params.id, { actor: p.actor, now: app.deps.now() }));
    },
  );
}

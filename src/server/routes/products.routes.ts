// Next-best products over HTTP (docs/next-best-product.md): the strongest product
// patterns for the Models/Reports pages, and a customer's recommendations.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { customerExists } from '../../core/customers/customers.service.ts';
import { topAffinities } from '../../core/predictions/affinities.ts';
import { customerNextProducts } from '../../core/predictions/recommend.ts';
import { repurchaseProducts } from '../../core/predictions/repurchase.ts';
import { ANY_USER, principal } from '../auth.ts';
import { notFound } from '../errors.ts';

export async function productsRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const db = () => app.deps.store.db;

  app.get(
    '/api/products/affinities',
    {
      config: { roles: ANY_USER },
      schema: {
        tags: ['products'],
        summary: 'Top product patterns (sequence A → B with median lag, co-purchase), and the repurchase products',
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 20 })),
          kind: Type.Optional(Type.Union([Type.Literal('sequence'), Type.Literal('co_purchase')])),
          min_lift: Type.Optional(Type.Number({ minimum: 0, default: 1 })),
        }),
      },
    },
    async (req) => {
      const p = principal(req);
      const items = await topAffinities(db(), p.workspaceId, { limit: req.query.limit ?? 20, kind: req.query.kind, minLift: req.query.min_lift ?? 1 });
      return { items, repurchase: await repurchaseProducts(db(), p.workspaceId) };
    },
  );

  app.get(
    '/api/customers/:id/next-products',
    {
      config: { roles: ANY_USER },
      schema: {
        tags: ['products', 'customers'],
        summary: "A customer's next-best products: due consumables, sequence picks whose lag has come, co-purchases",
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) }),
      },
    },
    async (req) => {
      const p = principal(req);
      if (!(await customerExists(db(), p.workspaceId, req.params.id))) throw notFound(`customer ${req.params.id}`);
      return { customer_id: req.params.id, items: await customerNextProducts(db(), p.workspaceId, req.params.id) };
    },
  );
}

// Native REST endpoints for data that is not a behavioural event: orders (with
// lines), support tickets and survey responses. One record or an array;
// upsert by id; an unknown customer id creates a stub customer.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { upsertOrders, upsertSurveys, upsertTickets } from '../../core/ingest/ingest.service.ts';
import { OrdersBody, SurveysBody, TicketsBody, UpsertResult } from '../../core/ingest/segment.schema.ts';
import { principal } from '../auth.ts';

export async function dataRoutes(parent: FastifyInstance): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const ctx = (req: Parameters<typeof principal>[0]) => {
    const p = principal(req);
    return { workspaceId: p.workspaceId, actor: p.actor, now: app.deps.now() };
  };
  const security: Record<string, string[]>[] = [{ apiKey: [] }, { writeKey: [] }];
  app.addHook('preValidation', async (req) => {
    if (req.body !== undefined && req.body !== null && !Array.isArray(req.body)) req.body = [req.body];
  });

  app.post(
    '/api/orders',
    {
      config: { roles: ['ingest', 'admin'] },
      schema: {
        tags: ['data'],
        summary: 'Create or replace orders (one or an array of up to 1000), with their lines',
        security,
        body: OrdersBody,
        response: { 200: UpsertResult },
      },
    },
    async (req) => upsertOrders(app.deps.store.db, ctx(req), req.body),
  );

  app.post(
    '/api/tickets',
    {
      config: { roles: ['ingest', 'admin', 'operator'] },
      schema: {
        tags: ['data'],
        summary: 'Create or replace support tickets (complaints, suggestions, inquiries)',
        security,
        body: TicketsBody,
        response: { 200: UpsertResult },
      },
    },
    async (req) => upsertTickets(app.deps.store.db, ctx(req), req.body),
  );

  app.post(
    '/api/surveys',
    {
      config: { roles: ['ingest', 'admin'] },
      schema: {
        tags: ['data'],
        summary: 'Record survey responses: NPS 0–10, CSAT 1–5, free text, churn reason',
        security,
        body: SurveysBody,
        response: { 200: UpsertResult },
      },
    },
    async (req) => upsertSurveys(app.deps.store.db, ctx(req), req.body),
  );
}

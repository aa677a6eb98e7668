import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import * as customers from '../../core/customers/customers.service.ts';
import { ANY_USER, principal } from '../auth.ts';
import { badRequest, notFound } from '../errors.ts';
import { DateTime, NullableDateTime } from '../schemas.ts';
import { sendTable } from '../tabular.ts';

const Str = Type.Union([Type.String(), Type.Null()]);
const Filters = {
  q: Type.Optional(Type.String({ maxLength: 200, description: 'id prefix, phone prefix or last 4+ digits, email prefix, name prefix' })),
  city: Type.Optional(Type.String({ maxLength: 200 })),
  membership_level: Type.Optional(Type.String({ maxLength: 200 })),
  owner: Type.Optional(Type.String({ maxLength: 200 })),
  is_stub: Type.Optional(Type.Boolean()),
  registered_from: Type.Optional(Type.String({ format: 'date-time' })),
  registered_to: Type.Optional(Type.String({ format: 'date-time' })),
  min_spend: Type.Optional(Type.Number({ minimum: 0 })),
  max_spend: Type.Optional(Type.Number({ minimum: 0 })),
};
const ListItem = Type.Object({
  id: Type.String(),
  name: Str,
  phone: Str,
  email: Str,
  city: Str,
  membership_level: Str,
  owner: Str,
  registered_at: NullableDateTime,
  first_order_at: NullableDateTime,
  last_order_at: NullableDateTime,
  orders: Type.Integer(),
  spend: Type.Number(),
});
const Customer = Type.Object({
  id: Type.String(),
  name: Str,
  phone: Str,
  email: Str,
  gender: Str,
  birthday: Str,
  region: Str,
  city: Str,
  time_zone: Str,
  registered_at: NullableDateTime,
  acquisition_channel: Str,
  membership_level: Str,
  membership_expires_at: NullableDateTime,
  owner: Str,
  preferred_channel: Str,
  consent: Type.Record(Type.String(), Type.Unknown()),
  attributes: Type.Record(Type.String(), Type.Unknown()),
  is_stub: Type.Boolean(),
  merged_into: Str,
  erased_at: NullableDateTime,
  created_at: DateTime,
  updated_at: DateTime,
});
const Figures = Type.Object({
  first_order_at: NullableDateTime,
  last_order_at: NullableDateTime,
  orders: Type.Integer(),
  spend: Type.Number(),
  average_order_value: Type.Union([Type.Number(), Type.Null()]),
  refunded_orders: Type.Integer(),
  open_tickets: Type.Integer(),
  last_nps: Type.Union([Type.Integer(), Type.Null()]),
  last_csat: Type.Union([Type.Integer(), Type.Null()]),
  events_30d: Type.Integer(),
});

function filterOf(q: {
  q?: string;
  city?: string;
  membership_level?: string;
  owner?: string;
  is_stub?: boolean;
  registered_from?: string;
  registered_to?: string;
  min_spend?: number;
  max_spend?: number;
}): customers.CustomerFilter {
  const text = q.q?.trim();
  return {
    q: text || undefined,
    city: q.city,
    membership_level: q.membership_level,
    owner: q.owner,
    is_stub: q.is_stub,
    registered_from: q.registered_from ? new Date(q.registered_from) : undefined,
    registered_to: q.registered_to ? new Date(q.registered_to) : undefined,
    min_spend: q.min_spend,
    max_spend: q.max_spend,
  };
}

export async function customersRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const db = () => app.deps.store.db;

  app.get(
    '/api/customers',
    {
      config: { roles: ANY_USER },
      schema: {
        tags: ['customers'],
        summary: 'Search, filter and sort customers (phone and email masked for agent and viewer)',
        querystring: Type.Object({
          ...Filters,
          sort: Type.Union(customers.SORTS.map((s) => Type.Literal(s)), { default: 'id' }),
          order: Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'asc' }),
          page: Type.Integer({ minimum: 1, maximum: 100_000, default: 1 }),
          page_size: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
        }),
        response: {
          200: Type.Object({
            total: Type.Integer(),
            total_exact: Type.Boolean({ description: `false when more than ${customers.COUNT_CAP} match; total is then an estimate` }),
            page: Type.Integer(),
            page_size: Type.Integer(),
            items: Type.Array(ListItem),
          }),
        },
      },
    },
    async (req) => {
      const p = principal(req);
      const { sort, order, page, page_size } = req.query;
      return customers.listCustomers(db(), p.workspaceId, p.role, filterOf(req.query), {
        sort: sort as customers.CustomerSort,
        order,
        page,
        pageSize: page_size,
        now: app.deps.now(),
      });
    },
  );

  app.get(
    '/api/customers/export',
    {
      config: { roles: ANY_USER },
      schema: {
        tags: ['customers'],
        summary: 'The filtered customer list as a CSV or XLSX download (masked for agent and viewer)',
        querystring: Type.Object({ ...Filters, format: Type.Union([Type.Literal('csv'), Type.Literal('xlsx')], { default: 'csv' }) }),
      },
    },
    async (req, reply) => {
      const p = principal(req);
      const cols = ['id', 'name', 'phone', 'email', 'city', 'membership_level', 'owner', 'registered_at', 'first_order_at', 'last_order_at', 'orders', 'spend'] as const;
      return sendTable(
        reply,
        req.query.format,
        'customers',
        cols.map((c) => ({ header: c, value: (r: Record<string, unknown>) => r[c] })),
        customers.exportCustomers(db(), p.workspaceId, p.role, filterOf(req.query)) as AsyncIterable<Record<string, unknown>>,
      );
    },
  );

  app.get(
    '/api/customers/:id',
    {
      config: { roles: ANY_USER },
      schema: {
        tags: ['customers'],
        summary: 'One customer: profile and figures (Customer 360)',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) }),
        response: { 200: Type.Object({ customer: Customer, figures: Figures }) },
      },
    },
    async (req) => {
      const p = principal(req);
      const r = await customers.getCustomer(db(), p.workspaceId, p.role, req.params.id, app.deps.now());
      if (!r) throw notFound(`customer ${req.params.id}`);
      return r;
    },
  );

  app.get(
    '/api/customers/:id/timeline',
    {
      config: { roles: ANY_USER },
      schema: {
        tags: ['customers'],
        summary: "A customer's orders, events, tickets and surveys, newest first, keyset-paged",
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) }),
        querystring: Type.Object({
          types: Type.Optional(Type.String({ description: 'comma-separated: order,event,ticket,survey (default all)' })),
          before: Type.Optional(Type.String({ maxLength: 500, description: 'next_cursor from the previous page' })),
          limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
        }),
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({
                type: Type.String(),
                at: DateTime,
                id: Type.String(),
                title: Str,
                detail: Type.Record(Type.String(), Type.Unknown()),
              }),
            ),
            next_cursor: Str,
          }),
        },
      },
    },
    async (req) => {
      const p = principal(req);
      const types = (req.query.types ?? customers.TIMELINE_TYPES.join(','))
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean);
      const bad = types.find((t) => !(customers.TIMELINE_TYPES as readonly string[]).includes(t));
      if (bad) throw badRequest(`unknown timeline type "${bad}"; use ${customers.TIMELINE_TYPES.join(', ')}`, 'types', 'invalid');
      const cursor = req.query.before ? customers.decodeCursor(req.query.before) : null;
      if (req.query.before && !cursor) throw badRequest('before is not a cursor this API gave out', 'before', 'invalid');
      // One query: the page and whether the customer exists (null when not).
      const page = await customers.customerTimeline(db(), p.workspaceId, req.params.id, types as customers.TimelineType[], cursor, req.query.limit);
      if (!page) throw notFound(`customer ${req.params.id}`);
      return page;
    },
  );
}

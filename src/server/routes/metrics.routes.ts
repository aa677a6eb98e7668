// One customer's analytics figures from customer_metrics (as of the last
// pipeline run): RFM, tier, lifecycle stage and the per-customer indicators
// the Customer 360 page shows.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import Type from 'typebox';
import { customerExists } from '../../core/customers/customers.service.ts';
import { ANY_USER, principal } from '../auth.ts';
import { notFound } from '../errors.ts';

const DATES = ['as_of', 'first_order_at', 'last_order_at', 'last_event_at', 'stage_since'] as const;
const TEXT = ['tier', 'rfm_segment', 'lifecycle_stage'] as const;

export async function metricsRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/customers/:id/metrics',
    {
      config: { roles: ANY_USER },
      schema: {
        tags: ['customers', 'analytics'],
        summary: "One customer's figures as of the last pipeline run (RFM, tier, lifecycle, indicators); metrics is null before the first run",
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) }),
      },
    },
    async (req) => {
      const p = principal(req);
      const db = app.deps.store.db;
      if (!(await customerExists(db, p.workspaceId, req.params.id))) throw notFound(`customer ${req.params.id}`);
      const row = await db
        .selectFrom('customer_metrics as m')
        .leftJoin('scoring_state as s', 's.workspace_id', 'm.workspace_id')
        .selectAll('m')
        // as of the last scoring run, like the scores (not stored: it would change every row every day)
        .select(sql<number | null>`floor(extract(epoch from (s.as_of - m.last_order_at)) / 86400)::int`.as('recency_days'))
        .where('m.workspace_id', '=', p.workspaceId)
        .where('m.customer_id', '=', req.params.id)
        .executeTakeFirst();
      if (!row) return { customer_id: req.params.id, metrics: null };
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(row)) {
        if (k === 'workspace_id' || k === 'customer_id') continue;
        if ((DATES as readonly string[]).includes(k)) out[k] = v === null ? null : new Date(v as string | Date).toISOString();
        else if ((TEXT as readonly string[]).includes(k)) out[k] = v;
        else out[k] = v === null ? null : Number(v);
      }
      const n = (k: string) => (out[k] as number | null) ?? 0;
      out.aov = n('orders_window') > 0 ? n('spend_window') / n('orders_window') : null;
      out.coupon_share = n('orders_window') > 0 ? n('coupon_orders_window') / n('orders_window') : null;
      out.refund_rate = n('orders_all_statuses') > 0 ? n('refunded_orders') / n('orders_all_statuses') : null;
      out.frequency_change = n('orders_prev_90d') > 0 ? n('orders_90d') / n('orders_prev_90d') - 1 : null;
      // Active: at least one login in the last week or three core-feature uses in the last month (SPEC §2).
      out.active = n('logins_7d') >= 1 || n('core_uses_30d') >= 3;
      return { customer_id: req.params.id, metrics: out };
    },
  );
}

// The data-quality report and customer merge over HTTP.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { MergeError, mergeCustomers } from '../../core/quality/merge.service.ts';
import { computeDataQuality } from '../../core/quality/quality.service.ts';
import { principal } from '../auth.ts';
import { AppError } from '../errors.ts';

const STATUS: Record<MergeError['code'], number> = { invalid: 400, self: 400, unknown: 404, merged: 409, erased: 409 };

export async function qualityRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/data-quality',
    {
      config: { roles: ['admin', 'operator', 'analyst'] },
      schema: {
        tags: ['data quality'],
        summary: 'The data-quality report: duplicates, refunds, outliers, dates, order lines, completeness and findings',
        querystring: Type.Object(
          { locale: Type.Optional(Type.Union([Type.Literal('en'), Type.Literal('zh-CN')])) },
          { additionalProperties: false },
        ),
      },
    },
    async (req) =>
      computeDataQuality(app.deps.store.db, principal(req).workspaceId, app.deps.now(), { locale: req.query.locale ?? 'en' }),
  );

  app.post(
    '/api/customers/merge',
    {
      config: { roles: ['admin', 'operator'] },
      schema: {
        tags: ['data quality'],
        summary: 'Merge customers into one: history moves to `into`, empty fields are filled, the merge is audited',
        body: Type.Object(
          {
            into: Type.String({ minLength: 1, maxLength: 200 }),
            from: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 1000 }),
            dryRun: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (req) => {
      const p = principal(req);
      try {
        const r = await mergeCustomers(app.deps.store.db, {
          workspaceId: p.workspaceId,
          into: req.body.into,
          from: req.body.from,
          actor: p.actor,
          now: app.deps.now(),
          dryRun: req.body.dryRun ?? false,
        });
        return r;
      } catch (e) {
        if (e instanceof MergeError) throw new AppError(STATUS[e.code], e.code === 'unknown' ? 'not_found' : e.code, e.message);
        throw e;
      }
    },
  );
}

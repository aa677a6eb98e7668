import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import { REPORTS, runReport } from '../../core/reports/registry.ts';
import { ANY_USER, principal } from '../auth.ts';
import { notFound } from '../errors.ts';
import { sendTable } from '../tabular.ts';

export async function reportsRoutes(app: FastifyInstance): Promise<void> {
  app.get(
    '/api/reports/:name',
    {
      config: { roles: ANY_USER },
      schema: {
        tags: ['reports'],
        summary: 'A named report as JSON, or as a CSV/XLSX download',
        params: Type.Object({ name: Type.String() }),
        querystring: Type.Object(
          { format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv'), Type.Literal('xlsx')])), lang: Type.Optional(Type.String()) },
          { additionalProperties: true },
        ),
      },
    },
    async (req, reply) => {
      const { name } = req.params as { name: string };
      const q = req.query as Record<string, string | undefined>;
      if (!REPORTS[name]) throw notFound(`report ${name} (the reports are: ${Object.keys(REPORTS).join(', ')})`);
      const report = await runReport(name, { db: app.deps.store.db, workspaceId: principal(req).workspaceId, now: app.deps.now(), params: q });
      if (!q.format || q.format === 'json') return report;
      const zh = q.lang === 'zh-CN';
      async function* rows() {
        yield* report.rows;
      }
      return sendTable(
        reply,
        q.format as 'csv' | 'xlsx',
        report.name,
        report.columns.map((c) => ({ header: zh ? c.zh : c.en, value: (r: Record<string, unknown>) => r[c.key] })),
        rows(),
      );
    },
  );
}

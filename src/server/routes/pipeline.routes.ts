import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import { enqueue, listJobs } from '../../core/jobs/queue.ts';
import { listRuns } from '../../core/pipeline/pipeline.ts';
import { PIPELINE_STEPS, PIPELINE_TASK } from '../../core/pipeline/steps.ts';
import { ANY_USER, principal } from '../auth.ts';
import { badRequest, notFound } from '../errors.ts';

export async function pipelineRoutes(app: FastifyInstance): Promise<void> {
  const db = app.deps.store.db;
  app.get(
    '/api/pipeline/runs',
    { config: { roles: ANY_USER }, schema: { tags: ['pipeline'], summary: 'Recent pipeline runs with their steps', querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })) }) } },
    async (req) => {
      const { limit } = req.query as { limit?: number };
      return { runs: await listRuns(db, principal(req).workspaceId, limit ?? 20) };
    },
  );
  app.get(
    '/api/pipeline/runs/:id',
    { config: { roles: ANY_USER }, schema: { tags: ['pipeline'], params: Type.Object({ id: Type.Integer() }) } },
    async (req) => {
      const { id } = req.params as { id: number };
      const run = await db.selectFrom('pipeline_runs').selectAll().where('id', '=', id).where('workspace_id', '=', principal(req).workspaceId).executeTakeFirst();
      if (!run) throw notFound(`pipeline run ${id}`);
      return run;
    },
  );
  app.post(
    '/api/pipeline/runs',
    {
      config: { roles: ['admin', 'operator', 'analyst'] },
      schema: {
        tags: ['pipeline'],
        summary: 'Queue a pipeline run now',
        body: Type.Object({
          mode: Type.Optional(Type.Union([Type.Literal('full'), Type.Literal('incremental')])),
          only: Type.Optional(Type.Array(Type.String())),
        }),
      },
    },
    async (req, reply) => {
      const body = (req.body ?? {}) as { mode?: string; only?: string[] };
      const unknown = (body.only ?? []).filter((n) => !PIPELINE_STEPS.some((s) => s.name === n));
      if (unknown.length) throw badRequest(`unknown step ${unknown.join(', ')}`, 'only');
      const jobId = await enqueue(db, { workspaceId: principal(req).workspaceId, task: PIPELINE_TASK, payload: body, maxAttempts: 1 });
      return reply.status(202).send({ jobId });
    },
  );
  app.get(
    '/api/jobs',
    { config: { roles: ANY_USER }, schema: { tags: ['pipeline'], summary: 'Recent jobs with status and progress', querystring: Type.Object({ task: Type.Optional(Type.String()) }) } },
    async (req) => {
      const { task } = req.query as { task?: string };
      return { jobs: await listJobs(db, principal(req).workspaceId, task ? { task } : {}) };
    },
  );
}

// The churn model registry over HTTP: list, one model's metrics (lift,
// calibration, importance, tree rules), activate (audited) and train (a job).
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { recordAudit } from '../../core/audit/audit.service.ts';
import { MODEL_TRAIN_TASK } from '../../core/churn/churn.job.ts';
import { FEATURES } from '../../core/churn/features.ts';
import { getModel, listModels, setActive } from '../../core/churn/registry.repository.ts';
import { enqueue } from '../../core/jobs/queue.ts';
import { MODEL_KINDS } from '../../core/ml/select.ts';
import { ANY_USER, principal, type Role } from '../auth.ts';
import { notFound } from '../errors.ts';

const TRAIN: Role[] = ['admin', 'analyst'];
const Params = Type.Object({ id: Type.Integer({ minimum: 1 }) });

export async function modelsRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const db = () => app.deps.store.db;

  app.get(
    '/api/models',
    { config: { roles: ANY_USER }, schema: { tags: ['churn'], summary: 'Churn models in the registry, newest first, with their headline metrics' } },
    async (req) => {
      const rows = await listModels(db(), principal(req).workspaceId);
      return {
        models: rows.map(({ metrics, ...m }) => {
          const x = metrics as { selected?: Record<string, unknown>; baselines?: unknown[]; beatsBaselines?: boolean; testCutoff?: string };
          return { ...m, id: Number(m.id), selected: x.selected ?? null, baselines: x.baselines ?? [], beats_baselines: x.beatsBaselines ?? null, test_cutoff: x.testCutoff ?? null };
        }),
      };
    },
  );

  app.get(
    '/api/models/:id',
    {
      config: { roles: ANY_USER },
      schema: {
        tags: ['churn'],
        summary: 'One churn model: metrics of every candidate and baseline, lift and calibration tables, feature importance, tree rules',
        params: Params,
        querystring: Type.Object({ lang: Type.Optional(Type.Union([Type.Literal('en'), Type.Literal('zh-CN')])) }),
      },
    },
    async (req) => {
      const m = await getModel(db(), principal(req).workspaceId, req.params.id);
      if (!m) throw notFound(`model ${req.params.id}`);
      const lang = req.query.lang ?? 'zh-CN';
      const { model: _model, metrics, ...rest } = m;
      const mt = metrics as Record<string, unknown> & { rules?: Record<string, unknown> | null };
      const { rules, ...others } = mt;
      return {
        ...rest,
        id: Number(m.id),
        metrics: others,
        rules: rules?.[lang] ?? null,
        features: FEATURES.map((f) => ({ key: f.key, unit: f.unit, description: lang === 'zh-CN' ? f.zh : f.en })),
      };
    },
  );

  app.post(
    '/api/models/:id/activate',
    { config: { roles: TRAIN }, schema: { tags: ['churn'], summary: 'Make a model the active churn model (audited); the next scoring uses it', params: Params } },
    async (req) => {
      const p = principal(req);
      const m = await getModel(db(), p.workspaceId, req.params.id);
      if (!m) throw notFound(`model ${req.params.id}`);
      await db().transaction().execute(async (trx) => {
        const before = await setActive(trx, p.workspaceId, req.params.id);
        await recordAudit(trx, { workspaceId: p.workspaceId, actor: p.actor, action: 'activate', entity: 'model', entityId: String(req.params.id), before: { active: before }, after: { active: req.params.id } });
      });
      return { id: req.params.id, version: m.version, active: true };
    },
  );

  app.post(
    '/api/models/train',
    {
      config: { roles: TRAIN },
      schema: {
        tags: ['churn'],
        summary: "Queue a churn training on the store (job 'model.train'); follow it under /api/jobs",
        body: Type.Object(
          {
            algorithms: Type.Optional(Type.Array(Type.Union(MODEL_KINDS.map((k) => Type.Literal(k))), { minItems: 1 })),
            cutoffs: Type.Optional(Type.Integer({ minimum: 2, maximum: 60 })),
            horizon_days: Type.Optional(Type.Integer({ minimum: 7, maximum: 730 })),
            activate: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (req, reply) => {
      const p = principal(req);
      const b = req.body ?? {};
      const jobId = await enqueue(db(), {
        workspaceId: p.workspaceId,
        task: MODEL_TRAIN_TASK,
        payload: { algorithms: b.algorithms, cutoffs: b.cutoffs, horizonDays: b.horizon_days, activate: b.activate, actor: p.actor },
        maxAttempts: 1,
      });
      return reply.status(202).send({ jobId });
    },
  );
}

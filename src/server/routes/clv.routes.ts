// Customer lifetime value, backtest and behavioural clusters over HTTP (SPEC §3):
// every signed-in user reads. The figures come from the pipeline's clv and
// clusters steps (docs/models-clv.md, docs/clusters.md).
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { customerExists } from '../../core/customers/customers.service.ts';
import { clvOverview, customerClv, latestFit } from '../../core/predictions/clv.repository.ts';
import { customerCluster, latestClusters } from '../../core/predictions/clusters.ts';
import { ANY_USER, principal } from '../auth.ts';
import { notFound } from '../errors.ts';

const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });

export async function clvRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const db = () => app.deps.store.db;

  app.get(
    '/api/clv/backtest',
    {
      config: { roles: ANY_USER },
      schema: { tags: ['clv'], summary: 'The latest fit and its holdout backtest: predicted vs actual purchases by calibration frequency, totals, MAE, ROC-AUC of P(alive) against demo truth' },
    },
    async (req) => {
      const p = principal(req);
      const fit = await latestFit(db(), p.workspaceId);
      if (!fit) throw notFound('a CLV fit (run the pipeline first)');
      return {
        fit: { id: fit.id, fitted_at: fit.fitted_at, as_of: fit.as_of, model: fit.model, params: fit.params, spend_params: fit.spend_params, log_likelihood: fit.log_likelihood, customers: fit.customers, settings: fit.settings, warnings: fit.warnings },
        backtest: fit.backtest,
      };
    },
  );

  app.get(
    '/api/clv/summary',
    {
      config: { roles: ANY_USER },
      schema: {
        tags: ['clv'],
        summary: 'Distribution of predicted 12-month CLV, P(alive) histogram and the top customers',
        querystring: Type.Object({ top: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 10 })) }),
      },
    },
    async (req) => {
      const p = principal(req);
      const fit = await latestFit(db(), p.workspaceId);
      return { as_of: fit?.as_of ?? null, model: fit?.model ?? null, ...(await clvOverview(db(), p.workspaceId, req.query.top ?? 10)) };
    },
  );

  app.get(
    '/api/customers/:id/clv',
    {
      config: { roles: ANY_USER },
      schema: { tags: ['clv', 'customers'], summary: "A customer's P(alive), expected purchases and spend, predicted and historical CLV, and behavioural cluster", params: Params },
    },
    async (req) => {
      const p = principal(req);
      if (!(await customerExists(db(), p.workspaceId, req.params.id))) throw notFound(`customer ${req.params.id}`);
      const [clv, cluster] = await Promise.all([customerClv(db(), p.workspaceId, req.params.id), customerCluster(db(), p.workspaceId, req.params.id)]);
      return { customer_id: req.params.id, clv: clv ? { ...clv, workspace_id: undefined } : null, cluster };
    },
  );

  app.get(
    '/api/customers/:id/cluster',
    {
      config: { roles: ANY_USER },
      schema: { tags: ['clusters', 'customers'], summary: "A customer's behavioural cluster with its label", params: Params },
    },
    async (req) => {
      const p = principal(req);
      if (!(await customerExists(db(), p.workspaceId, req.params.id))) throw notFound(`customer ${req.params.id}`);
      return { customer_id: req.params.id, cluster: await customerCluster(db(), p.workspaceId, req.params.id) };
    },
  );

  app.get(
    '/api/clusters',
    {
      config: { roles: ANY_USER },
      schema: { tags: ['clusters'], summary: 'The latest behavioural clustering: k, silhouette, and each cluster’s size and profile (en, zh-CN)' },
    },
    async (req) => {
      const p = principal(req);
      const c = await latestClusters(db(), p.workspaceId);
      if (!c) return { run_at: null, as_of: null, k: 0, silhouette: null, customers: 0, silhouettes: [], profiles: [] };
      const model = c.model as { silhouettes?: { k: number; silhouette: number }[]; sample?: number };
      return { run_at: c.run_at, as_of: c.as_of, k: c.k, silhouette: c.silhouette, customers: c.customers, silhouettes: model.silhouettes ?? [], sample: model.sample ?? null, profiles: c.profiles };
    },
  );
}

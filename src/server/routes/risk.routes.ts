// Churn risk over HTTP: the Risk list (with CSV/XLSX export) and one customer's
// risk with drivers as sentences in the caller's language and the scorecard breakdown.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import Type from 'typebox';
import { type Driver, type Lang, sentences } from '../../core/churn/explain.ts';
import { loadFeatures } from '../../core/churn/features.ts';
import { activeModel, type StoredModel } from '../../core/churn/registry.repository.ts';
import { customerScore, hasClvTable, RISK_SORTS, type RiskFilter, type RiskRow, type RiskSort, riskPage } from '../../core/churn/risk.repository.ts';
import { INDICATOR_BY_KEY } from '../../core/churn/scorecard.ts';
import { scoreWithModel } from '../../core/churn/scoring.ts';
import { loadChurnContext } from '../../core/churn/settings.ts';
import { customerExists } from '../../core/customers/customers.service.ts';
import { maskRecord } from '../../core/privacy/mask.ts';
import type { Database } from '../../db/schema.ts';
import { ANY_USER, principal, type Role } from '../auth.ts';
import { notFound } from '../errors.ts';
import { sendTable } from '../tabular.ts';

const Tier = Type.Union([Type.Literal('high'), Type.Literal('medium'), Type.Literal('low')]);
const LangSchema = Type.Optional(Type.Union([Type.Literal('en'), Type.Literal('zh-CN')], { description: 'language of the driver sentences (default: from Accept-Language, else zh-CN)' }));
const Filters = {
  tier: Type.Optional(Tier),
  owner: Type.Optional(Type.String({ maxLength: 200 })),
  min_probability: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  sort: Type.Union(RISK_SORTS.map((s) => Type.Literal(s)), { default: 'probability' }),
  lang: LangSchema,
};

function langOf(req: FastifyRequest, q: { lang?: string }): Lang {
  if (q.lang === 'en' || q.lang === 'zh-CN') return q.lang;
  const h = String(req.headers['accept-language'] ?? '');
  if (/^\s*en/i.test(h)) return 'en';
  return 'zh-CN';
}

function item(r: RiskRow, role: Role, lang: Lang, withClv: boolean) {
  const m = maskRecord({ phone: r.phone, email: r.email }, role);
  return {
    customer_id: r.customer_id,
    name: r.name,
    phone: m.phone,
    email: m.email,
    owner: r.owner,
    probability: r.probability,
    tier: r.risk_tier,
    drivers: sentences(r.drivers as Driver[] | null, lang),
    scorecard_points: r.scorecard_points,
    scorecard_level: r.scorecard_level,
    ...(withClv ? { clv_at_stake: r.clv_12m } : {}),
    scored_at: r.scored_at,
  };
}

/**
 * Drivers are stored for the likeliest churners only (settings.churn.explainTop); for the rest of a
 * page they are computed now from the features as of the score's time, with the model that scored them.
 */
async function fillDrivers(db: Kysely<Database>, workspaceId: number, rows: RiskRow[]): Promise<RiskRow[]> {
  const missing = rows.filter((r) => r.drivers === null && r.probability !== null);
  if (missing.length === 0) return rows;
  const active = await activeModel(db, workspaceId);
  if (!active) return rows;
  const ctx = await loadChurnContext(db, workspaceId);
  const filled = new Map<string, Driver[] | null>();
  const byTime = new Map<number, string[]>();
  for (const r of missing) byTime.set(r.scored_at.getTime(), [...(byTime.get(r.scored_at.getTime()) ?? []), r.customer_id]);
  for (const [at, ids] of byTime) {
    const f = await loadFeatures(db, { workspaceId, cutoff: new Date(at), analytics: ctx.analytics, ids });
    const s = scoreWithModel(active.model as StoredModel, f.x, f.x.rows, ctx.churn.drivers);
    for (let i = 0; i < f.ids.length; i++) filled.set(f.ids[i]!, s.drivers[i] ?? null);
  }
  return rows.map((r) => (filled.has(r.customer_id) ? { ...r, drivers: filled.get(r.customer_id) } : r));
}

export async function riskRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const db = () => app.deps.store.db;
  const filterOf = (q: { tier?: RiskFilter['tier']; owner?: string; min_probability?: number }): RiskFilter => ({
    ...(q.tier ? { tier: q.tier } : {}),
    ...(q.owner ? { owner: q.owner } : {}),
    ...(q.min_probability !== undefined ? { minProbability: q.min_probability } : {}),
  });

  app.get(
    '/api/risk',
    {
      config: { roles: ANY_USER },
      schema: {
        tags: ['churn'],
        summary: 'The Risk list: customers by churn probability with tier, top drivers in words, scorecard and CLV at stake',
        querystring: Type.Object({ ...Filters, page: Type.Integer({ minimum: 1, maximum: 100_000, default: 1 }), page_size: Type.Integer({ minimum: 1, maximum: 500, default: 50 }) }),
      },
    },
    async (req) => {
      const p = principal(req);
      const q = req.query;
      const withClv = await hasClvTable(db());
      const lang = langOf(req, q);
      const r = await riskPage(db(), p.workspaceId, filterOf(q), q.sort as RiskSort, q.page_size, (q.page - 1) * q.page_size, withClv);
      const rows = await fillDrivers(db(), p.workspaceId, r.rows);
      return { total: r.total, page: q.page, page_size: q.page_size, lang, items: rows.map((x) => item(x, p.role, lang, withClv)) };
    },
  );

  app.get(
    '/api/risk/export',
    {
      config: { roles: ANY_USER },
      schema: {
        tags: ['churn'],
        summary: 'The filtered Risk list as a CSV or XLSX download (contact data masked for agent and viewer)',
        querystring: Type.Object({ ...Filters, format: Type.Union([Type.Literal('csv'), Type.Literal('xlsx')], { default: 'csv' }) }),
      },
    },
    async (req, reply) => {
      const p = principal(req);
      const q = req.query;
      const withClv = await hasClvTable(db());
      const lang = langOf(req, q);
      const f = filterOf(q);
      async function* rows() {
        const size = 5000;
        for (let offset = 0; ; offset += size) {
          const r = await riskPage(db(), p.workspaceId, f, q.sort as RiskSort, size, offset, withClv);
          for (const x of r.rows) yield item(x, p.role, lang, withClv);
          if (r.rows.length < size) return;
        }
      }
      const cols = ['customer_id', 'name', 'phone', 'email', 'owner', 'probability', 'tier', 'scorecard_points', 'scorecard_level', ...(withClv ? ['clv_at_stake'] : [])];
      return sendTable(
        reply,
        q.format,
        'churn-risk',
        [
          ...cols.map((c) => ({ header: c, value: (r: Record<string, unknown>) => r[c] })),
          { header: 'drivers', value: (r: Record<string, unknown>) => (r.drivers as string[]).join('; ') },
        ],
        rows() as AsyncIterable<Record<string, unknown>>,
      );
    },
  );

  app.get(
    '/api/customers/:id/risk',
    {
      config: { roles: ANY_USER },
      schema: {
        tags: ['churn'],
        summary: "One customer's churn risk: probability, tier, drivers (direction, size, words) and the scorecard breakdown",
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) }),
        querystring: Type.Object({ lang: LangSchema }),
      },
    },
    async (req) => {
      const p = principal(req);
      const id = req.params.id;
      const lang = langOf(req, req.query);
      if (!(await customerExists(db(), p.workspaceId, id))) throw notFound(`customer ${id}`);
      const s = await customerScore(db(), p.workspaceId, id);
      if (!s) {
        return { customer_id: id, scored: false, message: lang === 'zh-CN' ? '尚无流失评分：客户还没有购买，或流失评分步骤尚未运行' : 'no churn score yet: the customer has not bought, or the churn_scoring step has not run' };
      }
      let drivers = s.drivers as Driver[] | null;
      const active = s.model_id !== null ? await activeModel(db(), p.workspaceId) : undefined;
      // Explanations are stored for the likeliest churners; anyone else's are computed now, as of the score's time.
      if (!drivers && active && Number(active.id) === Number(s.model_id)) {
        const ctx = await loadChurnContext(db(), p.workspaceId);
        const f = await loadFeatures(db(), { workspaceId: p.workspaceId, cutoff: s.scored_at, analytics: ctx.analytics, ids: [id] });
        if (f.ids.length === 1) drivers = scoreWithModel(active.model as StoredModel, f.x, 1, ctx.churn.drivers).drivers[0] ?? null;
      }
      const bd = (s.scorecard_breakdown as { indicator: string; points: number; value: number | null }[]).map((b) => {
        const def = INDICATOR_BY_KEY.get(b.indicator);
        return { ...b, text: def ? (lang === 'zh-CN' ? def.zh : def.en) : b.indicator };
      });
      return {
        customer_id: id,
        scored: true,
        scored_at: s.scored_at,
        model_id: s.model_id === null ? null : Number(s.model_id),
        probability: s.probability,
        tier: s.risk_tier,
        tier_source: s.model_id === null ? 'scorecard' : 'model',
        drivers: (drivers ?? []).map((d, i) => ({ ...d, text: sentences([d], lang)[0] ?? '', rank: i + 1 })),
        scorecard: { points: s.scorecard_points, level: s.scorecard_level, indicators: bd },
      };
    },
  );
}

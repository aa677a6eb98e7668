import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { DEFAULT_SCORECARD, INDICATOR_BY_KEY, InvalidScorecardError, type ScorecardConfig } from '../../core/churn/scorecard.ts';
import { type ChurnSettings, DEFAULT_CHURN, InvalidChurnSettingsError } from '../../core/churn/settings.ts';
import { getChurnSettings, getScorecard, saveChurnSettings, saveScorecard } from '../../core/churn/settings.service.ts';
import { DEFAULT_PREDICTIONS, InvalidPredictionSettingsError, loadPredictionSettings, type PredictionSettings, saveClvSettings } from '../../core/predictions/settings.ts';
import { getWorkspace, SettingsError, updateWorkspace } from '../../core/settings/settings.service.ts';
import { ANY_USER, principal, type Role } from '../auth.ts';
import { badRequest } from '../errors.ts';
import { LocaleSchema, WorkspaceSchema } from '../schemas.ts';

/** Who may change how churn is defined, tiered and scored: those who train the models. */
const CHURN_EDITORS: Role[] = ['admin', 'analyst'];

// The churn settings on the wire (snake_case, like the rest of the API).
const ChurnSettingsBody = Type.Object(
  {
    horizon_days: Type.Integer({ minimum: 7, maximum: 730, description: 'churned = no purchase (or no activity) within this many days after a cut-off' }),
    basis: Type.Union([Type.Literal('purchase'), Type.Literal('activity')]),
    thresholds: Type.Object(
      { high: Type.Number({ exclusiveMinimum: 0, maximum: 1 }), medium: Type.Number({ exclusiveMinimum: 0, maximum: 1 }) },
      { additionalProperties: false, description: 'risk tiers by probability: high ≥ high, medium ≥ medium' },
    ),
    capacity: Type.Union([Type.Integer({ minimum: 0, maximum: 10_000_000 }), Type.Null()], { description: 'when set, this many likeliest churners are high, whatever their probability' }),
    cutoffs: Type.Integer({ minimum: 2, maximum: 60, description: 'cut-offs stacked for training' }),
    cutoff_step_days: Type.Integer({ minimum: 1, maximum: 365 }),
    explain_top: Type.Integer({ minimum: 0, maximum: 1_000_000, description: 'drivers stored for this many likeliest churners per scoring; others on demand' }),
    drivers: Type.Integer({ minimum: 1, maximum: 10, description: 'drivers kept per customer' }),
  },
  { additionalProperties: false },
);
const ChurnSettingsOut = Type.Intersect([ChurnSettingsBody, Type.Object({ defaults: ChurnSettingsBody })]);
type ChurnWire = Type.Static<typeof ChurnSettingsBody>;

const wire = (c: ChurnSettings): ChurnWire => ({
  horizon_days: c.horizonDays,
  basis: c.basis,
  thresholds: { ...c.thresholds },
  capacity: c.capacity,
  cutoffs: c.cutoffs,
  cutoff_step_days: c.cutoffStepDays,
  explain_top: c.explainTop,
  drivers: c.drivers,
});
const fromWire = (w: ChurnWire): ChurnSettings => ({
  horizonDays: w.horizon_days,
  basis: w.basis,
  thresholds: { ...w.thresholds },
  capacity: w.capacity,
  cutoffs: w.cutoffs,
  cutoffStepDays: w.cutoff_step_days,
  explainTop: w.explain_top,
  drivers: w.drivers,
});
const WIRE_FIELD: Record<string, string> = { horizonDays: 'horizon_days', cutoffStepDays: 'cutoff_step_days', explainTop: 'explain_top' };

const ClvBody = Type.Object(
  {
    model: Type.Union([Type.Literal('bgnbd'), Type.Literal('pareto-nbd')]),
    margin: Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'share of revenue kept as profit; 1 = CLV in revenue' }),
    monthly_discount_rate: Type.Number({ minimum: 0, exclusiveMaximum: 1 }),
    holdout_weeks: Type.Integer({ minimum: 1, maximum: 104, description: 'weeks held out at the end for the backtest' }),
  },
  { additionalProperties: false },
);
const ClvOut = Type.Intersect([ClvBody, Type.Object({ defaults: ClvBody })]);
const clvWire = (c: PredictionSettings['clv']) => ({ model: c.model, margin: c.margin, monthly_discount_rate: c.monthlyDiscountRate, holdout_weeks: c.holdoutWeeks });
const CLV_FIELD: Record<string, string> = { 'clv.monthlyDiscountRate': 'monthly_discount_rate', 'clv.holdoutWeeks': 'holdout_weeks', 'clv.margin': 'margin', 'clv.model': 'model' };

/**
 * Runs a settings change; the services' validation errors become a 400 that
 * names the field as the API spells it (`wireName` maps the services' names).
 */
async function validated<T>(change: () => Promise<T>, wireName: Record<string, string> = {}): Promise<T> {
  try {
    return await change();
  } catch (e) {
    if (
      e instanceof SettingsError ||
      e instanceof InvalidChurnSettingsError ||
      e instanceof InvalidScorecardError ||
      e instanceof InvalidPredictionSettingsError
    ) {
      throw badRequest(e.message, e.field ? (wireName[e.field] ?? e.field) : undefined, 'invalid');
    }
    throw e;
  }
}

const Levels = Type.Object({ high: Type.Integer({ minimum: 1, maximum: 100 }), medium: Type.Integer({ minimum: 1, maximum: 100 }) }, { additionalProperties: false });
const IndicatorBody = Type.Object(
  { key: Type.String({ minLength: 1, maxLength: 64 }), points: Type.Integer({ minimum: 0, maximum: 100 }), threshold: Type.Number(), enabled: Type.Boolean() },
  { additionalProperties: false },
);
const ScorecardBody = Type.Object(
  { indicators: Type.Optional(Type.Array(IndicatorBody, { maxItems: 200 })), levels: Type.Optional(Levels) },
  { additionalProperties: false },
);

function scorecardOut(c: ScorecardConfig) {
  const defaults = new Map(DEFAULT_SCORECARD.indicators.map((i) => [i.key, i]));
  return {
    levels: c.levels,
    default_levels: DEFAULT_SCORECARD.levels,
    indicators: c.indicators.map((i) => {
      const def = INDICATOR_BY_KEY.get(i.key)!;
      const d = defaults.get(i.key)!;
      return { ...i, text: { en: def.en, 'zh-CN': def.zh }, feature: def.value, default_points: d.points, default_threshold: d.threshold };
    }),
  };
}

export async function settingsRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/settings/workspace',
    { config: { roles: ANY_USER }, schema: { tags: ['settings'], summary: 'Workspace settings', response: { 200: WorkspaceSchema } } },
    async (req) => getWorkspace(app.deps.store.db, principal(req).workspaceId),
  );
  app.put(
    '/api/settings/workspace',
    {
      config: { roles: ['admin'] },
      schema: {
        tags: ['settings'],
        summary: 'Change name, time zone (IANA), currency (ISO 4217) and locale',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 200 }),
            time_zone: Type.String({ minLength: 1, maxLength: 64 }),
            currency: Type.String({ minLength: 3, maxLength: 3 }),
            locale: LocaleSchema,
          },
          { additionalProperties: false },
        ),
        response: { 200: WorkspaceSchema },
      },
    },
    async (req) => {
      const p = principal(req);
      return validated(() => updateWorkspace(app.deps.store.db, p.workspaceId, req.body, { actor: p.actor, now: app.deps.now() }));
    },
  );

  app.get(
    '/api/settings/churn',
    { config: { roles: ANY_USER }, schema: { tags: ['settings', 'churn'], summary: 'Churn settings: horizon, basis, tier thresholds or capacity, cut-offs, explanations (with the defaults)', response: { 200: ChurnSettingsOut } } },
    async (req) => ({ ...wire(await getChurnSettings(app.deps.store.db, principal(req).workspaceId)), defaults: wire(DEFAULT_CHURN) }),
  );
  app.put(
    '/api/settings/churn',
    {
      config: { roles: CHURN_EDITORS },
      schema: {
        tags: ['settings', 'churn'],
        summary: 'Change the churn settings (audited); tiers follow at the next scoring, the label and cut-offs at the next training',
        body: ChurnSettingsBody,
        response: { 200: ChurnSettingsOut },
      },
    },
    async (req) => {
      const p = principal(req);
      const saved = await validated(
        () => saveChurnSettings(app.deps.store.db, p.workspaceId, fromWire(req.body), { actor: p.actor, now: app.deps.now() }),
        WIRE_FIELD,
      );
      return { ...wire(saved), defaults: wire(DEFAULT_CHURN) };
    },
  );
  app.get(
    '/api/settings/scorecard',
    { config: { roles: ANY_USER }, schema: { tags: ['settings', 'churn'], summary: 'The early-warning scorecard: each indicator with its words, points, threshold and switch; the levels' } },
    async (req) => scorecardOut(await getScorecard(app.deps.store.db, principal(req).workspaceId)),
  );
  app.put(
    '/api/settings/scorecard',
    {
      config: { roles: CHURN_EDITORS },
      schema: {
        tags: ['settings', 'churn'],
        summary: 'Change scorecard indicators (by key; others stay as they are) and levels (audited); used from the next scoring',
        body: ScorecardBody,
      },
    },
    async (req) => {
      const p = principal(req);
      return scorecardOut(await validated(() => saveScorecard(app.deps.store.db, p.workspaceId, req.body, { actor: p.actor, now: app.deps.now() })));
    },
  );

  app.get(
    '/api/settings/clv',
    { config: { roles: ANY_USER }, schema: { tags: ['settings', 'clv'], summary: 'CLV settings: purchase model, margin, monthly discount rate, backtest holdout (with the defaults)', response: { 200: ClvOut } } },
    async (req) => ({ ...clvWire((await loadPredictionSettings(app.deps.store.db, principal(req).workspaceId)).clv), defaults: clvWire(DEFAULT_PREDICTIONS.clv) }),
  );
  app.put(
    '/api/settings/clv',
    {
      config: { roles: CHURN_EDITORS },
      schema: { tags: ['settings', 'clv'], summary: 'Change the CLV settings (audited); used from the next clv step', body: ClvBody, response: { 200: ClvOut } },
    },
    async (req) => {
      const p = principal(req);
      const b = req.body;
      const clv = { model: b.model, margin: b.margin, monthlyDiscountRate: b.monthly_discount_rate, holdoutWeeks: b.holdout_weeks };
      const saved = await validated(() => saveClvSettings(app.deps.store.db, p.workspaceId, clv, { actor: p.actor, now: app.deps.now() }), CLV_FIELD);
      return { ...clvWire(saved), defaults: clvWire(DEFAULT_PREDICTIONS.clv) };
    },
  );
}

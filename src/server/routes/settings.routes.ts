import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type, { type Static } from 'typebox';
import { DEFAULT_SCORECARD, INDICATOR_BY_KEY, InvalidScorecardError, type ScorecardConfig } from '../../core/churn/scorecard.ts';
import { type ChurnSettings, DEFAULT_CHURN, InvalidChurnSettingsError } from '../../core/churn/settings.ts';
import { getChurnSettings, getScorecard, saveChurnSettings, saveScorecard } from '../../core/churn/settings.service.ts';
import {
  DEFAULT_PREDICTIONS,
  InvalidPredictionSettingsError,
  loadPredictionSettings,
  type PredictionSettings,
  saveClvSettings,
  savePredictionSection,
} from '../../core/predictions/settings.ts';
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

// Next-best product and clustering settings travel snake_case; the services use camelCase.
const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const camel = (k: string) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
const toWire = (o: object) => Object.fromEntries(Object.entries(o).map(([k, v]) => [snake(k), v]));
const fromWireKeys = <T>(o: object) => Object.fromEntries(Object.entries(o).map(([k, v]) => [camel(k), v])) as T;
/** The services name a field `section.key`; the API names it `key` in snake_case. */
const sectionFields = (section: string, keys: readonly string[]) => Object.fromEntries(keys.map((k) => [`${section}.${k}`, snake(k)]));

const NextProductsBody = Type.Object(
  {
    max_lag_days: Type.Integer({ minimum: 1, maximum: 3650, description: 'a sequence A → B counts when B is bought 1..max_lag_days after A' }),
    min_customers: Type.Integer({ minimum: 1, description: 'patterns seen for fewer customers (or orders) are dropped' }),
    min_lift: Type.Number({ minimum: 0, maximum: 1000, description: 'sequence and co-purchase picks need at least this lift' }),
    min_repeat_buyers: Type.Integer({ minimum: 1, description: 'a repurchase product has at least this many repeat buyers' }),
    min_repeat_share: Type.Number({ minimum: 0, maximum: 1, description: '… who are at least this share of its buyers' }),
    due_factor: Type.Number({ minimum: 0.01, maximum: 10, description: 'due when days since the last purchase reach this share of the median interval' }),
    recent_days: Type.Integer({ minimum: 0, maximum: 3650, description: 'products bought within this many days are not recommended again (unless due)' }),
    per_customer: Type.Integer({ minimum: 1, maximum: 20, description: 'recommendations per customer' }),
  },
  { additionalProperties: false },
);
const NextProductsOut = Type.Intersect([NextProductsBody, Type.Object({ defaults: NextProductsBody })]);
const ClustersBody = Type.Object(
  {
    k_min: Type.Integer({ minimum: 2, maximum: 12, description: 'the smallest k tried (k is chosen by silhouette)' }),
    k_max: Type.Integer({ minimum: 2, maximum: 12, description: 'the largest k tried' }),
    sample: Type.Integer({ minimum: 100, maximum: 1_000_000, description: 'rows the k-means is fitted on (a seeded sample); every customer is then assigned' }),
    every_days: Type.Integer({ minimum: 1, maximum: 365, description: 'days before a daily run clusters again (a full run always does)' }),
    seed: Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 }),
  },
  { additionalProperties: false },
);
const ClustersOut = Type.Intersect([ClustersBody, Type.Object({ defaults: ClustersBody })]);

/**
 * The services' message with their field names as the API spells them: both the
 * full name (`clusters.kMax`) and the bare key another field's message mentions
 * ("must be at least kMin"), so a message never names a field the client never sent.
 */
function inWireNames(message: string, wireName: Record<string, string>): string {
  let out = message;
  for (const [from, to] of Object.entries(wireName)) out = out.replaceAll(from, to);
  for (const [from, to] of Object.entries(wireName)) {
    const bare = from.slice(from.lastIndexOf('.') + 1);
    out = out.replace(new RegExp(`\\b${bare}\\b`, 'g'), to);
  }
  return out;
}

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
      throw badRequest(inWireNames(e.message, wireName), e.field ? (wireName[e.field] ?? e.field) : undefined, 'invalid');
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
  // Next-best product and clustering: the same shape twice (section, wire schema, audit id).
  const sections = [
    { path: '/api/settings/next-products', section: 'nextProducts', tag: 'products', body: NextProductsBody, out: NextProductsOut, what: 'Next-best product settings: sequence lag, support, lift, repurchase rules, picks per customer', when: 'used from the next recommendations step' },
    { path: '/api/settings/clusters', section: 'clusters', tag: 'clusters', body: ClustersBody, out: ClustersOut, what: 'Clustering settings: the range of k, the sample, how often', when: 'used from the next clusters step' },
  ] as const;
  for (const x of sections) {
    app.get(
      x.path,
      { config: { roles: ANY_USER }, schema: { tags: ['settings', x.tag], summary: `${x.what} (with the defaults)`, response: { 200: x.out } } },
      async (req) => ({ ...toWire((await loadPredictionSettings(app.deps.store.db, principal(req).workspaceId))[x.section]), defaults: toWire(DEFAULT_PREDICTIONS[x.section]) }) as Static<typeof x.out>,
    );
    app.put(
      x.path,
      { config: { roles: CHURN_EDITORS }, schema: { tags: ['settings', x.tag], summary: `Change the ${x.what.split(':')[0]!.toLowerCase()} (audited); ${x.when}`, body: x.body, response: { 200: x.out } } },
      async (req) => {
        const p = principal(req);
        const value = fromWireKeys<PredictionSettings[typeof x.section]>(req.body as object);
        const fields = sectionFields(x.section, Object.keys(DEFAULT_PREDICTIONS[x.section]));
        const saved = await validated(() => savePredictionSection(app.deps.store.db, p.workspaceId, x.section, value, { actor: p.actor, now: app.deps.now() }), fields);
        return { ...toWire(saved), defaults: toWire(DEFAULT_PREDICTIONS[x.section]) } as Static<typeof x.out>;
      },
    );
  }
}

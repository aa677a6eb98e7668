// Settings of the prediction steps, per workspace, in workspaces.settings.predictions;
// anything missing falls back to these defaults (docs/models-clv.md,
// docs/next-best-product.md, docs/clusters.md).
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { recordAudit } from '../audit/audit.service.ts';

export interface PredictionSettings {
  clv: {
    /** The purchase model: BG/NBD (default) or Pareto/NBD. */
    model: 'bgnbd' | 'pareto-nbd';
    /** Share of revenue kept as profit; 1 = CLV in revenue. */
    margin: number;
    /** Discount rate per month for the 12-month CLV. */
    monthlyDiscountRate: number;
    /** Weeks held out at the end for the stored backtest. */
    holdoutWeeks: number;
  };
  nextProducts: {
    /** A sequence A → B counts when B is bought 1..maxLagDays after A. */
    maxLagDays: number;
    /** Patterns seen for fewer customers (sequence) or orders (co-purchase) are dropped. */
    minCustomers: number;
    /** Sequence and co-purchase picks need at least this lift. */
    minLift: number;
    /** A product is a repurchase product with at least this many repeat buyers. */
    minRepeatBuyers: number;
    /** … who are at least this share of its buyers (consumables are bought again by most of their buyers). */
    minRepeatShare: number;
    /** Due when the days since the last purchase of it reach this share of the median interval. */
    dueFactor: number;
    /** Products bought within this many days are not recommended again (unless due). */
    recentDays: number;
    /** Recommendations per customer. */
    perCustomer: number;
  };
  clusters: {
    kMin: number;
    kMax: number;
    /** Rows the k-means is fitted on (a seeded sample); every customer is then assigned. */
    sample: number;
    /** Days before a daily run clusters again (a full run always does). */
    everyDays: number;
    seed: number;
  };
}

export const DEFAULT_PREDICTIONS: PredictionSettings = {
  clv: { model: 'bgnbd', margin: 1, monthlyDiscountRate: 0.01, holdoutWeeks: 26 },
  nextProducts: { maxLagDays: 365, minCustomers: 5, minLift: 1.2, minRepeatBuyers: 5, minRepeatShare: 0.5, dueFactor: 0.9, recentDays: 30, perCustomer: 3 },
  clusters: { kMin: 2, kMax: 8, sample: 20_000, everyDays: 7, seed: 1 },
};

type Partial2<T> = { [K in keyof T]?: Partial<T[K]> };

export class InvalidPredictionSettingsError extends Error {
  /** the setting at fault, e.g. clv.margin */
  readonly field: string | undefined;
  constructor(message: string, field?: string) {
    super(message);
    this.field = field;
  }
}

export function resolvePredictionSettings(stored: Partial2<PredictionSettings> | undefined): PredictionSettings {
  const s: PredictionSettings = {
    clv: { ...DEFAULT_PREDICTIONS.clv, ...stored?.clv },
    nextProducts: { ...DEFAULT_PREDICTIONS.nextProducts, ...stored?.nextProducts },
    clusters: { ...DEFAULT_PREDICTIONS.clusters, ...stored?.clusters },
  };
  const fail = (f: string, why: string) => {
    throw new InvalidPredictionSettingsError(`prediction setting ${f} ${why}`, f);
  };
  if (s.clv.model !== 'bgnbd' && s.clv.model !== 'pareto-nbd') fail('clv.model', 'must be bgnbd or pareto-nbd');
  if (!(s.clv.margin > 0 && s.clv.margin <= 1)) fail('clv.margin', 'must be above 0 and at most 1');
  if (!(s.clv.monthlyDiscountRate >= 0 && s.clv.monthlyDiscountRate < 1)) fail('clv.monthlyDiscountRate', 'must be from 0 to below 1');
  if (!(s.clv.holdoutWeeks >= 1 && s.clv.holdoutWeeks <= 104)) fail('clv.holdoutWeeks', 'must be 1 to 104');
  // Each bound names its field, so the API and the form can point at it.
  const within = (section: 'nextProducts' | 'clusters', key: string, v: number, min: number, max: number, int = true) => {
    if (!(typeof v === 'number' && v >= min && v <= max && (!int || Number.isInteger(v)))) {
      fail(`${section}.${key}`, `must be ${int ? 'a whole number ' : ''}from ${min} to ${max}`);
    }
  };
  const n = s.nextProducts;
  within('nextProducts', 'maxLagDays', n.maxLagDays, 1, 3650);
  within('nextProducts', 'minCustomers', n.minCustomers, 1, 1_000_000);
  within('nextProducts', 'minLift', n.minLift, 0, 1000, false);
  within('nextProducts', 'minRepeatBuyers', n.minRepeatBuyers, 1, 1_000_000);
  within('nextProducts', 'minRepeatShare', n.minRepeatShare, 0, 1, false);
  within('nextProducts', 'dueFactor', n.dueFactor, 0.01, 10, false);
  within('nextProducts', 'recentDays', n.recentDays, 0, 3650);
  within('nextProducts', 'perCustomer', n.perCustomer, 1, 20);
  const c = s.clusters;
  within('clusters', 'kMin', c.kMin, 2, 12);
  within('clusters', 'kMax', c.kMax, 2, 12);
  if (c.kMax < c.kMin) fail('clusters.kMax', 'must be at least kMin');
  within('clusters', 'sample', c.sample, 100, 1_000_000);
  within('clusters', 'everyDays', c.everyDays, 1, 365);
  within('clusters', 'seed', c.seed, 0, 2 ** 31 - 1);
  return s;
}

export async function loadPredictionSettings(db: Kysely<Database>, workspaceId: number): Promise<PredictionSettings> {
  const w = await db.selectFrom('workspaces').select('settings').where('id', '=', workspaceId).executeTakeFirstOrThrow();
  return resolvePredictionSettings((w.settings as { predictions?: Partial2<PredictionSettings> }).predictions);
}

/**
 * Replaces one section of the prediction settings (the others stay as they
 * are); validated as a whole, audited with the section's before and after.
 */
export async function savePredictionSection<K extends keyof PredictionSettings>(
  db: Kysely<Database>,
  workspaceId: number,
  section: K,
  value: PredictionSettings[K],
  ctx: { actor: string; now: Date },
): Promise<PredictionSettings[K]> {
  return db.transaction().execute(async (trx) => {
    const w = await trx.selectFrom('workspaces').select('settings').where('id', '=', workspaceId).forUpdate().executeTakeFirstOrThrow();
    const stored = ((w.settings ?? {}) as { predictions?: Partial2<PredictionSettings> }).predictions ?? {};
    const before = resolvePredictionSettings(stored);
    const next = resolvePredictionSettings({ ...stored, [section]: { ...value } });
    await trx
      .updateTable('workspaces')
      .set({ settings: sql`coalesce(settings, '{}'::jsonb) || jsonb_build_object('predictions', ${JSON.stringify({ ...stored, [section]: next[section] })}::jsonb)` as never })
      .where('id', '=', workspaceId)
      .execute();
    await recordAudit(trx, { workspaceId, actor: ctx.actor, action: 'update', entity: 'settings', entityId: AUDIT_ID[section], before: before[section], after: next[section], at: ctx.now });
    return next[section];
  });
}

const AUDIT_ID: Record<keyof PredictionSettings, string> = { clv: 'clv', nextProducts: 'next_products', clusters: 'clusters' };

/** Replaces the CLV settings (the rest of the prediction settings stay); validated, audited. */
export function saveClvSettings(db: Kysely<Database>, workspaceId: number, clv: PredictionSettings['clv'], ctx: { actor: string; now: Date }): Promise<PredictionSettings['clv']> {
  return savePredictionSection(db, workspaceId, 'clv', clv, ctx);
}

// Churn settings per workspace, stored in workspaces.settings.churn (and the
// scorecard in workspaces.settings.scorecard_config); anything missing takes
// the defaults below. See docs/churn.md.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { type AnalyticsSettings, loadAnalyticsSettings } from '../analytics/settings.ts';
import { DEFAULT_SCORECARD, resolveScorecard, type ScorecardConfig } from './scorecard.ts';

export interface ChurnSettings {
  /** Churned = no purchase (or, with basis 'activity', no purchase and no event) within this many days after the cut-off. */
  horizonDays: number;
  basis: 'purchase' | 'activity';
  /** Risk tiers by probability: high ≥ high, medium ≥ medium. */
  thresholds: { high: number; medium: number };
  /** When set, the `capacity` most likely to churn are high (e.g. "the top 200 go to CSMs"), whatever their probability. */
  capacity: number | null;
  /** Cut-offs stacked for training (monthly, newest first) and the step between them in days. */
  cutoffs: number;
  cutoffStepDays: number;
  /** Per-customer explanations are computed for the most likely churners first, at most this many per run. */
  explainTop: number;
  /** Drivers kept per customer. */
  drivers: number;
}

export const DEFAULT_CHURN: ChurnSettings = {
  horizonDays: 90,
  basis: 'purchase',
  thresholds: { high: 0.5, medium: 0.25 },
  capacity: null,
  cutoffs: 12,
  cutoffStepDays: 30,
  explainTop: 2_000,
  drivers: 3,
};

export class InvalidChurnSettingsError extends Error {
  /** the setting at fault (camelCase, as stored) */
  readonly field: string | undefined;
  constructor(message: string, field?: string) {
    super(message);
    this.field = field;
  }
}

export function resolveChurnSettings(stored: Partial<ChurnSettings> | undefined): ChurnSettings {
  const s: ChurnSettings = { ...DEFAULT_CHURN, ...(stored ?? {}), thresholds: { ...DEFAULT_CHURN.thresholds, ...(stored?.thresholds ?? {}) } };
  const fail = (f: string, why: string) => {
    throw new InvalidChurnSettingsError(`churn setting ${f} ${why}`, f);
  };
  if (!Number.isInteger(s.horizonDays) || s.horizonDays < 7 || s.horizonDays > 730) fail('horizonDays', 'must be a whole number of days from 7 to 730');
  if (s.basis !== 'purchase' && s.basis !== 'activity') fail('basis', "must be 'purchase' or 'activity'");
  if (!(s.thresholds.high > s.thresholds.medium && s.thresholds.medium > 0 && s.thresholds.high <= 1)) fail('thresholds', 'must satisfy 0 < medium < high ≤ 1');
  if (s.capacity !== null && !(Number.isInteger(s.capacity) && s.capacity >= 0)) fail('capacity', 'must be a whole number or null');
  if (!Number.isInteger(s.cutoffs) || s.cutoffs < 2 || s.cutoffs > 60) fail('cutoffs', 'must be from 2 to 60');
  if (!Number.isInteger(s.cutoffStepDays) || s.cutoffStepDays < 1 || s.cutoffStepDays > 365) fail('cutoffStepDays', 'must be a whole number of days from 1 to 365');
  if (!Number.isInteger(s.explainTop) || s.explainTop < 0 || s.explainTop > 1_000_000) fail('explainTop', 'must be a whole number from 0 to 1,000,000');
  if (!Number.isInteger(s.drivers) || s.drivers < 1 || s.drivers > 10) fail('drivers', 'must be a whole number from 1 to 10');
  return s;
}

export interface ChurnContext {
  churn: ChurnSettings;
  scorecard: ScorecardConfig;
  analytics: AnalyticsSettings;
}

export async function loadChurnContext(db: Kysely<Database>, workspaceId: number): Promise<ChurnContext> {
  const w = await db.selectFrom('workspaces').select('settings').where('id', '=', workspaceId).executeTakeFirstOrThrow();
  const st = (w.settings ?? {}) as { churn?: Partial<ChurnSettings>; scorecard_config?: Partial<ScorecardConfig> };
  return {
    churn: resolveChurnSettings(st.churn),
    scorecard: resolveScorecard(st.scorecard_config ?? DEFAULT_SCORECARD),
    analytics: await loadAnalyticsSettings(db, workspaceId),
  };
}

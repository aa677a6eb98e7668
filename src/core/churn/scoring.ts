// Scoring every customer who has bought: the active model's calibrated churn
// probability, a risk tier (thresholds or capacity), the top drivers (exact
// TreeSHAP for trees, coefficient × deviation for logistic regression) and the
// early-warning scorecard beside it. Without an active model the tier comes
// from the scorecard. churn_scores is rewritten in one transaction.
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { calibrateAll } from '../ml/calibration.ts';
import { predictGbdtParallel } from '../ml/gbdt.ts';
import { type Matrix, takeRows } from '../ml/matrix.ts';
import { explain, type Inputs, predict } from '../ml/select.ts';
import { type Driver, topDrivers } from './explain.ts';
import { FEATURE_KEYS, type FeatureSet, loadFeatures } from './features.ts';
import { activeModel, type StoredModel } from './registry.repository.ts';
import { INDICATOR_BY_KEY, type Level, scorecardLevel, type ScorecardConfig } from './scorecard.ts';
import type { ChurnSettings } from './settings.ts';
import { loadChurnContext } from './settings.ts';
import { imputed } from './training.ts';

export interface ModelScores {
  probability: Float64Array;
  drivers: (Driver[] | null)[];
  explained: number;
}

/**
 * Probability and, for the `explainTop` most likely churners, the drivers.
 * `predicted`: the model's uncalibrated probabilities when already computed
 * (scoreAll scores boosting on several threads).
 */
export function scoreWithModel(stored: StoredModel, x: Matrix, explainTop: number, k = 3, predicted?: Float64Array): ModelScores {
  const inputs: Inputs = { raw: x, imputed: stored.algorithm === 'logistic' ? imputed(x, stored.medians) : x };
  const raw = predicted ?? predict(stored.model, inputs);
  const probability = stored.calibrator ? calibrateAll(stored.calibrator, raw) : raw;
  const n = Math.min(explainTop, x.rows);
  const order = n > 0 ? Uint32Array.from({ length: x.rows }, (_, i) => i).sort((a, b) => probability[b]! - probability[a]! || a - b) : new Uint32Array(0);
  const drivers: (Driver[] | null)[] = new Array(x.rows).fill(null);
  const CHUNK = 2000;
  for (let from = 0; from < n; from += CHUNK) {
    const idx = order.subarray(from, Math.min(n, from + CHUNK));
    const sub = { raw: takeRows(inputs.raw, idx), imputed: takeRows(inputs.imputed, idx) };
    const e = explain(stored.model, sub);
    for (let r = 0; r < idx.length; r++) {
      const p = x.cols;
      drivers[idx[r]!] = topDrivers(e.contributions.subarray(r * p, (r + 1) * p), sub.raw.data.subarray(r * p, (r + 1) * p), k);
    }
  }
  return { probability, drivers, explained: n };
}

/** Tiers by probability: the `capacity` highest are high when capacity is set, else by thresholds. */
export function riskTiers(p: Float64Array, s: Pick<ChurnSettings, 'thresholds' | 'capacity'>): Level[] {
  const tiers: Level[] = Array.from(p, (v) => (v >= s.thresholds.high ? 'high' : v >= s.thresholds.medium ? 'medium' : 'low'));
  if (s.capacity !== null) {
    const order = Uint32Array.from({ length: p.length }, (_, i) => i).sort((a, b) => p[b]! - p[a]! || a - b);
    for (let r = 0; r < order.length; r++) {
      const i = order[r]!;
      if (r < s.capacity) tiers[i] = 'high';
      else if (tiers[i] === 'high') tiers[i] = 'medium';
    }
  }
  return tiers;
}

export function scorecardBreakdown(c: ScorecardConfig, f: FeatureSet, i: number, hits: string[]) {
  const points = new Map(c.indicators.map((x) => [x.key, x.points]));
  return hits.map((k) => {
    const def = INDICATOR_BY_KEY.get(k)!;
    const j = FEATURE_KEYS.indexOf(def.value);
    const v = j >= 0 ? f.x.data[i * f.x.cols + j]! : f.membershipDaysLeft[i]!;
    return { indicator: k, points: points.get(k) ?? 0, value: Number.isNaN(v) ? null : Math.round(v * 100) / 100 };
  });
}

export interface ScoreResult {
  customers: number;
  modelId: number | null;
  modelVersion: number | null;
  tiers: Record<Level, number>;
  explained: number;
  message: string;
  seconds: { features: number; model: number; write: number };
}

export async function scoreAll(db: Kysely<Database>, workspaceId: number, now: Date): Promise<ScoreResult> {
  const ctx = await loadChurnContext(db, workspaceId);
  const active = await activeModel(db, workspaceId);
  const t0 = performance.now();
  const f = await loadFeatures(db, { workspaceId, cutoff: now, analytics: ctx.analytics, scorecard: ctx.scorecard, current: true });
  const t1 = performance.now();
  const n = f.ids.length;
  let probability: Float64Array | null = null;
  let drivers: (Driver[] | null)[] = new Array(n).fill(null);
  let explained = 0;
  if (active) {
    const stored = active.model as StoredModel;
    const names = active.features as string[];
    if (names.join(',') !== FEATURE_KEYS.join(',')) throw new Error(`the active model (version ${active.version}) was trained on other features than this version of Liuke computes: train a new one (liuke model train)`);
    const predicted = stored.model.type === 'gbdt' ? await predictGbdtParallel(stored.model, f.x) : undefined;
    const s = scoreWithModel(stored, f.x, ctx.churn.explainTop, ctx.churn.drivers, predicted);
    probability = s.probability;
    drivers = s.drivers;
    explained = s.explained;
  }
  const t2 = performance.now();
  const levels: Level[] = Array.from(f.scorecard!.points, (p) => scorecardLevel(ctx.scorecard, p));
  const tiers = probability ? riskTiers(probability, ctx.churn) : levels;
  const counts: Record<Level, number> = { high: 0, medium: 0, low: 0 };
  for (const t of tiers) counts[t]++;
  const modelId = active ? Number(active.id) : null;
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('churn_scores').where('workspace_id', '=', workspaceId).execute();
    const CHUNK = 5000;
    for (let from = 0; from < n; from += CHUNK) {
      const to = Math.min(n, from + CHUNK);
      const ids = f.ids.slice(from, to);
      const probs = probability ? Array.from(probability.subarray(from, to)) : ids.map(() => null);
      const drv = drivers.slice(from, to).map((d) => (d ? JSON.stringify(d) : null));
      const pts = Array.from(f.scorecard!.points.subarray(from, to));
      const bd = ids.map((_, r) => JSON.stringify(scorecardBreakdown(ctx.scorecard, f, from + r, f.scorecard!.hits[from + r]!)));
      await sql`
        insert into churn_scores (workspace_id, customer_id, model_id, scored_at, probability, risk_tier, drivers, scorecard_points, scorecard_level, scorecard_breakdown)
        select ${workspaceId}, u.id, ${modelId}::int8, ${now}::timestamptz, u.p, u.tier, u.drivers::jsonb, u.points, u.level, u.breakdown::jsonb
        from unnest(${ids}::text[], ${probs}::float8[], ${tiers.slice(from, to)}::text[], ${drv}::text[], ${pts}::int[], ${levels.slice(from, to)}::text[], ${bd}::text[])
          as u(id, p, tier, drivers, points, level, breakdown)`.execute(trx);
    }
  });
  const t3 = performance.now();
  const message = active
    ? `${n.toLocaleString('en')} customers scored with model version ${active.version} (${active.algorithm}); ${counts.high} high, ${counts.medium} medium, ${counts.low} low risk`
    : `no active churn model: risk tiers come from the early-warning scorecard for ${n.toLocaleString('en')} customers (train one with \`liuke model train\`)`;
  return {
    customers: n,
    modelId,
    modelVersion: active ? active.version : null,
    tiers: counts,
    explained,
    message,
    seconds: { features: (t1 - t0) / 1000, model: (t2 - t1) / 1000, write: (t3 - t2) / 1000 },
  };
}

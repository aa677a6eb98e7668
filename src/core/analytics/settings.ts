// Every threshold of the customer analytics, per workspace, with the defaults
// SPEC §2 names. Stored in workspaces.settings.analytics; anything missing
// falls back to the industry preset, then to these defaults.
import { type Kysely, sql } from 'kysely';
import { estimatedRows } from '../../db/planner.ts';
import type { Database } from '../../db/schema.ts';

export interface RfmWeights {
  r: number;
  f: number;
  m: number;
}

export interface AnalyticsSettings {
  rfm: {
    /** Months of history for frequency and monetary. */
    windowMonths: number;
    weights: RfmWeights;
    /** quintile: scores by percent rank among buyers; breakpoints: fixed thresholds below. */
    method: 'quintile' | 'breakpoints';
    /** Ascending thresholds for scores 2..5: recency in days (lower is better), frequency in orders, monetary in currency. */
    breakpoints: { recency: number[]; frequency: number[]; monetary: number[] };
  };
  /** Tier thresholds on the 0–100 RFM score: A ≥ a, B ≥ b, C > c, D otherwise. */
  tiers: { a: number; b: number; c: number };
  lifecycle: {
    newDays: number;
    growingDays: number;
    /** At risk after this many days without a purchase or any activity. */
    inactiveDays: number;
    /** At risk when the last 90 days' orders fall this much below the customer's own baseline. */
    frequencyDrop: number;
    /** Dormant after this many days without a purchase. */
    dormantDays: number;
    /** Churned after this many days without a purchase (the workspace's churn window: 30, 60 or 90). */
    churnDays: number;
  };
  /** Retention targets per tier for the retention evaluation (share retained over a period; D: win-back). */
  retentionTargets: Record<'A' | 'B' | 'C' | 'D', number>;
  /** KPI targets by KPI key (see kpis.ts for the keys and defaults). */
  kpiTargets: Record<string, number>;
  /** What counts as active: ≥ logins a week or ≥ core uses a month (SPEC §2). */
  activity: { loginsPerWeek: number; coreUsesPerMonth: number; coreEventTypes: string[] };
}

export const DEFAULT_ANALYTICS: AnalyticsSettings = {
  rfm: {
    windowMonths: 12,
    weights: { r: 0.35, f: 0.35, m: 0.3 },
    method: 'quintile',
    breakpoints: { recency: [180, 90, 60, 30], frequency: [2, 3, 5, 8], monetary: [500, 1000, 3000, 10000] },
  },
  tiers: { a: 80, b: 65, c: 50 },
  lifecycle: { newDays: 90, growingDays: 180, inactiveDays: 30, frequencyDrop: 0.3, dormantDays: 60, churnDays: 90 },
  retentionTargets: { A: 0.95, B: 0.85, C: 0.7, D: 0.2 },
  kpiTargets: {},
  activity: { loginsPerWeek: 1, coreUsesPerMonth: 3, coreEventTypes: ['feature_used', 'course_lesson_completed', 'visit'] },
};

/** High-ticket industries weigh monetary value more; visit-driven ones weigh frequency. */
export const INDUSTRY_WEIGHTS: Record<string, RfmWeights> = {
  retail: { r: 0.35, f: 0.35, m: 0.3 },
  restaurant: { r: 0.35, f: 0.45, m: 0.2 },
  fitness: { r: 0.4, f: 0.3, m: 0.3 },
  education: { r: 0.25, f: 0.2, m: 0.55 },
};

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };

function merge<T>(base: T, over: DeepPartial<T> | undefined): T {
  if (!over) return base;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over)) {
    const b = (base as Record<string, unknown>)[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' ? merge(b, v as never) : v;
  }
  return out as T;
}

export class InvalidSettingsError extends Error {}

export function resolveAnalyticsSettings(industry: string, stored: DeepPartial<AnalyticsSettings> | undefined): AnalyticsSettings {
  const preset = merge(DEFAULT_ANALYTICS, { rfm: { weights: INDUSTRY_WEIGHTS[industry] ?? DEFAULT_ANALYTICS.rfm.weights } });
  const s = merge(preset, stored);
  // A shorter churn window pulls the stages before it along unless they were set too.
  if (stored?.lifecycle?.churnDays !== undefined) {
    if (stored.lifecycle.dormantDays === undefined) s.lifecycle.dormantDays = Math.round((s.lifecycle.churnDays * 2) / 3);
    if (stored.lifecycle.inactiveDays === undefined) s.lifecycle.inactiveDays = Math.min(s.lifecycle.inactiveDays, s.lifecycle.dormantDays);
  }
  validate(s);
  return s;
}

export function validate(s: AnalyticsSettings): void {
  const fail = (field: string, why: string) => {
    throw new InvalidSettingsError(`analytics setting ${field} ${why}`);
  };
  const w = s.rfm.weights;
  if ([w.r, w.f, w.m].some((x) => !(x >= 0)) || w.r + w.f + w.m <= 0) fail('rfm.weights', 'must be non-negative and not all zero');
  if (!(s.rfm.windowMonths >= 1 && s.rfm.windowMonths <= 60)) fail('rfm.windowMonths', 'must be between 1 and 60');
  if (!(s.tiers.a > s.tiers.b && s.tiers.b > s.tiers.c)) fail('tiers', 'must satisfy a > b > c');
  for (const k of ['recency', 'frequency', 'monetary'] as const) {
    const b = s.rfm.breakpoints[k];
    if (b.length !== 4) fail(`rfm.breakpoints.${k}`, 'needs exactly 4 thresholds (for scores 2 to 5)');
    const ordered = k === 'recency' ? b.every((x, i) => i === 0 || x < b[i - 1]!) : b.every((x, i) => i === 0 || x > b[i - 1]!);
    if (!ordered) fail(`rfm.breakpoints.${k}`, k === 'recency' ? 'must be descending days' : 'must be ascending');
  }
  const l = s.lifecycle;
  if (!(l.newDays < l.growingDays)) fail('lifecycle.newDays', 'must be below growingDays');
  if (!(l.dormantDays < l.churnDays)) fail('lifecycle.dormantDays', 'must be below churnDays');
  if (!(l.frequencyDrop > 0 && l.frequencyDrop < 1)) fail('lifecycle.frequencyDrop', 'must be between 0 and 1');
}

export async function loadAnalyticsSettings(db: Kysely<Database>, workspaceId: number): Promise<AnalyticsSettings> {
  const w = await db.selectFrom('workspaces').select(['industry', 'settings']).where('id', '=', workspaceId).executeTakeFirstOrThrow();
  const stored = (w.settings as { analytics?: DeepPartial<AnalyticsSettings> }).analytics;
  return resolveAnalyticsSettings(w.industry, stored);
}

/** The workspace's IANA time zone: months, days and schedules are cut in it. */
export async function workspaceTimeZone(db: Kysely<Database>, workspaceId: number): Promise<string> {
  const w = await db.selectFrom('workspaces').select('time_zone').where('id', '=', workspaceId).executeTakeFirstOrThrow();
  return w.time_zone;
}

/**
 * For the transaction of an analytics statement over every customer: sorts and
 * hash aggregates of a million groups stay in memory (the default 4 MB spills
 * them to disk), and no JIT — these plans' cost estimates are large enough to
 * trigger LLVM inlining and optimisation, seconds of compiling per statement
 * for expressions that run in well under that.
 */
export async function analyticsSession(trx: Kysely<Database>): Promise<void> {
  await sql`set local work_mem = '256MB'`.execute(trx);
  await sql`set local jit = off`.execute(trx);
}

/** customer_metrics rows (all workspaces) from which a PostgreSQL server runs the daily passes in shards. */
const SHARD_FROM = 200_000;

/**
 * Shards for the figures and scoring passes (docs/analytics.md). By default both run
 * in two on a PostgreSQL server once customer_metrics holds 200,000 rows. The day's
 * cohort and KPI steps run beside the figures pass; once they had become light (under
 * 1 s and about 2 s at 1M customers), its shards paid: days of 6.3 s on average against
 * 7.1 s with one (interleaved runs; bench/RESULTS.md, sixteenth session). When
 * those steps were heavier, the shards only competed with them (10.2–11.7 s against
 * 9.9–10.3 s). LIUKE_ANALYTICS_SHARDS sets the number for both (1: never shard;
 * more for a server with cores to spare; on PGlite, which has one connection, the
 * shards run one after another).
 */
export async function analyticsShards(
  ctx: { store: { kind: string }; db: Kysely<Database> },
): Promise<{ shards: number; parallel: boolean }> {
  const server = ctx.store.kind === 'postgres';
  // Checked at start-up (src/config.ts). Set on PGlite too (the tests do).
  const set = Number(process.env.LIUKE_ANALYTICS_SHARDS);
  if (Number.isInteger(set) && set >= 1) return { shards: Math.min(set, 16), parallel: server };
  if (!server) return { shards: 1, parallel: false };
  return { shards: (await estimatedRows(ctx.db, 'customer_metrics')) >= SHARD_FROM ? 2 : 1, parallel: true };
}

/**
 * Runs `fn` for each shard: at once when `parallel`, where every shard settles
 * before the first failure is thrown (none is left writing behind it), else one
 * after another, stopping at the first failure.
 */
export async function eachShard<S, T>(shards: readonly S[], parallel: boolean, fn: (shard: S, k: number) => Promise<T>): Promise<T[]> {
  if (!parallel) {
    const out: T[] = [];
    for (const [k, x] of shards.entries()) out.push(await fn(x, k));
    return out;
  }
  const done = await Promise.allSettled(shards.map(fn));
  const failed = done.find((d) => d.status === 'rejected');
  if (failed) throw failed.reason;
  return done.map((d) => (d as PromiseFulfilledResult<T>).value);
}

// Changing the churn settings and the early-warning scorecard: validated by the
// same resolvers the pipeline reads them with, stored whole under
// workspaces.settings.churn / .scorecard_config, audited in the same transaction.
// They take effect at the next scoring (the daily pipeline, `liuke model score`)
// and, for the label and cut-offs, at the next training.
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { recordAudit } from '../audit/audit.service.ts';
import { resolveScorecard, type ScorecardConfig } from './scorecard.ts';
import { type ChurnSettings, resolveChurnSettings } from './settings.ts';

interface Stored {
  churn?: Partial<ChurnSettings>;
  scorecard_config?: Partial<ScorecardConfig>;
}

/** The stored settings under a row lock, so two saves in a row cannot lose one another. */
async function storedForUpdate(trx: Kysely<Database>, workspaceId: number): Promise<Stored> {
  const w = await trx.selectFrom('workspaces').select('settings').where('id', '=', workspaceId).forUpdate().executeTakeFirstOrThrow();
  return (w.settings ?? {}) as Stored;
}

async function storeKey(trx: Kysely<Database>, workspaceId: number, key: 'churn' | 'scorecard_config', value: unknown): Promise<void> {
  await trx
    .updateTable('workspaces')
    .set({ settings: sql`coalesce(settings, '{}'::jsonb) || jsonb_build_object(${key}::text, ${JSON.stringify(value)}::jsonb)` as never })
    .where('id', '=', workspaceId)
    .execute();
}

export async function getChurnSettings(db: Kysely<Database>, workspaceId: number): Promise<ChurnSettings> {
  const w = await db.selectFrom('workspaces').select('settings').where('id', '=', workspaceId).executeTakeFirstOrThrow();
  return resolveChurnSettings(((w.settings ?? {}) as Stored).churn);
}

export async function getScorecard(db: Kysely<Database>, workspaceId: number): Promise<ScorecardConfig> {
  const w = await db.selectFrom('workspaces').select('settings').where('id', '=', workspaceId).executeTakeFirstOrThrow();
  return resolveScorecard(((w.settings ?? {}) as Stored).scorecard_config);
}

/** Replaces the churn settings (throws InvalidChurnSettingsError, with the field, when one makes no sense). */
export async function saveChurnSettings(db: Kysely<Database>, workspaceId: number, input: ChurnSettings, ctx: { actor: string; now: Date }): Promise<ChurnSettings> {
  const next = resolveChurnSettings(input);
  return db.transaction().execute(async (trx) => {
    const before = resolveChurnSettings((await storedForUpdate(trx, workspaceId)).churn);
    await storeKey(trx, workspaceId, 'churn', next);
    await recordAudit(trx, { workspaceId, actor: ctx.actor, action: 'update', entity: 'settings', entityId: 'churn', before, after: next, at: ctx.now });
    return next;
  });
}

/**
 * Changes the scorecard: the indicators given (by key; the others keep their current
 * points, threshold and switch) and the levels. Throws InvalidScorecardError.
 */
export async function saveScorecard(
  db: Kysely<Database>,
  workspaceId: number,
  input: { indicators?: ScorecardConfig['indicators']; levels?: ScorecardConfig['levels'] },
  ctx: { actor: string; now: Date },
): Promise<ScorecardConfig> {
  return db.transaction().execute(async (trx) => {
    const before = resolveScorecard((await storedForUpdate(trx, workspaceId)).scorecard_config);
    const changed = new Map((input.indicators ?? []).map((i) => [i.key, i]));
    const next = resolveScorecard({
      indicators: [...before.indicators.map((i) => changed.get(i.key) ?? i), ...[...changed.values()].filter((i) => !before.indicators.some((b) => b.key === i.key))],
      levels: input.levels ?? before.levels,
    });
    await storeKey(trx, workspaceId, 'scorecard_config', next);
    await recordAudit(trx, { workspaceId, actor: ctx.actor, action: 'update', entity: 'settings', entityId: 'scorecard', before, after: next, at: ctx.now });
    return next;
  });
}

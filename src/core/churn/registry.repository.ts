// The model registry: SQL only. Every trained churn model is a version; at most
// one per kind is active (a partial unique index makes sure of it).
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Calibrator } from '../ml/calibration.ts';
import type { Model, ModelKind } from '../ml/select.ts';

/** What models.model holds. */
export interface StoredModel {
  format: 'liuke-churn-model';
  version: 1;
  algorithm: ModelKind;
  model: Model;
  calibrator: Calibrator | null;
  /** per feature: the training median, used for blanks by logistic regression */
  medians: number[];
}

export interface NewModel {
  workspaceId: number;
  algorithm: string;
  features: string[];
  params: Record<string, unknown>;
  model: StoredModel;
  metrics: Record<string, unknown>;
  windowFrom: Date;
  windowTo: Date;
  rows: number;
  trainedBy: string;
  trainedAt: Date;
}

export async function insertModel(db: Kysely<Database>, m: NewModel): Promise<{ id: number; version: number }> {
  const r = await sql<{ id: number; version: number }>`
    insert into models (workspace_id, kind, version, algorithm, features, params, model, metrics, window_from, window_to, rows, trained_by, trained_at, active)
    select ${m.workspaceId}, 'churn', coalesce(max(version), 0) + 1, ${m.algorithm}, ${JSON.stringify(m.features)}::jsonb,
      ${JSON.stringify(m.params)}::jsonb, ${JSON.stringify(m.model)}::jsonb, ${JSON.stringify(m.metrics)}::jsonb,
      ${m.windowFrom}, ${m.windowTo}, ${m.rows}, ${m.trainedBy}, ${m.trainedAt}, false
    from models where workspace_id = ${m.workspaceId} and kind = 'churn'
    returning id, version`.execute(db);
  const row = r.rows[0]!;
  return { id: Number(row.id), version: Number(row.version) };
}

const SUMMARY = ['id', 'kind', 'version', 'algorithm', 'rows', 'window_from', 'window_to', 'trained_by', 'trained_at', 'active', 'metrics'] as const;

export function listModels(db: Kysely<Database>, workspaceId: number) {
  return db.selectFrom('models').select(SUMMARY).where('workspace_id', '=', workspaceId).orderBy('version', 'desc').execute();
}

export function getModel(db: Kysely<Database>, workspaceId: number, id: number) {
  return db.selectFrom('models').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
}

export function activeModel(db: Kysely<Database>, workspaceId: number) {
  return db.selectFrom('models').selectAll().where('workspace_id', '=', workspaceId).where('kind', '=', 'churn').where('active', '=', true).executeTakeFirst();
}

/** Makes `id` the active churn model (call inside a transaction). Returns the id that was active before. */
export async function setActive(db: Kysely<Database>, workspaceId: number, id: number): Promise<number | null> {
  const before = await db.selectFrom('models').select('id').where('workspace_id', '=', workspaceId).where('kind', '=', 'churn').where('active', '=', true).executeTakeFirst();
  await db.updateTable('models').set({ active: false }).where('workspace_id', '=', workspaceId).where('kind', '=', 'churn').where('active', '=', true).execute();
  await db.updateTable('models').set({ active: true }).where('workspace_id', '=', workspaceId).where('id', '=', id).execute();
  return before ? Number(before.id) : null;
}

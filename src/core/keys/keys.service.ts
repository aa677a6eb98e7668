// API keys: ingest-only write keys (what Segment clients send) and admin keys.
// The key is shown once; only its SHA-256 is stored (keys are long random
// strings, so a fast hash is enough — unlike passwords).
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { callerGeneration, forgetCallers, recalled, remember } from '../sessions/callers.cache.ts';
import * as repo from './keys.repository.ts';

export type KeyRole = 'ingest' | 'admin';

export interface VerifiedKey {
  id: string;
  workspaceId: number;
  role: KeyRole;
  name: string | null;
}

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export async function createKey(
  db: Kysely<Database>,
  opts: { workspaceId: number; role: KeyRole; name?: string; createdBy?: string },
): Promise<{ id: string; key: string; role: KeyRole }> {
  const secret = randomBytes(24).toString('base64url');
  const key = `lk_${opts.role}_${secret}`;
  const id = `key_${randomBytes(6).toString('hex')}`;
  await repo.insertKey(db, {
    workspace_id: opts.workspaceId,
    id,
    name: opts.name ?? null,
    role: opts.role,
    key_hash: hashKey(key),
    prefix: key.slice(0, 14),
    created_by: opts.createdBy ?? null,
    last_used_at: null,
    revoked_at: null,
  });
  return { id, key, role: opts.role };
}

const TOUCH_EVERY_MS = 60_000;

/** The key's owner and role, or null for an unknown or revoked key. */
export async function verifyKey(db: Kysely<Database>, key: string, now = new Date()): Promise<VerifiedKey | null> {
  if (!key.startsWith('lk_')) return null;
  const hash = hashKey(key);
  // Remembered for a few seconds (callers.cache.ts); revokeKey forgets at once.
  const hit = recalled<VerifiedKey>(`key:${hash}`, now);
  if (hit) return hit;
  const gen = callerGeneration();
  const row = await repo.findActiveKeyByHash(db, hash);
  if (!row) return null;
  // last_used_at is informational; writing it on every ingest call would double the writes.
  if (!row.last_used_at || now.getTime() - row.last_used_at.getTime() > TOUCH_EVERY_MS) {
    await repo.touchKey(db, row.id, now);
  }
  const verified: VerifiedKey = { id: row.id, workspaceId: row.workspace_id, role: row.role, name: row.name };
  remember(`key:${hash}`, verified, now, gen);
  return verified;
}

export const listKeys = repo.listKeys;

export async function revokeKey(db: Kysely<Database>, workspaceId: number, id: string, now = new Date()): Promise<boolean> {
  const r = await repo.revokeKey(db, workspaceId, id, now);
  forgetCallers();
  return Number(r.numUpdatedRows) > 0;
}

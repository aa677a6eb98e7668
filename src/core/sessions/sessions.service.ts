// Browser sessions: a random token in an HttpOnly cookie; the store keeps only
// its SHA-256, so a leaked sessions table cannot be replayed.
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, UserRole } from '../../db/schema.ts';
import { callerGeneration, forgetCallers, recalled, remember } from './callers.cache.ts';

export const SESSION_COOKIE = 'liuke_session';
const TOUCH_EVERY_MS = 60_000;

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export async function createSession(
  db: Kysely<Database>,
  opts: { workspaceId: number; userId: string; ttlMs: number; now: Date; userAgent?: string | null; ip?: string | null },
): Promise<{ token: string; expiresAt: Date }> {
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(opts.now.getTime() + opts.ttlMs);
  await db
    .insertInto('sessions')
    .values({
      id: hashToken(token),
      user_id: opts.userId,
      workspace_id: opts.workspaceId,
      created_at: opts.now,
      expires_at: expiresAt,
      last_seen_at: opts.now,
      user_agent: opts.userAgent?.slice(0, 300) ?? null,
      ip: opts.ip ?? null,
    })
    .execute();
  // Expired sessions are swept here, a cheap indexed delete, rather than by a job.
  await db.deleteFrom('sessions').where('expires_at', '<', opts.now).execute();
  return { token, expiresAt };
}

export interface SessionUser {
  sessionId: string;
  userId: string;
  workspaceId: number;
  email: string;
  role: UserRole;
  mustChangePassword: boolean;
}

/** The live session's user, sliding the expiry forward at most once a minute; null if unknown, expired or disabled. */
export async function resolveSession(db: Kysely<Database>, token: string, ttlMs: number, now: Date): Promise<SessionUser | null> {
  const id = hashToken(token);
  // Remembered for a few seconds (callers.cache.ts); the expiry is still checked.
  const hit = recalled<{ user: SessionUser; expiresAt: number }>(`session:${id}`, now);
  if (hit) return hit.expiresAt > now.getTime() ? hit.user : null;
  const gen = callerGeneration();
  const row = await db
    .selectFrom('sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .select(['s.id', 's.user_id', 's.workspace_id', 's.expires_at', 's.last_seen_at', 'u.email', 'u.role', 'u.disabled_at', 'u.must_change_password'])
    .where('s.id', '=', id)
    .executeTakeFirst();
  if (!row || row.disabled_at || row.expires_at.getTime() <= now.getTime()) return null;
  if (now.getTime() - row.last_seen_at.getTime() > TOUCH_EVERY_MS) {
    await db
      .updateTable('sessions')
      .set({ last_seen_at: now, expires_at: new Date(now.getTime() + ttlMs) })
      .where('id', '=', id)
      .execute();
  }
  const user: SessionUser = {
    sessionId: id,
    userId: row.user_id,
    workspaceId: row.workspace_id,
    email: row.email,
    role: row.role,
    mustChangePassword: row.must_change_password,
  };
  remember(`session:${id}`, { user, expiresAt: row.expires_at.getTime() }, now, gen);
  return user;
}

export async function deleteSession(db: Kysely<Database>, token: string): Promise<void> {
  await db.deleteFrom('sessions').where('id', '=', hashToken(token)).execute();
  forgetCallers();
}

export async function deleteUserSessions(db: Kysely<Database>, userId: string, exceptSessionId?: string): Promise<void> {
  let q = db.deleteFrom('sessions').where('user_id', '=', userId);
  if (exceptSessionId) q = q.where('id', '<>', exceptSessionId);
  await q.execute();
  forgetCallers();
}

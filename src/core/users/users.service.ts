// Users of the dashboard: argon2id password hashes (memory-hard, so a stolen
// table is slow to crack), roles, disabling, and the first admin.
import { randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import type { Kysely } from 'kysely';
import type { Database, UserRole } from '../../db/schema.ts';
import { recordAudit } from '../audit/audit.service.ts';
import { forgetCallers } from '../sessions/callers.cache.ts';
import * as repo from './users.repository.ts';

export const USER_ROLES: readonly UserRole[] = ['admin', 'operator', 'analyst', 'agent', 'viewer'];
export const LOCALES = ['zh-CN', 'en'] as const;
export type Locale = (typeof LOCALES)[number];

/** OWASP's argon2id minimum: 19 MiB, 2 passes. */
const ARGON = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };
export const MIN_PASSWORD_LENGTH = 8;

export interface PublicUser {
  id: string;
  email: string;
  name: string | null;
  role: UserRole;
  locale: Locale;
  created_at: Date;
  disabled_at: Date | null;
  must_change_password: boolean;
}

export class UserInputError extends Error {
  readonly field: string;
  readonly kind: 'invalid' | 'conflict' | 'not_found';
  constructor(message: string, field: string, kind: 'invalid' | 'conflict' | 'not_found' = 'invalid') {
    super(message);
    this.field = field;
    this.kind = kind;
  }
}

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

/** A one-time password: 16 characters, no look-alikes. */
export function generatePassword(): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const bytes = randomBytes(16);
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}

const EMAIL = /^[^\s@]+@[^\s@]+$/;

function toPublic(u: PublicUser): PublicUser {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    role: u.role,
    locale: u.locale,
    created_at: u.created_at,
    disabled_at: u.disabled_at,
    must_change_password: u.must_change_password,
  };
}

export interface CreateUserInput {
  workspaceId: number;
  email: string;
  role: UserRole;
  name?: string | null;
  locale?: Locale;
  /** When absent a one-time password is generated and must be changed at first login. */
  password?: string;
  actor: string;
  now: Date;
}

export async function createUser(db: Kysely<Database>, input: CreateUserInput): Promise<{ user: PublicUser; oneTimePassword: string | null }> {
  const email = input.email.trim();
  if (!EMAIL.test(email)) throw new UserInputError(`"${input.email}" is not an email address`, 'email');
  if (!USER_ROLES.includes(input.role)) throw new UserInputError(`role must be one of ${USER_ROLES.join(', ')}`, 'role');
  if (input.password !== undefined && input.password.length < MIN_PASSWORD_LENGTH) {
    throw new UserInputError(`the password must have at least ${MIN_PASSWORD_LENGTH} characters`, 'password');
  }
  const oneTimePassword = input.password === undefined ? generatePassword() : null;
  const passwordHash = await hashPassword(input.password ?? (oneTimePassword as string));
  const id = `usr_${randomBytes(6).toString('hex')}`;
  return db.transaction().execute(async (trx) => {
    if (await repo.findUserByEmail(trx, input.workspaceId, email)) {
      throw new UserInputError(`a user with email ${email} already exists`, 'email', 'conflict');
    }
    const row = {
      workspace_id: input.workspaceId,
      id,
      email,
      name: input.name ?? null,
      role: input.role,
      password_hash: passwordHash,
      locale: input.locale ?? 'zh-CN',
      must_change_password: oneTimePassword !== null,
      created_at: input.now,
    } as const;
    await repo.insertUser(trx, row);
    const user: PublicUser = { ...row, disabled_at: null };
    await recordAudit(trx, { workspaceId: input.workspaceId, actor: input.actor, action: 'create', entity: 'user', entityId: id, after: toPublic(user), at: input.now });
    return { user: toPublic(user), oneTimePassword };
  });
}

export async function listUsers(db: Kysely<Database>, workspaceId: number): Promise<PublicUser[]> {
  return (await repo.listUsers(db, workspaceId)) as PublicUser[];
}

export async function getUser(db: Kysely<Database>, workspaceId: number, id: string): Promise<PublicUser | null> {
  const u = await repo.findUserById(db, workspaceId, id);
  return u ? toPublic(u as PublicUser) : null;
}

export async function findUserByEmail(db: Kysely<Database>, workspaceId: number, email: string) {
  return repo.findUserByEmail(db, workspaceId, email);
}

export interface UserPatch {
  role?: UserRole;
  name?: string | null;
  locale?: Locale;
  disabled?: boolean;
}

/** Changes a user; refuses to leave the workspace without an active admin. */
export async function updateUser(
  db: Kysely<Database>,
  workspaceId: number,
  id: string,
  patch: UserPatch,
  ctx: { actor: string; now: Date },
): Promise<PublicUser> {
  return db.transaction().execute(async (trx) => {
    const before = await repo.findUserById(trx, workspaceId, id);
    if (!before) throw new UserInputError(`no user with id ${id}`, 'id', 'not_found');
    const set: Parameters<typeof repo.updateUser>[3] = {};
    if (patch.role !== undefined) {
      if (!USER_ROLES.includes(patch.role)) throw new UserInputError(`role must be one of ${USER_ROLES.join(', ')}`, 'role');
      set.role = patch.role;
    }
    if (patch.name !== undefined) set.name = patch.name;
    if (patch.locale !== undefined) set.locale = patch.locale;
    if (patch.disabled !== undefined) set.disabled_at = patch.disabled ? (before.disabled_at ?? ctx.now) : null;
    if (Object.keys(set).length === 0) return toPublic(before as PublicUser);
    await repo.updateUser(trx, workspaceId, id, set);
    const after = toPublic({ ...(before as PublicUser), ...set } as PublicUser);
    const wasActiveAdmin = before.role === 'admin' && before.disabled_at === null;
    const isActiveAdmin = after.role === 'admin' && after.disabled_at === null;
    if (wasActiveAdmin && !isActiveAdmin && Number((await repo.countActiveAdmins(trx, workspaceId)).n) === 0) {
      throw new UserInputError('this is the last active admin: make another user admin first', 'role', 'conflict');
    }
    if (patch.disabled) await trx.deleteFrom('sessions').where('user_id', '=', id).execute();
    await recordAudit(trx, {
      workspaceId,
      actor: ctx.actor,
      action: patch.disabled === true && !before.disabled_at ? 'disable' : 'update',
      entity: 'user',
      entityId: id,
      before: toPublic(before as PublicUser),
      after,
      at: ctx.now,
    });
    return after;
  }).finally(forgetCallers); // sessions carry the role and the disabled flag (callers.cache.ts)
}

/** Sets a new password after checking the current one; clears must_change_password. */
export async function changePassword(
  db: Kysely<Database>,
  workspaceId: number,
  id: string,
  current: string,
  next: string,
  ctx: { actor: string; now: Date },
): Promise<void> {
  const u = await repo.findUserById(db, workspaceId, id);
  if (!u) throw new UserInputError(`no user with id ${id}`, 'id', 'not_found');
  if (!(await verifyPassword(u.password_hash, current))) throw new UserInputError('the current password is wrong', 'current');
  if (next.length < MIN_PASSWORD_LENGTH) throw new UserInputError(`the new password must have at least ${MIN_PASSWORD_LENGTH} characters`, 'next');
  if (next === current) throw new UserInputError('the new password must differ from the current one', 'next');
  const passwordHash = await hashPassword(next);
  await db.transaction().execute(async (trx) => {
    await repo.updateUser(trx, workspaceId, id, { password_hash: passwordHash, must_change_password: false });
    await recordAudit(trx, { workspaceId, actor: ctx.actor, action: 'change_password', entity: 'user', entityId: id, at: ctx.now });
  });
  forgetCallers(); // sessions carry must_change_password (callers.cache.ts)
}

export async function countUsers(db: Kysely<Database>, workspaceId: number): Promise<number> {
  return Number((await repo.countUsers(db, workspaceId)).n);
}

/**
 * On a first start with no users: admin@localhost with a one-time password
 * (returned so start can print it once). Null when users already exist.
 */
export async function ensureFirstAdmin(db: Kysely<Database>, workspaceId: number, now: Date): Promise<{ email: string; password: string } | null> {
  if ((await countUsers(db, workspaceId)) > 0) return null;
  const r = await createUser(db, { workspaceId, email: 'admin@localhost', role: 'admin', name: 'Admin', actor: 'system', now });
  return { email: r.user.email, password: r.oneTimePassword as string };
}

// --- login rate limiting -------------------------------------------------

export const LOGIN_WINDOW_MS = 15 * 60_000;
export const LOGIN_MAX_FAILURES = 5;

export type LoginResult =
  | { ok: true; user: PublicUser }
  | { ok: false; reason: 'bad_credentials' }
  | { ok: false; reason: 'rate_limited'; retryAfterSeconds: number };

/**
 * Checks email and password. Failures are counted per (email, ip) in the
 * store; the sixth within 15 minutes is refused without checking the password.
 */
export async function checkLogin(
  db: Kysely<Database>,
  workspaceId: number,
  email: string,
  password: string,
  ip: string,
  now: Date,
): Promise<LoginResult> {
  const since = new Date(now.getTime() - LOGIN_WINDOW_MS);
  const failed = await repo.countFailedLogins(db, workspaceId, email, ip, since);
  if (Number(failed.n) >= LOGIN_MAX_FAILURES) {
    const first = failed.first ? new Date(failed.first as Date).getTime() : now.getTime();
    return { ok: false, reason: 'rate_limited', retryAfterSeconds: Math.max(1, Math.ceil((first + LOGIN_WINDOW_MS - now.getTime()) / 1000)) };
  }
  const u = await repo.findUserByEmail(db, workspaceId, email);
  // Hash even for unknown emails so timing does not tell which emails exist.
  let ok = false;
  if (u) ok = await verifyPassword(u.password_hash, password);
  else await verifyPassword(DUMMY_HASH, password);
  if (!u || !ok || u.disabled_at) {
    await repo.recordFailedLogin(db, workspaceId, email, ip, now);
    return { ok: false, reason: 'bad_credentials' };
  }
  await repo.clearFailedLogins(db, workspaceId, email, ip, since);
  return { ok: true, user: toPublic(u as PublicUser) };
}

const DUMMY_HASH = '$argon2id$v=19$m=19456,t=2,p=1$fmiMJx59TFYPU29c9+36qg$WlEI+S9mcOy7znUnM0yXtNZm4x0Acn2E5mn5p9VbYzE';

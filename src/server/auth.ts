// Who is calling. Every route states the roles it allows in `config.roles`
// (or 'public'); a route without it fails loudly so none can be forgotten.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { verifyKey } from '../core/keys/keys.service.ts';
import { resolveSession, SESSION_COOKIE } from '../core/sessions/sessions.service.ts';
import type { Database } from '../db/schema.ts';
import { AppError, forbidden, unauthorized } from './errors.ts';

/** User roles (SPEC §8) plus 'ingest' for write keys, which may only send data. */
export type Role = 'admin' | 'operator' | 'analyst' | 'agent' | 'viewer' | 'ingest';
export const USER_ROLES = ['admin', 'operator', 'analyst', 'agent', 'viewer'] as const;
/** Every signed-in user role. */
export const ANY_USER: Role[] = [...USER_ROLES];

export interface Principal {
  kind: 'user' | 'api_key' | 'local';
  /** user id, key id, or 'cli' */
  id: string;
  /** for the audit log: "user:alice", "key:key_ab12", "cli" */
  actor: string;
  role: Role;
  workspaceId: number;
  /** Signed in with a one-time password: only /api/auth/* until it is changed. */
  mustChangePassword?: boolean;
  /** Hash of the session cookie, for users signed in through the browser. */
  sessionId?: string;
}

export type RouteRoles = Role[] | 'public';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    roles?: RouteRoles;
  }
}

/** A way to recognise a caller from a request (session cookie, …); null if it does not apply. */
export type Authenticator = (req: FastifyRequest) => Promise<Principal | null>;

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** API keys as Segment clients send them (HTTP Basic, key as user name) or as a Bearer token. */
export function keyAuthenticator(db: Kysely<Database>): Authenticator {
  return async (req) => {
    const h = req.headers.authorization;
    if (!h) return null;
    let key: string | null = null;
    if (h.startsWith('Basic ')) {
      const decoded = Buffer.from(h.slice(6), 'base64').toString('utf8');
      key = decoded.split(':')[0] ?? '';
    } else if (h.startsWith('Bearer lk_')) {
      key = h.slice(7);
    }
    if (key === null) return null;
    const k = await verifyKey(db, key);
    if (!k) throw unauthorized('the API key is unknown or revoked: create one with `liuke keys create`');
    return { kind: 'api_key', id: k.id, actor: `key:${k.id}`, role: k.role, workspaceId: k.workspaceId };
  };
}

/** The per-start token a local CLI reads from the embedded store's lock file. */
export function localTokenAuthenticator(token: string | undefined, workspaceId: number): Authenticator {
  return async (req) => {
    const h = req.headers.authorization;
    if (!token || !h?.startsWith('Bearer ') || h.startsWith('Bearer lk_')) return null;
    if (!safeEqual(h.slice(7), token)) return null;
    return { kind: 'local', id: 'cli', actor: 'cli', role: 'admin', workspaceId };
  };
}

/** The browser session cookie (liuke_session) set by POST /api/auth/login. */
export function sessionAuthenticator(db: Kysely<Database>, ttlMs: number, now: () => Date): Authenticator {
  return async (req) => {
    const token = (req as FastifyRequest & { cookies?: Record<string, string | undefined> }).cookies?.[SESSION_COOKIE];
    if (!token) return null;
    const s = await resolveSession(db, token, ttlMs, now());
    // An expired or unknown cookie is simply no credential: public routes still work.
    if (!s) return null;
    return {
      kind: 'user',
      id: s.userId,
      actor: `user:${s.email}`,
      role: s.role,
      workspaceId: s.workspaceId,
      mustChangePassword: s.mustChangePassword,
      sessionId: s.sessionId,
    };
  };
}

export async function authenticate(req: FastifyRequest, authenticators: Authenticator[]): Promise<Principal | null> {
  for (const a of authenticators) {
    const p = await a(req);
    if (p) return p;
  }
  return null;
}

/** preHandler: the route's roles against the caller's. */
export function checkRoles(req: FastifyRequest, _reply: FastifyReply): void {
  if (req.is404) return;
  const roles = req.routeOptions.config.roles;
  if (roles === undefined) throw new Error(`route ${req.routeOptions.url} does not declare config.roles`);
  if (roles === 'public') return;
  if (!req.principal) throw unauthorized();
  if (req.principal.mustChangePassword && !req.routeOptions.url?.startsWith('/api/auth/')) {
    throw new AppError(403, 'password_change_required', 'set a new password first (POST /api/auth/password): you signed in with a one-time password');
  }
  if (!roles.includes(req.principal.role)) {
    throw forbidden(`role ${req.principal.role} may not use ${req.method} ${req.routeOptions.url}; allowed: ${roles.join(', ')}`);
  }
}

/** The caller, for handlers of non-public routes (checkRoles has run). */
export function principal(req: FastifyRequest): Principal {
  if (!req.principal) throw unauthorized();
  return req.principal;
}

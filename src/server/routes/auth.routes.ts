import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { getWorkspace } from '../../core/settings/settings.service.ts';
import { createSession, deleteSession, deleteUserSessions, SESSION_COOKIE } from '../../core/sessions/sessions.service.ts';
import { changePassword, checkLogin, getUser } from '../../core/users/users.service.ts';
import { DEFAULT_WORKSPACE_ID } from '../../db/schema.ts';
import { ANY_USER, principal } from '../auth.ts';
import { AppError, badRequest, unauthorized } from '../errors.ts';
import { LocaleSchema, RoleSchema, WorkspaceSchema } from '../schemas.ts';
import { asAppError } from './users.routes.ts';

const SessionUser = Type.Object({
  id: Type.String(),
  email: Type.String(),
  name: Type.Union([Type.String(), Type.Null()]),
  role: Type.Union([RoleSchema, Type.Literal('ingest')]),
  locale: LocaleSchema,
  must_change_password: Type.Boolean(),
});

export async function authRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const ttlMs = () => app.deps.config.LIUKE_SESSION_TTL_HOURS * 3_600_000;
  const secure = (req: FastifyRequest) => {
    const s = app.deps.config.LIUKE_COOKIE_SECURE;
    return s === 'auto' ? req.protocol === 'https' : s === 'true';
  };
  const clearCookie = (req: FastifyRequest, reply: FastifyReply) =>
    reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure: secure(req) });

  app.post(
    '/api/auth/login',
    {
      config: { roles: 'public' },
      schema: {
        tags: ['auth'],
        summary: 'Sign in: sets the liuke_session cookie (HttpOnly, SameSite=Lax). 5 failures per 15 minutes per email and address → 429',
        body: Type.Object({ email: Type.String({ minLength: 1, maxLength: 320 }), password: Type.String({ minLength: 1, maxLength: 200 }) }),
        response: { 200: Type.Object({ user: SessionUser }) },
      },
    },
    async (req, reply) => {
      const now = app.deps.now();
      const r = await checkLogin(app.deps.store.db, DEFAULT_WORKSPACE_ID, req.body.email.trim(), req.body.password, req.ip, now);
      if (!r.ok && r.reason === 'rate_limited') {
        reply.header('retry-after', String(r.retryAfterSeconds));
        throw new AppError(
          429,
          'rate_limited',
          `too many failed sign-ins for this email from your address; try again in ${Math.ceil(r.retryAfterSeconds / 60)} minutes`,
        );
      }
      if (!r.ok) throw new AppError(401, 'invalid_credentials', 'the email or password is wrong');
      const s = await createSession(app.deps.store.db, {
        workspaceId: DEFAULT_WORKSPACE_ID,
        userId: r.user.id,
        ttlMs: ttlMs(),
        now,
        userAgent: req.headers['user-agent'] ?? null,
        ip: req.ip,
      });
      reply.setCookie(SESSION_COOKIE, s.token, { path: '/', httpOnly: true, sameSite: 'lax', secure: secure(req), maxAge: Math.floor(ttlMs() / 1000) });
      const u = r.user;
      return { user: { id: u.id, email: u.email, name: u.name, role: u.role, locale: u.locale, must_change_password: u.must_change_password } };
    },
  );

  app.post(
    '/api/auth/logout',
    { config: { roles: 'public' }, schema: { tags: ['auth'], summary: 'Sign out: ends the session and clears the cookie' } },
    async (req, reply) => {
      const token = req.cookies[SESSION_COOKIE];
      if (token) await deleteSession(app.deps.store.db, token);
      clearCookie(req, reply);
      return { ok: true };
    },
  );

  app.post(
    '/api/auth/password',
    {
      config: { roles: ANY_USER },
      schema: {
        tags: ['auth'],
        summary: 'Change your own password; ends your other sessions',
        body: Type.Object({ current: Type.String({ minLength: 1, maxLength: 200 }), next: Type.String({ minLength: 1, maxLength: 200 }) }),
      },
    },
    async (req) => {
      const p = principal(req);
      if (p.kind !== 'user') throw badRequest('only a signed-in user has a password', undefined, 'invalid');
      try {
        await changePassword(app.deps.store.db, p.workspaceId, p.id, req.body.current, req.body.next, { actor: p.actor, now: app.deps.now() });
      } catch (e) {
        throw asAppError(e);
      }
      await deleteUserSessions(app.deps.store.db, p.id, p.sessionId);
      return { ok: true };
    },
  );

  app.get(
    '/api/auth/me',
    {
      config: { roles: ANY_USER },
      schema: { tags: ['auth'], summary: 'Who you are and your workspace', response: { 200: Type.Object({ user: SessionUser, workspace: WorkspaceSchema }) } },
    },
    async (req) => {
      const p = principal(req);
      const workspace = await getWorkspace(app.deps.store.db, p.workspaceId);
      if (p.kind === 'user') {
        const u = await getUser(app.deps.store.db, p.workspaceId, p.id);
        if (!u) throw unauthorized();
        return { user: { id: u.id, email: u.email, name: u.name, role: u.role, locale: u.locale, must_change_password: u.must_change_password }, workspace };
      }
      // API keys and the local CLI token: a stand-in user so clients need one shape.
      return {
        user: { id: p.id, email: '', name: p.actor, role: p.role, locale: (workspace.locale === 'en' ? 'en' : 'zh-CN') as 'en' | 'zh-CN', must_change_password: false },
        workspace,
      };
    },
  );
}

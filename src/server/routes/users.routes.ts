import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { createUser, listUsers, updateUser, UserInputError } from '../../core/users/users.service.ts';
import { principal } from '../auth.ts';
import { AppError, badRequest, conflict, notFound } from '../errors.ts';
import { DateTime, LocaleSchema, NullableDateTime, RoleSchema } from '../schemas.ts';

export const UserSchema = Type.Object({
  id: Type.String(),
  email: Type.String(),
  name: Type.Union([Type.String(), Type.Null()]),
  role: RoleSchema,
  locale: LocaleSchema,
  created_at: Type.Optional(DateTime),
  disabled_at: Type.Optional(NullableDateTime),
  must_change_password: Type.Boolean(),
});

/** A service's input error as the one HTTP error shape. */
export function asAppError(e: unknown): unknown {
  if (e instanceof UserInputError) {
    if (e.kind === 'conflict') return conflict(e.message, e.field);
    if (e.kind === 'not_found') return new AppError(404, 'not_found', e.message);
    return badRequest(e.message, e.field, 'invalid');
  }
  return e;
}

export async function usersRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const admin = { roles: ['admin' as const] };

  app.get(
    '/api/users',
    { config: admin, schema: { tags: ['users'], summary: 'Users of this workspace', response: { 200: Type.Object({ items: Type.Array(UserSchema) }) } } },
    async (req) => ({ items: await listUsers(app.deps.store.db, principal(req).workspaceId) }),
  );

  app.post(
    '/api/users',
    {
      config: admin,
      schema: {
        tags: ['users'],
        summary: 'Create a user; without a password a one-time password is returned once',
        body: Type.Object(
          {
            email: Type.String({ minLength: 3, maxLength: 320 }),
            role: RoleSchema,
            name: Type.Optional(Type.String({ maxLength: 200 })),
            locale: Type.Optional(LocaleSchema),
            password: Type.Optional(Type.String({ minLength: 8, maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ user: UserSchema, one_time_password: Type.Union([Type.String(), Type.Null()]) }) },
      },
    },
    async (req, reply) => {
      const p = principal(req);
      const b = req.body;
      try {
        const r = await createUser(app.deps.store.db, {
          workspaceId: p.workspaceId,
          email: b.email,
          role: b.role,
          name: b.name ?? null,
          ...(b.locale ? { locale: b.locale as 'zh-CN' | 'en' } : {}),
          ...(b.password ? { password: b.password } : {}),
          actor: p.actor,
          now: app.deps.now(),
        });
        return reply.status(201).send({ user: r.user, one_time_password: r.oneTimePassword });
      } catch (e) {
        throw asAppError(e);
      }
    },
  );

  app.patch(
    '/api/users/:id',
    {
      config: admin,
      schema: {
        tags: ['users'],
        summary: 'Change a user: role, name, locale, disabled',
        params: Type.Object({ id: Type.String() }),
        body: Type.Object(
          {
            role: Type.Optional(RoleSchema),
            name: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
            locale: Type.Optional(LocaleSchema),
            disabled: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ user: UserSchema }) },
      },
    },
    async (req) => {
      const p = principal(req);
      if (req.body.disabled && req.params.id === p.id) throw badRequest('you cannot disable yourself', 'disabled', 'invalid');
      try {
        const user = await updateUser(app.deps.store.db, p.workspaceId, req.params.id, req.body as never, { actor: p.actor, now: app.deps.now() });
        return { user };
      } catch (e) {
        if (e instanceof UserInputError && e.kind === 'not_found') throw notFound(`user ${req.params.id}`);
        throw asAppError(e);
      }
    },
  );
}

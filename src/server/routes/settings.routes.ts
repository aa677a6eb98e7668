import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { getWorkspace, SettingsError, updateWorkspace } from '../../core/settings/settings.service.ts';
import { ANY_USER, principal } from '../auth.ts';
import { badRequest } from '../errors.ts';
import { LocaleSchema, WorkspaceSchema } from '../schemas.ts';

export async function settingsRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/settings/workspace',
    { config: { roles: ANY_USER }, schema: { tags: ['settings'], summary: 'Workspace settings', response: { 200: WorkspaceSchema } } },
    async (req) => getWorkspace(app.deps.store.db, principal(req).workspaceId),
  );
  app.put(
    '/api/settings/workspace',
    {
      config: { roles: ['admin'] },
      schema: {
        tags: ['settings'],
        summary: 'Change name, time zone (IANA), currency (ISO 4217) and locale',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 200 }),
            time_zone: Type.String({ minLength: 1, maxLength: 64 }),
            currency: Type.String({ minLength: 3, maxLength: 3 }),
            locale: LocaleSchema,
          },
          { additionalProperties: false },
        ),
        response: { 200: WorkspaceSchema },
      },
    },
    async (req) => {
      const p = principal(req);
      try {
        return await updateWorkspace(app.deps.store.db, p.workspaceId, req.body, { actor: p.actor, now: app.deps.now() });
      } catch (e) {
        if (e instanceof SettingsError) throw badRequest(e.message, e.field, 'invalid');
        throw e;
      }
    },
  );
}

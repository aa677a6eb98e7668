// The app factory: one Fastify instance with schema validation (TypeBox), the
// OpenAPI document built from the same schemas, authentication, role checks
// on every route, and one error shape.
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Config } from '../config.ts';
import type { Store } from '../db/store.ts';
import { type Authenticator, authenticate, checkRoles, keyAuthenticator, localTokenAuthenticator, sessionAuthenticator } from './auth.ts';
import { AppError, type ErrorBody } from './errors.ts';
import { registerRoutes } from './routes/index.ts';
import { DEFAULT_WORKSPACE_ID } from '../db/schema.ts';

export interface AppDeps {
  store: Store;
  config: Config;
  /** Token written to the embedded store's lock file for local CLI calls. */
  localToken?: string;
  /** The clock; tests pass a fixed one. */
  now?: () => Date;
  /** Extra ways to recognise callers (the session cookie, …), tried after API keys. */
  authenticators?: Authenticator[];
  logger?: FastifyServerOptions['logger'];
}

export type App = FastifyInstance & { deps: Required<Pick<AppDeps, 'store' | 'config' | 'now'>> & AppDeps };

declare module 'fastify' {
  interface FastifyInstance {
    deps: Required<Pick<AppDeps, 'store' | 'config' | 'now'>> & AppDeps;
  }
}

function fieldOf(err: FastifyError): string | undefined {
  const v = err.validation?.[0];
  if (!v) return undefined;
  const params = v.params as { missingProperty?: string; additionalProperty?: string } | undefined;
  const path = (v.instancePath ?? '').replace(/^\//, '').replaceAll('/', '.');
  const leaf = params?.missingProperty ?? params?.additionalProperty;
  const base = err.validationContext && err.validationContext !== 'body' ? err.validationContext : '';
  return [base, path, leaf].filter(Boolean).join('.') || undefined;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logger ?? false,
    bodyLimit: deps.config.LIUKE_MAX_BODY_BYTES,
    ajv: { customOptions: { coerceTypes: 'array', useDefaults: true, removeAdditional: false, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorate('deps', { now: () => new Date(), ...deps });
  app.decorateRequest('principal', null);

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Liuke API', version: '0.1.0', description: 'Liuke (留客) customer-retention engine' },
      components: {
        securitySchemes: {
          writeKey: { type: 'http', scheme: 'basic', description: 'Segment-style write key as the user name' },
          apiKey: { type: 'http', scheme: 'bearer', description: 'An API key (lk_…)' },
        },
      },
    },
  });

  await app.register(cookie);
  const authenticators: Authenticator[] = [
    localTokenAuthenticator(deps.localToken, DEFAULT_WORKSPACE_ID),
    keyAuthenticator(deps.store.db),
    sessionAuthenticator(deps.store.db, deps.config.LIUKE_SESSION_TTL_HOURS * 3_600_000, () => app.deps.now()),
    ...(deps.authenticators ?? []),
  ];
  app.addHook('onRequest', async (req) => {
    req.principal = await authenticate(req, authenticators);
  });
  app.addHook('preHandler', async (req, reply) => checkRoles(req, reply));

  app.setErrorHandler((err: FastifyError, req, reply) => {
    let status: number;
    let body: ErrorBody;
    if (err instanceof AppError) {
      status = err.statusCode;
      body = err.toBody();
    } else if (err.validation) {
      status = 400;
      const field = fieldOf(err);
      body = { error: { code: 'invalid', message: err.message, ...(field ? { field } : {}) } };
    } else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      status = 413;
      body = {
        error: { code: 'too_large', message: `request body is larger than the limit of ${deps.config.LIUKE_MAX_BODY_BYTES} bytes: send smaller batches` },
      };
    } else if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      status = err.statusCode;
      body = { error: { code: (err.code ?? 'bad_request').toLowerCase(), message: err.message } };
    } else {
      req.log.error({ err }, 'unhandled error');
      status = 500;
      body = { error: { code: 'internal', message: 'internal error; the server log has the details' } };
    }
    return reply.status(status).send(body);
  });

  app.setNotFoundHandler((req, reply) =>
    reply.status(404).send({ error: { code: 'not_found', message: `no route ${req.method} ${req.url}` } } satisfies ErrorBody),
  );

  await registerRoutes(app);
  app.get('/api/docs', { config: { roles: 'public' }, schema: { hide: true } }, async () => app.swagger());
  // Swagger UI over the same document; its routes are public like the document.
  await app.register(async (ui) => {
    ui.addHook('onRoute', (r) => {
      r.config = { ...(r.config ?? {}), roles: 'public' };
    });
    await ui.register(swaggerUi, { routePrefix: '/api/docs/ui' });
  });
  await app.ready();
  return app;
}

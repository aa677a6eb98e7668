// Segment's HTTP Tracking API (/v1/identify, /v1/track, /v1/page, /v1/screen,
// /v1/group, /v1/alias, /v1/batch), so Segment and RudderStack libraries can
// send to Liuke unmodified. Write key: HTTP Basic with the key as user name
// (recognised by keyAuthenticator) or the `writeKey` body field.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ingestMessages, type IngestResult } from '../../core/ingest/ingest.service.ts';
import { BatchBody, type MessageType, SegmentOk } from '../../core/ingest/segment.schema.ts';
import { verifyKey } from '../../core/keys/keys.service.ts';
import { principal, type Role } from '../auth.ts';
import { AppError, badRequest, unauthorized } from '../errors.ts';
import Type from 'typebox';

const ROLES: Role[] = ['ingest', 'admin'];

/** analytics.js sends text/plain to spare the browser a CORS preflight; the body is JSON all the same. */
function parseJsonText(_req: FastifyRequest, body: string | Buffer): unknown {
  const s = typeof body === 'string' ? body : body.toString('utf8');
  if (s.trim() === '') return {};
  try {
    return JSON.parse(s);
  } catch {
    throw new AppError(400, 'invalid_json', 'the request body is not valid JSON');
  }
}

/** The `writeKey` body field Segment also accepts, when no Authorization header named a key. */
async function writeKeyFromBody(app: FastifyInstance, req: FastifyRequest): Promise<void> {
  if (req.principal) return;
  const body = req.body as { writeKey?: unknown } | undefined;
  const key = body && typeof body === 'object' ? body.writeKey : undefined;
  if (typeof key !== 'string' || key === '') return;
  const k = await verifyKey(app.deps.store.db, key, app.deps.now());
  if (!k) throw unauthorized('the write key is unknown or revoked: create one with `liuke keys create --role ingest`');
  req.principal = { kind: 'api_key', id: k.id, actor: `key:${k.id}`, role: k.role, workspaceId: k.workspaceId };
}

function answer(reply: FastifyReply, r: IngestResult) {
  if (r.rejected.length === 0) return reply.send({ success: true });
  const first = r.rejected[0]!;
  const shown = r.rejected.slice(0, 5).map((x) => x.message).join('; ');
  const more = r.rejected.length > 5 ? `; and ${r.rejected.length - 5} more` : '';
  return reply.status(400).send({
    error: {
      code: 'invalid',
      message: `${r.rejected.length} of ${r.accepted + r.rejected.length} messages rejected, ${r.accepted} accepted: ${shown}${more}`,
      field: first.field,
    },
    accepted: r.accepted,
    rejected: r.rejected,
  });
}

export async function ingestRoutes(parent: FastifyInstance): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, async (req: FastifyRequest, body: string | Buffer) => parseJsonText(req, body));
  app.addHook('preValidation', async (req) => writeKeyFromBody(app, req));
  // Browsers (analytics.js) send from the shop's own origin.
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('access-control-allow-origin', '*');
    return payload;
  });
  app.options(
    '/v1/*',
    { config: { roles: 'public' }, schema: { hide: true } },
    async (_req, reply) =>
      reply
        .status(204)
        .header('access-control-allow-methods', 'POST, OPTIONS')
        .header('access-control-allow-headers', 'authorization, content-type')
        .header('access-control-max-age', '86400')
        .send(),
  );

  const single = (type: MessageType, summary: string, path = `/v1/${type}`, hide = false) =>
    app.post(
      path,
      {
        config: { roles: ROLES },
        bodyLimit: parent.deps.config.LIUKE_MAX_BODY_BYTES,
        schema: {
          hide,
          tags: ['ingest'],
          summary,
          security: [{ writeKey: [] }],
          body: Type.Object({}, { additionalProperties: true, description: `a Segment ${type} message` }),
          response: { 200: SegmentOk },
        },
      },
      async (req, reply) => {
        const p = principal(req);
        const r = await ingestMessages(app.deps.store.db, { workspaceId: p.workspaceId, actor: p.actor, now: app.deps.now() }, [req.body], {
          forcedType: type,
          fieldPrefix: () => '',
        });
        return answer(reply, r);
      },
    );
  single('identify', 'Segment identify: create or update a customer from traits');
  single('track', 'Segment track: store an event (Order Completed / Order Refunded also record an order)');
  single('page', 'Segment page: store a page_view event');
  single('screen', 'Segment screen: store a screen_view event');
  single('group', 'Segment group: store a group event');
  single('alias', 'Segment alias: the previous id\'s anonymous events become the user\'s');
  // analytics.js (analytics-next) posts to short paths under its apiHost.
  const short: [string, MessageType][] = [['i', 'identify'], ['t', 'track'], ['p', 'page'], ['s', 'screen'], ['g', 'group'], ['a', 'alias']];
  for (const [letter, type] of short) single(type, `analytics.js short path for ${type}`, `/v1/${letter}`, true);

  app.post(
    '/v1/batch',
    {
      config: { roles: ROLES },
      schema: {
        tags: ['ingest'],
        summary: 'Segment batch: many messages of any type. Good messages are stored even when some are rejected (then 400 lists them).',
        security: [{ writeKey: [] }],
        body: BatchBody,
        response: { 200: SegmentOk },
      },
    },
    async (req, reply) => {
      const p = principal(req);
      const body = req.body;
      if (!Array.isArray(body.batch)) throw badRequest('batch must be an array of messages', 'batch', 'invalid');
      const r = await ingestMessages(app.deps.store.db, { workspaceId: p.workspaceId, actor: p.actor, now: app.deps.now() }, body.batch, {
        forcedType: null,
        batchSentAt: body.sentAt,
        fieldPrefix: (i) => `batch[${i}]`,
      });
      return answer(reply, r);
    },
  );
  // Segment's older import endpoint, and analytics.js's batching path, are the batch endpoint under other names.
  for (const path of ['/v1/import', '/v1/b']) app.post(
    path,
    { config: { roles: ROLES }, schema: { hide: true, body: BatchBody } },
    async (req, reply) => {
      const p = principal(req);
      const r = await ingestMessages(app.deps.store.db, { workspaceId: p.workspaceId, actor: p.actor, now: app.deps.now() }, req.body.batch, {
        forcedType: null,
        batchSentAt: req.body.sentAt,
        fieldPrefix: (i) => `batch[${i}]`,
      });
      return answer(reply, r);
    },
  );
}

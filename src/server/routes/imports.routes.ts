// File imports over HTTP: POST /api/imports/:entity with the file as
// multipart/form-data (field "file"; an optional "mapping" field with the JSON
// mapping must come before it). The upload is streamed into the import, never
// buffered whole (an XLSX is spooled to a temporary file: zips are read from
// the end).
import { Transform } from 'node:stream';
import multipart from '@fastify/multipart';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { ENTITIES, type ImportEntity } from '../../core/imports/entities.ts';
import { runImport } from '../../core/imports/import.service.ts';
import { type ExplicitMapping, parseMappingJson } from '../../core/imports/mapping.ts';
import { ENCODINGS, type Encoding } from '../../core/imports/reader.ts';
import { principal } from '../auth.ts';
import { AppError, badRequest } from '../errors.ts';

export async function importsRoutes(fastify: FastifyInstance): Promise<void> {
  const limit = fastify.deps.config.LIUKE_MAX_UPLOAD_BYTES;
  await fastify.register(multipart, { limits: { fileSize: limit, files: 1, fields: 5, fieldSize: 1024 * 1024 } });
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tooLarge = () =>
    new AppError(413, 'too_large', `the upload is larger than the limit of ${limit.toLocaleString('en')} bytes (LIUKE_MAX_UPLOAD_BYTES); nothing was imported`);

  app.post(
    '/api/imports/:entity',
    {
      config: { roles: ['admin', 'operator', 'analyst'] },
      schema: {
        tags: ['imports'],
        summary: 'Import a CSV or XLSX file (multipart field "file"; optional field "mapping" with {"header": "field"} before it)',
        consumes: ['multipart/form-data'],
        params: Type.Object({ entity: Type.Union(ENTITIES.map((e) => Type.Literal(e))) }),
        querystring: Type.Object(
          {
            strict: Type.Optional(Type.Boolean({ description: 'write nothing if any row is rejected' })),
            dry_run: Type.Optional(Type.Boolean({ description: 'report what would change; write nothing' })),
            encoding: Type.Optional(Type.Union(ENCODINGS.map((e) => Type.Literal(e)))),
            sheet: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (req, reply) => {
      const p = principal(req);
      if (!req.isMultipart()) throw badRequest('send the file as multipart/form-data in a field named "file"', 'file');
      let part: Awaited<ReturnType<typeof req.file>>;
      try {
        part = await req.file();
      } catch (e) {
        if ((e as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') {
          reply.header('connection', 'close');
          throw tooLarge();
        }
        throw e;
      }
      if (!part) throw badRequest('no file in the upload: send it in a multipart field named "file"', 'file');
      // Busboy ends an over-long file quietly (truncated): make that an error the
      // import sees before it commits, so nothing of a cut-off file is kept.
      const file = part.file;
      const guarded = new Transform({
        transform(chunk, _enc, cb) {
          cb(file.truncated ? tooLarge() : null, chunk);
        },
        flush(cb) {
          cb(file.truncated ? tooLarge() : null);
        },
      });
      file.on('error', (e) => guarded.destroy(e));
      // The import sees errors through its reads; this keeps a late one from going unhandled.
      guarded.on('error', () => {});
      file.pipe(guarded);
      let mapping: ExplicitMapping | undefined;
      const m = part.fields.mapping;
      const mField = Array.isArray(m) ? m[0] : m;
      if (mField && mField.type === 'field') mapping = parseMappingJson(String(mField.value), 'field "mapping"');
      try {
        return await runImport(app.deps.store, {
          workspaceId: p.workspaceId,
          entity: req.params.entity as ImportEntity,
          input: { stream: guarded, fileName: part.filename || 'upload' },
          fileName: part.filename || 'upload',
          mapping,
          encoding: req.query.encoding as Encoding | undefined,
          sheet: req.query.sheet,
          strict: req.query.strict,
          dryRun: req.query.dry_run,
          actor: p.actor,
          now: app.deps.now(),
        });
      } catch (e) {
        if ((e as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE' || (e as { code?: string }).code === 'too_large' || part.file.truncated) {
          // The rest of the body is not read: the connection cannot carry another request.
          reply.header('connection', 'close');
          throw tooLarge();
        }
        throw e;
      } finally {
        part.file.resume();
      }
    },
  );
}

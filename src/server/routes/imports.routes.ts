// File imports over HTTP: POST /api/imports/:entity with the file as
// multipart/form-data (field "file"; an optional "mapping" field with the JSON
// mapping must come before it). The upload is streamed to a temporary file,
// never buffered whole, and imported from there like a file named on the
// command line: a CSV can then take the raw path (its bytes COPYed and checked
// in SQL, which may need to read the file twice when COPY refuses it), and an
// XLSX is read from the end as zips must be. The file is removed afterwards.
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
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
      let mapping: ExplicitMapping | undefined;
      const m = part.fields.mapping;
      const mField = Array.isArray(m) ? m[0] : m;
      if (mField && mField.type === 'field') mapping = parseMappingJson(String(mField.value), 'field "mapping"');
      const fileName = part.filename || 'upload';
      const dir = await mkdtemp(path.join(tmpdir(), 'liuke-upload-'));
      // only the extension of the client's name: the reader tells CSV from XLSX by content and name
      const spooled = path.join(dir, `upload${path.extname(fileName).replace(/[^.\w]/g, '').slice(0, 8)}`);
      try {
        await pipeline(file, guarded, createWriteStream(spooled));
        return await runImport(app.deps.store, {
          workspaceId: p.workspaceId,
          entity: req.params.entity as ImportEntity,
          input: { path: spooled, fileName },
          fileName,
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
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
}

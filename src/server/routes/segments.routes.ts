// Tags and segments over HTTP: validate and preview rules, manage definitions
// (operator/admin write, every user reads), members with exports, history,
// and the tags a customer has.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { RuleSchema } from '../../core/segments/ast.ts';
import * as segments from '../../core/segments/segments.service.ts';
import { SegmentError } from '../../core/segments/segments.service.ts';
import { checkRule } from '../../core/segments/validate.ts';
import { printRule } from '../../core/segments/printer.ts';
import { customerExists } from '../../core/customers/customers.service.ts';
import { ANY_USER, principal, type Role } from '../auth.ts';
import { AppError, badRequest, conflict, notFound } from '../errors.ts';
import { DateTime, NullableDateTime } from '../schemas.ts';
import { sendTable } from '../tabular.ts';

const WRITE: Role[] = ['admin', 'operator'];
const Str = Type.Union([Type.String(), Type.Null()]);
const Num = Type.Union([Type.Number(), Type.Null()]);
const RuleInput = Type.Union([Type.String({ maxLength: 8000 }), Type.Record(Type.String(), Type.Unknown())], {
  description: 'the rule: its text form (a string) or its JSON form (an object, see RuleSchema and docs/rules.md)',
});
const RuleError = Type.Object({
  message: Type.String(),
  path: Type.String(),
  line: Type.Optional(Type.Integer()),
  column: Type.Optional(Type.Integer()),
  offset: Type.Optional(Type.Integer()),
  length: Type.Optional(Type.Integer()),
});
const Segment = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  name: Type.String(),
  name_zh: Str,
  description: Str,
  rule: Type.Unknown(),
  rule_text: Type.String(),
  builtin: Type.Boolean(),
  enabled: Type.Boolean(),
  owner: Str,
  created_by: Str,
  created_at: DateTime,
  updated_at: DateTime,
  evaluated_at: NullableDateTime,
  member_count: Type.Integer(),
  last_error: Str,
});
const Member = Type.Object({
  id: Type.String(),
  name: Str,
  tier: Str,
  lifecycle_stage: Str,
  spend_total: Num,
  orders_total: Num,
});
const Explanation = Type.Object({ en: Type.String(), zh: Type.String() });
const Kind = Type.Union([Type.Literal('tag'), Type.Literal('segment')]);
const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });

function asAppError(e: unknown): unknown {
  if (!(e instanceof SegmentError)) return e;
  if (e.code === 'not_found') return notFound(e.message.replace(/ not found$/, ''));
  if (e.code === 'conflict') return conflict(e.message, e.field);
  if (e.code === 'timeout') return new AppError(422, 'timeout', e.message);
  return badRequest(e.message, e.field, e.code);
}

async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw asAppError(e);
  }
}

export async function segmentsRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const db = () => app.deps.store.db;

  app.post(
    '/api/segments/validate',
    {
      config: { roles: ANY_USER },
      schema: {
        tags: ['segments'],
        summary: 'Check a rule (text or JSON): its JSON form and canonical text, or every error with its position',
        body: Type.Object({ rule: RuleInput }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            ok: Type.Boolean(),
            rule: Type.Optional(RuleSchema),
            text: Type.Optional(Type.String()),
            errors: Type.Optional(Type.Array(RuleError)),
          }),
        },
      },
    },
    async (req) => {
      const r = checkRule(req.body.rule);
      if (!r.ok) return { ok: false, errors: r.errors };
      return { ok: true, rule: r.value.rule as never, text: printRule(r.value.rule) };
    },
  );

  app.post(
    '/api/segments/preview',
    {
      config: { roles: ANY_USER },
      schema: {
        tags: ['segments'],
        summary: 'How many customers a rule matches now, a sample of them, and what it means in words',
        body: Type.Object({ rule: RuleInput, sample: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })) }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            text: Type.String(),
            count: Type.Integer(),
            sample: Type.Array(Member),
            explanation: Explanation,
            parts: Type.Array(Type.Object({ text: Type.String(), explanation: Explanation, count: Type.Integer() })),
          }),
        },
      },
    },
    async (req) => {
      const p = principal(req);
      return guard(() => segments.previewRule(db(), p.workspaceId, req.body.rule, app.deps.now(), { sample: req.body.sample ?? 20 }));
    },
  );

  app.get(
    '/api/segments',
    {
      config: { roles: ANY_USER },
      schema: { tags: ['segments'], summary: 'Every tag and segment of the workspace (built-ins first)', response: { 200: Type.Object({ items: Type.Array(Segment) }) } },
    },
    async (req) => ({ items: await segments.listSegments(db(), principal(req).workspaceId, app.deps.now()) }),
  );

  app.post(
    '/api/segments',
    {
      config: { roles: WRITE },
      schema: {
        tags: ['segments'],
        summary: 'Create a tag or segment (audited); the pipeline keeps its members current',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 120 }),
            name_zh: Type.Optional(Str),
            description: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])),
            kind: Type.Optional(Kind),
            rule: RuleInput,
            enabled: Type.Optional(Type.Boolean()),
            owner: Type.Optional(Str),
          },
          { additionalProperties: false },
        ),
        response: { 201: Segment },
      },
    },
    async (req, reply) => {
      const p = principal(req);
      const row = await guard(() => segments.createSegment(db(), p.workspaceId, req.body, { actor: p.actor, now: app.deps.now() }));
      return reply.status(201).send(row);
    },
  );

  app.get(
    '/api/segments/:id',
    { config: { roles: ANY_USER }, schema: { tags: ['segments'], summary: 'One tag or segment', params: Params, response: { 200: Segment } } },
    async (req) => guard(() => segments.getSegment(db(), principal(req).workspaceId, req.params.id, app.deps.now())),
  );

  app.put(
    '/api/segments/:id',
    {
      config: { roles: WRITE },
      schema: {
        tags: ['segments'],
        summary: 'Change a tag or segment (audited); built-ins may be edited and disabled',
        params: Params,
        body: Type.Object(
          {
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 120 })),
            name_zh: Type.Optional(Str),
            description: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])),
            kind: Type.Optional(Kind),
            rule: Type.Optional(RuleInput),
            enabled: Type.Optional(Type.Boolean()),
            owner: Type.Optional(Str),
          },
          { additionalProperties: false },
        ),
        response: { 200: Segment },
      },
    },
    async (req) => {
      const p = principal(req);
      return guard(() => segments.updateSegment(db(), p.workspaceId, req.params.id, req.body, { actor: p.actor, now: app.deps.now() }));
    },
  );

  app.delete(
    '/api/segments/:id',
    { config: { roles: WRITE }, schema: { tags: ['segments'], summary: 'Delete a tag or segment (built-ins can only be disabled)', params: Params } },
    async (req, reply) => {
      const p = principal(req);
      await guard(() => segments.deleteSegment(db(), p.workspaceId, req.params.id, { actor: p.actor, now: app.deps.now() }));
      return reply.status(204).send();
    },
  );

  app.get(
    '/api/segments/:id/members',
    {
      config: { roles: ANY_USER },
      schema: {
        tags: ['segments'],
        summary: 'Current members as of the last pipeline run, by customer id',
        params: Params,
        querystring: Type.Object({
          page: Type.Integer({ minimum: 1, maximum: 100_000, default: 1 }),
          page_size: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
        }),
        response: {
          200: Type.Object({
            total: Type.Integer(),
            page: Type.Integer(),
            page_size: Type.Integer(),
            items: Type.Array(Type.Object({ ...Member.properties, since: DateTime })),
          }),
        },
      },
    },
    async (req) => {
      const p = principal(req);
      return guard(() => segments.members(db(), p.workspaceId, req.params.id, req.query.page, req.query.page_size, app.deps.now()));
    },
  );

  app.get(
    '/api/segments/:id/members/export',
    {
      config: { roles: ANY_USER },
      schema: {
        tags: ['segments'],
        summary: 'Every member as a CSV or XLSX download',
        params: Params,
        querystring: Type.Object({ format: Type.Union([Type.Literal('csv'), Type.Literal('xlsx')], { default: 'csv' }) }),
      },
    },
    async (req, reply) => {
      const p = principal(req);
      const s = await guard(() => segments.getSegment(db(), p.workspaceId, req.params.id, app.deps.now()));
      const cols = ['id', 'name', 'tier', 'lifecycle_stage', 'spend_total', 'orders_total', 'since'] as const;
      return sendTable(
        reply,
        req.query.format,
        `segment-${s.id}`,
        cols.map((c) => ({ header: c, value: (r: Record<string, unknown>) => r[c] })),
        segments.allMembers(db(), p.workspaceId, s.id) as AsyncIterable<Record<string, unknown>>,
      );
    },
  );

  app.get(
    '/api/segments/:id/history',
    {
      config: { roles: ANY_USER },
      schema: {
        tags: ['segments'],
        summary: 'Who entered and left, newest first',
        params: Params,
        querystring: Type.Object({
          page: Type.Integer({ minimum: 1, maximum: 100_000, default: 1 }),
          page_size: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
        }),
        response: {
          200: Type.Object({
            page: Type.Integer(),
            page_size: Type.Integer(),
            items: Type.Array(Type.Object({ customer_id: Type.String(), at: DateTime, change: Type.String() })),
          }),
        },
      },
    },
    async (req) => {
      const p = principal(req);
      return guard(() => segments.history(db(), p.workspaceId, req.params.id, req.query.page, req.query.page_size, app.deps.now()));
    },
  );

  app.get(
    '/api/customers/:id/tags',
    {
      config: { roles: ANY_USER },
      schema: {
        tags: ['segments', 'customers'],
        summary: 'The tags and segments a customer is in, with since when',
        params: Params,
        response: {
          200: Type.Object({
            items: Type.Array(Type.Object({ id: Type.String(), kind: Type.String(), name: Type.String(), name_zh: Str, builtin: Type.Boolean(), since: DateTime })),
          }),
        },
      },
    },
    async (req) => {
      const p = principal(req);
      if (!(await customerExists(db(), p.workspaceId, req.params.id))) throw notFound(`customer ${req.params.id}`);
      return { items: await segments.customerTags(db(), p.workspaceId, req.params.id) };
    },
  );
}

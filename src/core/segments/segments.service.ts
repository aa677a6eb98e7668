// Tags and segments: validate and preview rules, keep the definitions
// (audited), evaluate memberships, list members and history.
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { analyticsSession } from '../analytics/settings.ts';
import { recordAudit } from '../audit/audit.service.ts';
import { isAnd, isOr, type Rule, type RuleError } from './ast.ts';
import { BUILTIN_TAGS } from './builtin.ts';
import type { CompileContext } from './compile.ts';
import { explainRule, printRule } from './printer.ts';
import * as repo from './segments.repository.ts';
import { checkRule, mustRule } from './validate.ts';

export type { SegmentRow } from './segments.repository.ts';

/** A problem the caller can fix: a bad rule (with positions), a missing segment, a name in use. */
export class SegmentError extends Error {
  readonly code: 'invalid_rule' | 'not_found' | 'conflict' | 'invalid' | 'timeout';
  readonly field: string | undefined;
  readonly errors: RuleError[];
  constructor(code: SegmentError['code'], message: string, field?: string, errors: RuleError[] = []) {
    super(message);
    this.code = code;
    this.field = field;
    this.errors = errors;
  }
}

/** How long a preview may run before PostgreSQL cancels it. */
export const PREVIEW_TIMEOUT_MS = 10_000;
/** How long one segment's evaluation in the pipeline may run. */
export const EVALUATE_TIMEOUT_MS = 600_000;

export async function compileContext(db: Kysely<Database>, workspaceId: number, now: Date): Promise<CompileContext> {
  const w = await db.selectFrom('workspaces').select('time_zone').where('id', '=', workspaceId).executeTakeFirst();
  return { workspaceId, now, timeZone: w?.time_zone ?? 'UTC' };
}

export interface CheckedRule {
  rule: Rule;
  text: string;
}

/** The rule from either form, or a SegmentError carrying every problem with its position. */
export function readRule(input: unknown, field = 'rule'): CheckedRule {
  const r = checkRule(input);
  if (!r.ok) {
    const first = r.errors[0]!;
    const where = first.line ? `line ${first.line}, column ${first.column}` : `${first.path}`;
    throw new SegmentError('invalid_rule', `the rule is not valid at ${where}: ${first.message}`, field, r.errors);
  }
  return { rule: r.value.rule, text: printRule(r.value.rule) };
}

export function isTimeout(e: unknown): boolean {
  return (e as { code?: string })?.code === '57014';
}

async function bounded<T>(db: Kysely<Database>, ms: number, fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  try {
    return await db.transaction().execute(async (trx) => {
      await repo.setStatementTimeout(trx, ms);
      // a rule is evaluated over every customer: hash joins and groupings of a million rows
      await analyticsSession(trx);
      return fn(trx);
    });
  } catch (e) {
    if (isTimeout(e)) throw new SegmentError('timeout', `the rule took longer than ${ms / 1000} s to evaluate: narrow it (shorter windows, fewer aggregates)`);
    throw e;
  }
}

export interface Preview {
  rule: Rule;
  text: string;
  count: number;
  sample: repo.MemberRow[];
  explanation: { en: string; zh: string };
  /** For a top-level and/or: how many customers each part matches on its own. */
  parts: { text: string; explanation: { en: string; zh: string }; count: number }[];
}

export async function previewRule(
  db: Kysely<Database>,
  workspaceId: number,
  input: unknown,
  now: Date,
  opts: { sample?: number; timeoutMs?: number } = {},
): Promise<Preview> {
  const { rule, text } = readRule(input);
  const ctx = await compileContext(db, workspaceId, now);
  return bounded(db, opts.timeoutMs ?? PREVIEW_TIMEOUT_MS, async (trx) => {
    const children = (isAnd(rule) ? rule.and : isOr(rule) ? rule.or : []).slice(0, 12);
    // the count, the parts' counts and the sample from one evaluation (it was two plus one per part)
    const { count, partCounts, sample } = await repo.previewMatching(trx, rule, children, ctx, Math.min(100, Math.max(0, opts.sample ?? 20)));
    const parts = children.map((c, i) => ({
      text: printRule(c),
      explanation: { en: explainRule(c, 'en'), zh: explainRule(c, 'zh-CN') },
      count: partCounts[i] ?? 0,
    }));
    return { rule, text, count, sample, explanation: { en: explainRule(rule, 'en'), zh: explainRule(rule, 'zh-CN') }, parts };
  });
}

/** Adds the built-in tags a workspace lacks (new workspaces, new built-ins in an upgrade). */
export async function ensureBuiltins(db: Kysely<Database>, workspaceId: number, now: Date): Promise<number> {
  const have = await repo.builtinIds(db, workspaceId);
  const missing = BUILTIN_TAGS.filter((b) => !have.has(b.id));
  if (missing.length === 0) return 0;
  const rows = missing.map((b) => {
    const { rule } = mustRule(b.rule);
    return {
      id: b.id,
      kind: 'tag' as const,
      name: b.name,
      name_zh: b.name_zh,
      description: b.description,
      rule,
      rule_text: printRule(rule),
      builtin: true,
      enabled: true,
      owner: null,
      created_by: 'system',
    };
  });
  return repo.insertMissing(db, workspaceId, rows, now);
}

export async function listSegments(db: Kysely<Database>, workspaceId: number, now: Date): Promise<repo.SegmentRow[]> {
  await ensureBuiltins(db, workspaceId, now);
  return repo.listSegments(db, workspaceId);
}

export async function getSegment(db: Kysely<Database>, workspaceId: number, id: string, now: Date): Promise<repo.SegmentRow> {
  await ensureBuiltins(db, workspaceId, now);
  const s = await repo.getSegment(db, workspaceId, id);
  if (!s) throw new SegmentError('not_found', `segment ${id} not found`);
  return s;
}

export interface SegmentInput {
  name: string;
  name_zh?: string | null;
  description?: string | null;
  kind?: 'tag' | 'segment';
  rule: unknown;
  enabled?: boolean;
  owner?: string | null;
}

function cleanName(name: string, field: string): string {
  const n = name.trim();
  if (!n) throw new SegmentError('invalid', `${field} must not be empty`, field);
  if (n.length > 120) throw new SegmentError('invalid', `${field} is limited to 120 characters`, field);
  return n;
}

export async function createSegment(
  db: Kysely<Database>,
  workspaceId: number,
  input: SegmentInput,
  ctx: { actor: string; now: Date },
): Promise<repo.SegmentRow> {
  const name = cleanName(input.name, 'name');
  const { rule, text } = readRule(input.rule);
  const id = `seg_${randomBytes(6).toString('hex')}`;
  return db.transaction().execute(async (trx) => {
    if (await repo.nameTaken(trx, workspaceId, name)) throw new SegmentError('conflict', `a tag or segment named "${name}" already exists`, 'name');
    await repo.insertSegment(
      trx,
      workspaceId,
      {
        id,
        kind: input.kind ?? 'segment',
        name,
        name_zh: input.name_zh?.trim() || null,
        description: input.description?.trim() || null,
        rule,
        rule_text: text,
        builtin: false,
        enabled: input.enabled ?? true,
        owner: input.owner ?? null,
        created_by: ctx.actor,
      },
      ctx.now,
    );
    const row = (await repo.getSegment(trx, workspaceId, id))!;
    await recordAudit(trx, { workspaceId, actor: ctx.actor, action: 'create', entity: 'segment', entityId: id, after: auditView(row), at: ctx.now });
    return row;
  });
}

function auditView(s: repo.SegmentRow) {
  return { kind: s.kind, name: s.name, name_zh: s.name_zh, description: s.description, rule_text: s.rule_text, enabled: s.enabled, owner: s.owner };
}

export async function updateSegment(
  db: Kysely<Database>,
  workspaceId: number,
  id: string,
  input: Partial<SegmentInput>,
  ctx: { actor: string; now: Date },
): Promise<repo.SegmentRow> {
  const checked = input.rule !== undefined ? readRule(input.rule) : null;
  const name = input.name !== undefined ? cleanName(input.name, 'name') : undefined;
  await ensureBuiltins(db, workspaceId, ctx.now);
  return db.transaction().execute(async (trx) => {
    const before = await repo.getSegment(trx, workspaceId, id);
    if (!before) throw new SegmentError('not_found', `segment ${id} not found`);
    if (name !== undefined && (await repo.nameTaken(trx, workspaceId, name, id))) {
      throw new SegmentError('conflict', `a tag or segment named "${name}" already exists`, 'name');
    }
    await repo.updateSegmentRow(
      trx,
      workspaceId,
      id,
      {
        ...(name !== undefined ? { name } : {}),
        ...(input.name_zh !== undefined ? { name_zh: input.name_zh?.trim() || null } : {}),
        ...(input.description !== undefined ? { description: input.description?.trim() || null } : {}),
        ...(input.kind !== undefined ? { kind: input.kind } : {}),
        ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
        ...(input.owner !== undefined ? { owner: input.owner } : {}),
        ...(checked ? { rule: checked.rule, rule_text: checked.text } : {}),
      },
      ctx.now,
    );
    const after = (await repo.getSegment(trx, workspaceId, id))!;
    await recordAudit(trx, { workspaceId, actor: ctx.actor, action: 'update', entity: 'segment', entityId: id, before: auditView(before), after: auditView(after), at: ctx.now });
    return after;
  });
}

export async function deleteSegment(db: Kysely<Database>, workspaceId: number, id: string, ctx: { actor: string; now: Date }): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const before = await repo.getSegment(trx, workspaceId, id);
    if (!before) throw new SegmentError('not_found', `segment ${id} not found`);
    if (before.builtin) throw new SegmentError('conflict', `${id} is a built-in tag: disable it (enabled = false) instead of deleting it`);
    await repo.deleteSegmentRow(trx, workspaceId, id);
    await recordAudit(trx, { workspaceId, actor: ctx.actor, action: 'delete', entity: 'segment', entityId: id, before: auditView(before), at: ctx.now });
  });
}

export interface EvaluationResult {
  segments: number;
  entered: number;
  left: number;
  failed: { id: string; error: string }[];
}

/** Evaluates every enabled tag and segment of the workspace as of `now`. */
export interface EvaluateOptions {
  progress?: (done: number, total: number) => Promise<void>;
  log?: (msg: string) => void;
  /** Each rule in its own pass and transaction (the fallback), instead of all in one. */
  oneByOne?: boolean;
  /** The time limit of one evaluation (default EVALUATE_TIMEOUT_MS). */
  timeoutMs?: number;
}

export async function evaluateAll(db: Kysely<Database>, workspaceId: number, now: Date, opts: EvaluateOptions = {}): Promise<EvaluationResult> {
  const { progress, log } = opts;
  const timeout = opts.timeoutMs ?? EVALUATE_TIMEOUT_MS;
  await ensureBuiltins(db, workspaceId, now);
  const ctx = await compileContext(db, workspaceId, now);
  const all = (await repo.listSegments(db, workspaceId)).filter((s) => s.enabled);
  const out: EvaluationResult = { segments: 0, entered: 0, left: 0, failed: [] };
  const valid: { id: string; rule: Rule }[] = [];
  for (const s of all) {
    // a stored rule is re-validated: the whitelist may have changed since it was saved
    const r = checkRule(s.rule);
    if (r.ok) {
      valid.push({ id: s.id, rule: r.value.rule });
      continue;
    }
    const msg = `the stored rule is no longer valid: ${r.errors[0]!.message}`;
    await repo.recordEvaluationError(db, workspaceId, s.id, msg);
    out.failed.push({ id: s.id, error: msg });
  }
  if (valid.length === 0) return out;
  // All rules in one pass over the customers and one transaction (docs/rules.md). If
  // that fails (a rule runs past the time limit, say), each rule is evaluated on its own,
  // so the others still get their members and the failing one its error.
  if (!opts.oneByOne) {
    await progress?.(0, valid.length);
    try {
      const r = await bounded(db, timeout, (trx) => repo.evaluateMemberships(trx, valid, ctx));
      for (const x of r.values()) {
        out.segments++;
        out.entered += x.entered;
        out.left += x.left;
      }
      await progress?.(valid.length, valid.length);
      return out;
    } catch (e) {
      log?.(`all rules in one pass failed (${(e as Error).message}); evaluating each on its own`);
    }
  }
  for (const [i, s] of valid.entries()) {
    try {
      const x = (await bounded(db, timeout, (trx) => repo.evaluateMemberships(trx, [s], ctx))).get(s.id)!;
      out.segments++;
      out.entered += x.entered;
      out.left += x.left;
    } catch (e) {
      const msg = (e as Error).message;
      await repo.recordEvaluationError(db, workspaceId, s.id, msg);
      out.failed.push({ id: s.id, error: msg });
    }
    await progress?.(i + 1, valid.length);
  }
  return out;
}

export async function members(
  db: Kysely<Database>,
  workspaceId: number,
  id: string,
  page: number,
  pageSize: number,
  now: Date,
): Promise<{ total: number; page: number; page_size: number; items: repo.MemberListRow[] }> {
  await getSegment(db, workspaceId, id, now);
  const [total, items] = await Promise.all([
    repo.countMembers(db, workspaceId, id),
    repo.listMembers(db, workspaceId, id, { limit: pageSize, offset: (page - 1) * pageSize }),
  ]);
  return { total, page, page_size: pageSize, items };
}

/** Every member, in pages by customer id, for exports. */
export async function* allMembers(db: Kysely<Database>, workspaceId: number, id: string): AsyncIterable<repo.MemberListRow> {
  let after: string | undefined;
  for (;;) {
    const rows = await repo.listMembers(db, workspaceId, id, { limit: 2000, ...(after !== undefined ? { after } : {}) });
    yield* rows;
    if (rows.length < 2000) return;
    after = rows[rows.length - 1]!.id;
  }
}

export async function history(db: Kysely<Database>, workspaceId: number, id: string, page: number, pageSize: number, now: Date) {
  await getSegment(db, workspaceId, id, now);
  return { page, page_size: pageSize, items: await repo.listHistory(db, workspaceId, id, pageSize, (page - 1) * pageSize) };
}

export function customerTags(db: Kysely<Database>, workspaceId: number, customerId: string) {
  return repo.customerSegments(db, workspaceId, customerId);
}

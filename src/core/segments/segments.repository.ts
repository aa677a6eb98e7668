// SQL for tags and segments. Every statement filters on workspace_id; rules
// arrive here already validated and compiled (compile.ts).
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Rule } from './ast.ts';
import { type CompileContext, matchingPairsSql, previewSql } from './compile.ts';

export interface SegmentRow {
  id: string;
  kind: 'tag' | 'segment';
  name: string;
  name_zh: string | null;
  description: string | null;
  rule: unknown;
  rule_text: string;
  builtin: boolean;
  enabled: boolean;
  owner: string | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
  evaluated_at: Date | null;
  member_count: number;
  last_error: string | null;
}

const COLUMNS = [
  'id',
  'kind',
  'name',
  'name_zh',
  'description',
  'rule',
  'rule_text',
  'builtin',
  'enabled',
  'owner',
  'created_by',
  'created_at',
  'updated_at',
  'evaluated_at',
  'member_count',
  'last_error',
] as const;

export async function listSegments(db: Kysely<Database>, workspaceId: number): Promise<SegmentRow[]> {
  return (await db
    .selectFrom('segments')
    .select(COLUMNS)
    .where('workspace_id', '=', workspaceId)
    .orderBy('builtin', 'desc')
    .orderBy('kind')
    .orderBy('name')
    .execute()) as SegmentRow[];
}

export async function getSegment(db: Kysely<Database>, workspaceId: number, id: string): Promise<SegmentRow | undefined> {
  return (await db.selectFrom('segments').select(COLUMNS).where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst()) as
    | SegmentRow
    | undefined;
}

export async function nameTaken(db: Kysely<Database>, workspaceId: number, name: string, exceptId?: string): Promise<boolean> {
  const r = await sql<{ id: string }>`
    select id from segments where workspace_id = ${workspaceId} and lower(name) = lower(${name})
      and (${exceptId ?? null}::text is null or id <> ${exceptId ?? null}::text) limit 1`.execute(db);
  return r.rows.length > 0;
}

export interface NewSegment {
  id: string;
  kind: 'tag' | 'segment';
  name: string;
  name_zh: string | null;
  description: string | null;
  rule: Rule;
  rule_text: string;
  builtin: boolean;
  enabled: boolean;
  owner: string | null;
  created_by: string | null;
}

export async function insertSegment(db: Kysely<Database>, workspaceId: number, s: NewSegment, now: Date): Promise<void> {
  await db
    .insertInto('segments')
    .values({ workspace_id: workspaceId, ...s, rule: JSON.stringify(s.rule), created_at: now, updated_at: now, evaluated_at: null, last_error: null })
    .execute();
}

/** Inserts the built-ins a workspace does not have yet; returns how many were added. */
export async function insertMissing(db: Kysely<Database>, workspaceId: number, rows: NewSegment[], now: Date): Promise<number> {
  if (rows.length === 0) return 0;
  const r = await db
    .insertInto('segments')
    .values(rows.map((s) => ({ workspace_id: workspaceId, ...s, rule: JSON.stringify(s.rule), created_at: now, updated_at: now, evaluated_at: null, last_error: null })))
    .onConflict((oc) => oc.doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0);
}

export async function builtinIds(db: Kysely<Database>, workspaceId: number): Promise<Set<string>> {
  const r = await db.selectFrom('segments').select('id').where('workspace_id', '=', workspaceId).where('builtin', '=', true).execute();
  return new Set(r.map((x) => x.id));
}

export async function updateSegmentRow(
  db: Kysely<Database>,
  workspaceId: number,
  id: string,
  patch: Partial<Omit<NewSegment, 'id' | 'builtin' | 'created_by'>>,
  now: Date,
): Promise<void> {
  const { rule, ...rest } = patch;
  await db
    .updateTable('segments')
    .set({ ...rest, ...(rule ? { rule: JSON.stringify(rule) } : {}), updated_at: now })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .execute();
}

export async function deleteSegmentRow(db: Kysely<Database>, workspaceId: number, id: string): Promise<void> {
  await db.deleteFrom('segments').where('workspace_id', '=', workspaceId).where('id', '=', id).execute();
}

/** Limits how long the statements of the current transaction may run (PostgreSQL and PGlite). */
export async function setStatementTimeout(db: Kysely<Database>, ms: number): Promise<void> {
  await sql`select set_config('statement_timeout', ${String(Math.max(1, Math.floor(ms)))}, true)`.execute(db);
}

export interface MemberRow {
  id: string;
  name: string | null;
  tier: string | null;
  lifecycle_stage: string | null;
  spend_total: number | null;
  orders_total: number | null;
}

/**
 * A rule's preview: how many customers it matches, how many each part matches on its own,
 * and up to `limit` of its customers with the most spend — from one pass (previewSql).
 */
export async function previewMatching(
  db: Kysely<Database>,
  rule: Rule,
  parts: readonly Rule[],
  ctx: CompileContext,
  limit: number,
): Promise<{ count: number; partCounts: number[]; sample: MemberRow[] }> {
  const r = await previewSql(rule, parts, ctx, limit).execute(db);
  const first = r.rows[0];
  return {
    count: Number(first?.n ?? 0),
    partCounts: parts.map((_, i) => Number(first?.[`n${i}`] ?? 0)),
    sample: r.rows
      .filter((x) => x.id !== null)
      .map((x) => ({ id: x.id!, name: x.name, tier: x.tier, lifecycle_stage: x.lifecycle_stage, spend_total: x.spend_total, orders_total: x.orders_total })),
  };
}

/** The matches of one evaluation of several rules (temporary, dropped at commit). */
const MATCHES = 'liuke_segment_matches';

/**
 * Evaluates segments set-based and brings their members up to date: who matches now
 * and is not a member enters, who is a member and no longer matches leaves; both are
 * recorded with `now`. One pass over the customers finds every rule's members
 * (matchingPairsSql), then one statement brings all their memberships up to date.
 * Segments whose rule matches nobody and who had no members come back with zeros.
 */
export async function evaluateMemberships(
  db: Kysely<Database>,
  segments: readonly { id: string; rule: Rule }[],
  ctx: CompileContext,
): Promise<Map<string, { members: number; entered: number; left: number }>> {
  const ws = sql`${ctx.workspaceId}::int`;
  const ids = segments.map((s) => s.id);
  const t = sql`${ctx.now}::timestamptz`;
  const m = sql.table(MATCHES);
  await sql`drop table if exists ${m}`.execute(db);
  await sql`create temporary table ${m} on commit drop as ${matchingPairsSql(segments, ctx)}`.execute(db);
  await sql`analyze ${m}`.execute(db);
  const r = await sql<{ segment_id: string; k: 'm' | 'e' | 'l'; n: number }>`
    with d as materialized (
      -- one full join finds both who left and who entered (two anti-joins hashed the 2M
      -- memberships of the built-ins at 1M customers twice)
      select coalesce(x.segment_id, sm.segment_id) as segment_id, coalesce(x.customer_id, sm.customer_id) as customer_id,
             x.customer_id is null as gone, sm.ctid as tid
      from ${m} x
      full join (select segment_id, customer_id, ctid from segment_members
                 where workspace_id = ${ws} and segment_id = any(${ids}::text[])) sm
        on sm.segment_id = x.segment_id and sm.customer_id = x.customer_id
      where x.customer_id is null or sm.customer_id is null
    ),
    gone as (
      -- by the row's address from the full join: no second search of the memberships, whatever
      -- the planner believes of their number (nothing else writes them during a run)
      delete from segment_members sm
      where sm.ctid = any(array(select tid from d where d.gone))
      returning sm.segment_id, sm.customer_id
    ),
    added as (
      insert into segment_members (workspace_id, segment_id, customer_id, since)
      select ${ws}, d.segment_id, d.customer_id, ${t} from d where not d.gone
      returning segment_id, customer_id
    ),
    ev_in as (
      insert into segment_membership_events (workspace_id, segment_id, customer_id, at, change)
      select ${ws}, segment_id, customer_id, ${t}, 'entered' from added
      on conflict do nothing
    ),
    ev_out as (
      insert into segment_membership_events (workspace_id, segment_id, customer_id, at, change)
      select ${ws}, segment_id, customer_id, ${t}, 'left' from gone
      on conflict do nothing
    )
    select segment_id, 'm' as k, count(*)::int as n from ${m} group by segment_id
    union all select segment_id, 'e', count(*)::int from added group by segment_id
    union all select segment_id, 'l', count(*)::int from gone group by segment_id`.execute(db);
  const out = new Map(ids.map((id) => [id, { members: 0, entered: 0, left: 0 }]));
  for (const row of r.rows) {
    const x = out.get(row.segment_id)!;
    if (row.k === 'm') x.members = Number(row.n);
    else if (row.k === 'e') x.entered = Number(row.n);
    else x.left = Number(row.n);
  }
  await sql`
    update segments s set evaluated_at = ${t}, member_count = v.n, last_error = null
    from unnest(${ids}::text[], ${ids.map((id) => out.get(id)!.members)}::int[]) v(id, n)
    where s.workspace_id = ${ws} and s.id = v.id`.execute(db);
  return out;
}

export async function recordEvaluationError(db: Kysely<Database>, workspaceId: number, id: string, message: string): Promise<void> {
  await db.updateTable('segments').set({ last_error: message.slice(0, 2000) }).where('workspace_id', '=', workspaceId).where('id', '=', id).execute();
}

export interface MemberListRow extends MemberRow {
  since: Date;
}

export async function listMembers(
  db: Kysely<Database>,
  workspaceId: number,
  segmentId: string,
  opts: { limit: number; offset?: number; after?: string },
): Promise<MemberListRow[]> {
  const r = await sql<MemberListRow>`
    select c.id, c.name, m.tier::text as tier, m.lifecycle_stage, m.spend_total, m.orders_total, sm.since
    from segment_members sm
    join customers c on c.workspace_id = sm.workspace_id and c.id = sm.customer_id
    left join customer_metrics m on m.workspace_id = sm.workspace_id and m.customer_id = sm.customer_id
    where sm.workspace_id = ${workspaceId}::int and sm.segment_id = ${segmentId}::text
      and (${opts.after ?? null}::text is null or sm.customer_id > ${opts.after ?? null}::text)
    order by sm.customer_id
    limit ${opts.limit}::int offset ${opts.offset ?? 0}::int`.execute(db);
  return r.rows;
}

export async function countMembers(db: Kysely<Database>, workspaceId: number, segmentId: string): Promise<number> {
  const r = await db
    .selectFrom('segment_members')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('workspace_id', '=', workspaceId)
    .where('segment_id', '=', segmentId)
    .executeTakeFirst();
  return Number(r?.n ?? 0);
}

export async function listHistory(
  db: Kysely<Database>,
  workspaceId: number,
  segmentId: string,
  limit: number,
  offset: number,
): Promise<{ customer_id: string; at: Date; change: 'entered' | 'left' }[]> {
  return db
    .selectFrom('segment_membership_events')
    .select(['customer_id', 'at', 'change'])
    .where('workspace_id', '=', workspaceId)
    .where('segment_id', '=', segmentId)
    .orderBy('at', 'desc')
    .orderBy('customer_id')
    .orderBy('change')
    .limit(limit)
    .offset(offset)
    .execute();
}

export async function customerSegments(
  db: Kysely<Database>,
  workspaceId: number,
  customerId: string,
): Promise<{ id: string; kind: 'tag' | 'segment'; name: string; name_zh: string | null; builtin: boolean; since: Date }[]> {
  return db
    .selectFrom('segment_members as sm')
    .innerJoin('segments as s', (j) => j.onRef('s.workspace_id', '=', 'sm.workspace_id').onRef('s.id', '=', 'sm.segment_id'))
    .select(['s.id', 's.kind', 's.name', 's.name_zh', 's.builtin', 'sm.since'])
    .where('sm.workspace_id', '=', workspaceId)
    .where('sm.customer_id', '=', customerId)
    .orderBy('s.kind')
    .orderBy('s.name')
    .execute();
}

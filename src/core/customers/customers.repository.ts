// Customer list, search, profile, figures and timeline: SQL only.
import { type Kysely, type RawBuilder, type Selectable, sql } from 'kysely';
import { plannedRows } from '../../db/planner.ts';
import type { CustomersTable, Database } from '../../db/schema.ts';

export const SORTS = ['id', 'name', 'registered_at', 'last_order_at', 'orders', 'spend'] as const;
export type CustomerSort = (typeof SORTS)[number];

export interface CustomerFilter {
  q?: string | undefined;
  city?: string | undefined;
  membership_level?: string | undefined;
  owner?: string | undefined;
  is_stub?: boolean | undefined;
  registered_from?: Date | undefined;
  registered_to?: Date | undefined;
  min_spend?: number | undefined;
  max_spend?: number | undefined;
}

export interface CustomerListRow {
  id: string;
  name: string | null;
  phone: string | null;
  email: string | null;
  city: string | null;
  membership_level: string | null;
  owner: string | null;
  registered_at: Date | null;
  first_order_at: Date | null;
  last_order_at: Date | null;
  orders: number;
  spend: number;
}

/** A search collects this many matches at most (in index order) before filtering and sorting: q is for finding people, and a broader q should be refined. */
export const SEARCH_CAP = 1_000;
/** Totals are counted exactly up to this; above it the planner's estimate is given. */
export const COUNT_CAP = 1_000;

/** `with m as (…search matches…)` when there is a q. */
function withMatches(workspaceId: number, f: CustomerFilter): RawBuilder<unknown> {
  // One more than the cap, so the count can tell that the search was cut off.
  return f.q ? sql`with m as materialized (${searchMatches(workspaceId, f.q, SEARCH_CAP + 1)}) ` : sql``;
}

const likePrefix = (s: string) => `${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * What q matches, each through its own index: id prefix (so the exact id
 * too), phone prefix, phone suffix (4+ digits, e.g. the last four), email
 * prefix and name prefix, case-insensitive. No "contains": it would need
 * pg_trgm, which PGlite does not ship by default.
 *
 * Each way is its own branch with its own LIMIT, united: the planner then
 * estimates each prefix from that index's statistics and picks the index
 * (or, when nearly everything matches, a scan that stops at the limit). One
 * OR over all of them is estimated badly and can scan the whole table.
 */
function searchMatches(workspaceId: number, q: string, cap: number, columns: RawBuilder<unknown> = sql`c.id`): RawBuilder<{ id: string }> {
  const lower = q.toLowerCase();
  const ways: RawBuilder<unknown>[] = [sql`c.id like ${likePrefix(q)}`];
  if (/^\+?[\d\- ]+$/.test(q)) {
    const digits = q.replace(/[- ]/g, '');
    ways.push(sql`c.phone is not null and c.phone like ${likePrefix(digits)}`);
    if (/^\d{4,}$/.test(digits)) {
      ways.push(sql`c.phone is not null and reverse(c.phone) like ${likePrefix([...digits].reverse().join(''))}`);
    }
  }
  if (!/\s/.test(q)) ways.push(sql`c.email is not null and lower(c.email) like ${likePrefix(lower)}`);
  ways.push(sql`c.name is not null and lower(c.name) like ${likePrefix(lower)}`);
  const branches = ways.map((w) => sql`(select ${columns} from customers c where c.workspace_id = ${workspaceId} and ${w} limit ${cap})`);
  return sql<{ id: string }>`select * from (${sql.join(branches, sql` union `)}) u limit ${cap}`;
}

function conditions(workspaceId: number, f: CustomerFilter): RawBuilder<unknown>[] {
  const w: RawBuilder<unknown>[] = [sql`c.workspace_id = ${workspaceId}`, sql`c.merged_into is null`];
  if (f.q) w.push(sql`c.id in (select id from m)`);
  if (f.city) w.push(sql`c.city = ${f.city}`);
  if (f.membership_level) w.push(sql`c.membership_level = ${f.membership_level}`);
  if (f.owner) w.push(sql`c.owner = ${f.owner}`);
  if (f.is_stub !== undefined) w.push(sql`c.is_stub = ${f.is_stub}`);
  if (f.registered_from) w.push(sql`c.registered_at >= ${f.registered_from}`);
  if (f.registered_to) w.push(sql`c.registered_at < ${f.registered_to}`);
  if (f.min_spend !== undefined) w.push(sql`c.stats_spend >= ${f.min_spend}`);
  if (f.max_spend !== undefined) w.push(sql`coalesce(c.stats_spend, 0) <= ${f.max_spend}`);
  return w;
}

// Whitelisted ORDER BY clauses; each is served by an index on customers
// (figure sorts by the stats_* copies, migration 0010).
const ORDER_SQL: Record<CustomerSort, Record<'asc' | 'desc', string>> = {
  id: { asc: 'c.id asc', desc: 'c.id desc' },
  name: { asc: 'c.name asc, c.id asc', desc: 'c.name desc, c.id desc' },
  registered_at: { asc: 'c.registered_at asc, c.id asc', desc: 'c.registered_at desc, c.id desc' },
  last_order_at: { asc: 'c.stats_last_order_at asc, c.id asc', desc: 'c.stats_last_order_at desc, c.id desc' },
  orders: { asc: 'c.stats_orders asc, c.id asc', desc: 'c.stats_orders desc, c.id desc' },
  spend: { asc: 'c.stats_spend asc, c.id asc', desc: 'c.stats_spend desc, c.id desc' },
};
// A figure sort lists only customers with figures (refreshed at least once); the
// condition is on the sorted column so the index still drives the order.
const STATS_ONLY: Partial<Record<CustomerSort, string>> = {
  last_order_at: 'c.stats_orders is not null',
  orders: 'c.stats_orders is not null',
  spend: 'c.stats_spend is not null',
};

export interface ListOptions {
  sort: CustomerSort;
  order: 'asc' | 'desc';
  limit: number;
  offset: number;
}

const LIST_COLUMNS = sql`c.id, c.name, c.phone, c.email, c.city, c.membership_level, c.owner, c.registered_at,
  c.stats_first_order_at as first_order_at, c.stats_last_order_at as last_order_at,
  coalesce(c.stats_orders, 0) as orders, coalesce(c.stats_spend, 0) as spend`;

/** What a search collects per match when the list filters and sorts the matches itself. */
const MATCH_COLUMNS = sql`c.workspace_id, c.id, c.name, c.phone, c.email, c.city, c.membership_level, c.owner, c.registered_at,
  c.is_stub, c.merged_into, c.stats_first_order_at, c.stats_last_order_at, c.stats_orders, c.stats_spend`;

/**
 * One page of customers and how many match (counted up to COUNT_CAP + 1), in
 * one round trip. With q, matches are first collected (at most SEARCH_CAP)
 * through the search indexes, then filtered and sorted. Everything is read
 * from customers alone: the figures are the stats_* copies refreshCustomerStats
 * keeps, so filter and sort share one index.
 */
export async function listPage(
  db: Kysely<Database>,
  workspaceId: number,
  f: CustomerFilter,
  o: ListOptions,
): Promise<{ rows: CustomerListRow[]; counted: number }> {
  // With q the matches are collected as whole rows (the search branches read
  // them anyway), then filtered, counted and sorted from there: no second
  // lookup of up to SEARCH_CAP customers for the count and again for the page.
  const from = f.q ? sql`m c` : sql`customers c`;
  const where = f.q ? conditions(workspaceId, { ...f, q: undefined }) : conditions(workspaceId, f);
  const pageWhere = STATS_ONLY[o.sort] ? [...where, sql.raw(STATS_ONLY[o.sort]!)] : where;
  const ctes = [
    ...(f.q ? [sql`m as materialized (${searchMatches(workspaceId, f.q, SEARCH_CAP + 1, MATCH_COLUMNS)})`] : []),
    sql`n as (select count(*) as n from (select 1 from ${from} where ${sql.join(where, sql` and `)} limit ${COUNT_CAP + 1}) x)`,
  ];
  const r = await sql<CustomerListRow & { counted: number }>`
    with ${sql.join(ctes, sql`, `)}
    select n.n as counted, p.* from n left join lateral (
      select ${LIST_COLUMNS}
      from ${from}
      where ${sql.join(pageWhere, sql` and `)}
      order by ${sql.raw(ORDER_SQL[o.sort][o.order])}
      limit ${o.limit} offset ${o.offset}
    ) p on true`.execute(db);
  const counted = Number(r.rows[0]?.counted ?? 0);
  const rows = r.rows.filter((x) => x.id !== null).map(({ counted: _n, ...row }) => row);
  return { rows, counted };
}

/** Planner estimates by filter, per process: they change only when the table is analysed. */
const estimates = new Map<string, { total: number; at: number }>();
const ESTIMATE_TTL_MS = 60_000;

/**
 * The total for a page: `counted` when at most COUNT_CAP matched (exact),
 * otherwise the planner's estimate from table statistics (cached a minute
 * per filter in this process).
 */
export async function totalOf(
  db: Kysely<Database>,
  workspaceId: number,
  f: CustomerFilter,
  counted: number,
  now: Date,
): Promise<{ total: number; exact: boolean }> {
  if (counted <= COUNT_CAP) return { total: counted, exact: true };
  const key = JSON.stringify([workspaceId, f]);
  const hit = estimates.get(key);
  if (hit && now.getTime() - hit.at < ESTIMATE_TTL_MS) return { total: hit.total, exact: false };
  const estimate = Math.round(
    await plannedRows(db, sql`${withMatches(workspaceId, f)} select 1 from customers c where ${sql.join(conditions(workspaceId, f), sql` and `)}`),
  );
  const total = Math.max(COUNT_CAP + 1, f.q ? Math.min(estimate, SEARCH_CAP) : estimate);
  if (estimates.size >= 1_000) estimates.clear();
  estimates.set(key, { total, at: now.getTime() });
  return { total, exact: false };
}

/** Every matching customer in keyset batches (for exports), id order. */
export async function* streamCustomers(db: Kysely<Database>, workspaceId: number, f: CustomerFilter, batch = 5000): AsyncGenerator<CustomerListRow> {
  let after: string | null = null;
  const where = conditions(workspaceId, f);
  for (;;) {
    const r: { rows: CustomerListRow[] } = await sql<CustomerListRow>`
      ${withMatches(workspaceId, f)}
      select ${LIST_COLUMNS}
      from customers c
      where ${sql.join(where, sql` and `)} ${after === null ? sql`` : sql`and c.id > ${after}`}
      order by c.id
      limit ${batch}`.execute(db);
    yield* r.rows;
    if (r.rows.length < batch) return;
    after = r.rows[r.rows.length - 1]!.id;
  }
}

export function findCustomer(db: Kysely<Database>, workspaceId: number, id: string) {
  return db.selectFrom('customers').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
}

export interface CustomerFigures {
  first_order_at: Date | null;
  last_order_at: Date | null;
  orders: number;
  spend: number;
  average_order_value: number | null;
  refunded_orders: number;
  open_tickets: number;
  last_nps: number | null;
  last_csat: number | null;
  events_30d: number;
}

/** The figures query for one customer: every figure is an indexed range over their own rows. */
function figuresSql(workspaceId: number, id: string, now: Date): RawBuilder<CustomerFigures> {
  const since = new Date(now.getTime() - 30 * 86_400_000);
  return sql<CustomerFigures>`
    select o.first_order_at, o.last_order_at, o.orders, o.spend,
           case when o.orders > 0 then round(o.spend / o.orders, 2) end as average_order_value,
           o.refunded_orders,
           (select count(*) from tickets t where t.workspace_id = ${workspaceId} and t.customer_id = ${id}
              and t.status in ('open', 'pending', 'reopened')) as open_tickets,
           (select s.nps from survey_responses s where s.workspace_id = ${workspaceId} and s.customer_id = ${id} and s.nps is not null
              order by s.responded_at desc limit 1) as last_nps,
           (select s.csat from survey_responses s where s.workspace_id = ${workspaceId} and s.customer_id = ${id} and s.csat is not null
              order by s.responded_at desc limit 1) as last_csat,
           (select count(*) from events e where e.workspace_id = ${workspaceId} and e.customer_id = ${id}
              and e.occurred_at >= ${since}) as events_30d
    from (
      select min(ordered_at) filter (where status = 'paid') as first_order_at,
             max(ordered_at) filter (where status = 'paid') as last_order_at,
             count(*) filter (where status = 'paid') as orders,
             coalesce(sum(amount) filter (where status = 'paid'), 0) as spend,
             count(*) filter (where status <> 'paid') as refunded_orders
      from orders where workspace_id = ${workspaceId} and customer_id = ${id}
    ) o`;
}

function figuresOf(f: CustomerFigures): CustomerFigures {
  return {
    ...f,
    orders: Number(f.orders),
    spend: Number(f.spend),
    average_order_value: f.average_order_value === null ? null : Number(f.average_order_value),
    refunded_orders: Number(f.refunded_orders),
    open_tickets: Number(f.open_tickets),
    events_30d: Number(f.events_30d),
  };
}

/** One customer's figures, live from their own rows (each an indexed range). */
export async function customerFigures(db: Kysely<Database>, workspaceId: number, id: string, now: Date): Promise<CustomerFigures> {
  const r = await figuresSql(workspaceId, id, now).execute(db);
  return figuresOf(r.rows[0]!);
}

const FIGURE_KEYS = ['first_order_at', 'last_order_at', 'orders', 'spend', 'average_order_value', 'refunded_orders', 'open_tickets', 'last_nps', 'last_csat', 'events_30d'] as const;

/** The customer row and their live figures in one round trip (the 360 view); undefined for an unknown id. */
export async function findCustomerWithFigures(
  db: Kysely<Database>,
  workspaceId: number,
  id: string,
  now: Date,
): Promise<{ customer: Selectable<CustomersTable>; figures: CustomerFigures } | undefined> {
  const r = await sql<Record<string, unknown>>`
    select c.*, ${sql.join(FIGURE_KEYS.map((k) => sql`f.${sql.ref(k)} as ${sql.ref(`fig_${k}`)}`))}
    from customers c cross join lateral (${figuresSql(workspaceId, id, now)}) f
    where c.workspace_id = ${workspaceId} and c.id = ${id}`.execute(db);
  const row = r.rows[0];
  if (!row) return undefined;
  const figures: Record<string, unknown> = {};
  const customer: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    if (k.startsWith('fig_')) figures[k.slice(4)] = v;
    else customer[k] = v;
  }
  return { customer: customer as unknown as Selectable<CustomersTable>, figures: figuresOf(figures as unknown as CustomerFigures) };
}

export const TIMELINE_TYPES = ['order', 'event', 'ticket', 'survey'] as const;
export type TimelineType = (typeof TIMELINE_TYPES)[number];

export interface TimelineRow {
  type: TimelineType;
  at: Date;
  at_key: string;
  id: string;
  title: string | null;
  detail: Record<string, unknown>;
}

export interface TimelineCursor {
  at: string;
  type: string;
  id: string;
}

const AT_KEY = (col: string) => sql.raw(`to_char(${col} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`);

/**
 * A customer's history, newest first, as one UNION ALL over orders, events,
 * tickets and surveys. Keyset paging on (at, type, id): each branch takes
 * only its own first `limit` rows after the cursor through its
 * (workspace_id, customer_id, time) index.
 */
export async function timeline(
  db: Kysely<Database>,
  workspaceId: number,
  customerId: string,
  types: readonly TimelineType[],
  before: TimelineCursor | null,
  limit: number,
): Promise<TimelineRow[] | null> {
  const after = (col: string, type: TimelineType, idCol: string) =>
    before
      ? sql`and ${sql.raw(col)} <= ${before.at}::timestamptz and (${sql.raw(col)}, ${type}::text, ${sql.raw(idCol)}) < (${before.at}::timestamptz, ${before.type}::text, ${before.id}::text)`
      : sql``;
  const branches: RawBuilder<unknown>[] = [];
  if (types.includes('order')) {
    branches.push(sql`(select 'order'::text as type, o.ordered_at as at, ${AT_KEY('o.ordered_at')} as at_key, o.id, o.status as title,
        jsonb_build_object('amount', o.amount, 'discount', o.discount, 'status', o.status, 'store', o.store, 'channel', o.channel, 'coupon_code', o.coupon_code,
          'lines', (select coalesce(jsonb_agg(jsonb_build_object('product_id', l.product_id, 'category', l.category, 'quantity', l.quantity, 'price', l.price) order by l.line_no), '[]'::jsonb)
                    from order_lines l where l.workspace_id = o.workspace_id and l.order_id = o.id)) as detail
      from orders o where o.workspace_id = ${workspaceId} and o.customer_id = ${customerId} ${after('o.ordered_at', 'order', 'o.id')}
      order by o.ordered_at desc, o.id desc limit ${limit})`);
  }
  if (types.includes('event')) {
    branches.push(sql`(select 'event'::text as type, e.occurred_at as at, ${AT_KEY('e.occurred_at')} as at_key, e.message_id as id, e.type as title, e.properties as detail
      from events e where e.workspace_id = ${workspaceId} and e.customer_id = ${customerId} ${after('e.occurred_at', 'event', 'e.message_id')}
      order by e.occurred_at desc, e.message_id desc limit ${limit})`);
  }
  if (types.includes('ticket')) {
    branches.push(sql`(select 'ticket'::text as type, t.created_at as at, ${AT_KEY('t.created_at')} as at_key, t.id, coalesce(t.subject, t.category, t.kind) as title,
        jsonb_build_object('kind', t.kind, 'category', t.category, 'priority', t.priority, 'status', t.status, 'channel', t.channel, 'owner', t.owner,
          'body', t.body, 'resolved_at', t.resolved_at, 'csat', t.csat) as detail
      from tickets t where t.workspace_id = ${workspaceId} and t.customer_id = ${customerId} ${after('t.created_at', 'ticket', 't.id')}
      order by t.created_at desc, t.id desc limit ${limit})`);
  }
  if (types.includes('survey')) {
    branches.push(sql`(select 'survey'::text as type, s.responded_at as at, ${AT_KEY('s.responded_at')} as at_key, s.id, s.survey as title,
        jsonb_build_object('nps', s.nps, 'csat', s.csat, 'churn_reason', s.churn_reason, 'text', s.text) as detail
      from survey_responses s where s.workspace_id = ${workspaceId} and s.customer_id = ${customerId} ${after('s.responded_at', 'survey', 's.id')}
      order by s.responded_at desc, s.id desc limit ${limit})`);
  }
  // Whether the customer exists comes back in the same round trip: null for an unknown id.
  const found = sql`(select true from customers c where c.workspace_id = ${workspaceId} and c.id = ${customerId})`;
  if (branches.length === 0) {
    const r = await sql<{ found: boolean | null }>`select ${found} as found`.execute(db);
    return r.rows[0]?.found ? [] : null;
  }
  const r = await sql<TimelineRow & { found: boolean | null }>`
    select ${found} as found, t.* from (select 1) one left join lateral (
      select * from (${sql.join(branches, sql` union all `)}) t
      order by at desc, type desc, id desc
      limit ${limit}
    ) t on true
    order by t.at desc, t.type desc, t.id desc`.execute(db);
  if (!r.rows[0]?.found) return null;
  return r.rows.filter((x) => x.id !== null).map(({ found: _f, ...row }) => row);
}

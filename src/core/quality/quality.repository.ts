// SQL for the data-quality report: one set-based pass per table, with FILTER
// clauses so each table is read once however many checks look at it.
// Every query takes the workspace id and the clock (`now`) as parameters.
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';

type Db = Kysely<Database>;

/** Fields whose completeness is measured, in report order. Also a whitelist for SQL. */
export const COMPLETENESS_FIELDS = [
  'name',
  'phone',
  'email',
  'gender',
  'birthday',
  'region',
  'city',
  'registered_at',
  'acquisition_channel',
  'membership_level',
  'owner',
  'consent',
] as const;
export type CompletenessField = (typeof COMPLETENESS_FIELDS)[number];

// How "non-empty" reads for each field: text must hold more than blanks, consent
// must name at least one channel. Identifiers come from this table only.
const FILLED: Record<CompletenessField, string> = {
  name: `nullif(btrim(name), '') is not null`,
  phone: `nullif(btrim(phone), '') is not null`,
  email: `nullif(btrim(email), '') is not null`,
  gender: 'gender is not null',
  birthday: 'birthday is not null',
  region: `nullif(btrim(region), '') is not null`,
  city: `nullif(btrim(city), '') is not null`,
  registered_at: 'registered_at is not null',
  acquisition_channel: `nullif(btrim(acquisition_channel), '') is not null`,
  membership_level: `nullif(btrim(membership_level), '') is not null`,
  owner: `nullif(btrim(owner), '') is not null`,
  consent: `consent <> '{}'::jsonb`,
};

// A "profile" is a customer that is neither merged into another nor erased:
// the rows whose contact data means something.
const PROFILE = 'merged_into is null and erased_at is null';

export interface CustomerStats {
  customers: number;
  merged: number;
  stubs: number;
  erased: number;
  profiles: number;
  noRegisteredAt: number;
  noBirthday: number;
  futureBirthday: number;
  futureRegisteredAt: number;
  filled: Record<CompletenessField, number>;
}

export async function customerStats(db: Db, workspaceId: number, now: Date): Promise<CustomerStats> {
  const filledCols = COMPLETENESS_FIELDS.map((f) => `count(*) filter (where ${PROFILE} and ${FILLED[f]}) as "f_${f}"`).join(',\n  ');
  // "Today" for birthdays is the workspace's calendar day, not UTC's.
  const r = await sql<Record<string, number>>`
    select
      count(*) filter (where merged_into is null) as customers,
      count(*) filter (where merged_into is not null) as merged,
      count(*) filter (where merged_into is null and is_stub) as stubs,
      count(*) filter (where merged_into is null and erased_at is not null) as erased,
      count(*) filter (where ${sql.raw(PROFILE)}) as profiles,
      count(*) filter (where ${sql.raw(PROFILE)} and registered_at is null) as no_registered_at,
      count(*) filter (where ${sql.raw(PROFILE)} and birthday is null) as no_birthday,
      count(*) filter (where ${sql.raw(PROFILE)} and birthday > (
        select (${now.toISOString()}::timestamptz at time zone w.time_zone)::date from workspaces w where w.id = ${workspaceId}
      )) as future_birthday,
      count(*) filter (where ${sql.raw(PROFILE)} and registered_at > ${now.toISOString()}::timestamptz) as future_registered_at,
      ${sql.raw(filledCols)}
    from customers
    where workspace_id = ${workspaceId}`.execute(db);
  const row = r.rows[0] ?? {};
  const n = (k: string) => Number(row[k] ?? 0);
  const filled = {} as Record<CompletenessField, number>;
  for (const f of COMPLETENESS_FIELDS) filled[f] = n(`f_${f}`);
  return {
    customers: n('customers'),
    merged: n('merged'),
    stubs: n('stubs'),
    erased: n('erased'),
    profiles: n('profiles'),
    noRegisteredAt: n('no_registered_at'),
    noBirthday: n('no_birthday'),
    futureBirthday: n('future_birthday'),
    futureRegisteredAt: n('future_registered_at'),
    filled,
  };
}

export interface OrderStats {
  orders: number;
  amount: number;
  refunded: number;
  returned: number;
  refundAmount: number;
  future: number;
  before2000: number;
  positive: number;
  /** Quartiles and 99.9th percentile of positive amounts (null without orders). */
  q1: number | null;
  q3: number | null;
  p999: number | null;
}

export const EARLIEST_PLAUSIBLE_ORDER = '2000-01-01T00:00:00Z';

export async function orderStats(db: Db, workspaceId: number, now: Date): Promise<OrderStats> {
  // percentile_disc over float8 (faster to sort than numeric); one sort for all three.
  const r = await sql<Record<string, number | null>>`
    select
      count(*) as orders,
      coalesce(sum(amount), 0) as amount,
      count(*) filter (where status = 'refunded') as refunded,
      count(*) filter (where status = 'returned') as returned,
      coalesce(sum(amount) filter (where status <> 'paid'), 0) as refund_amount,
      count(*) filter (where ordered_at > ${now.toISOString()}::timestamptz) as future,
      count(*) filter (where ordered_at < ${EARLIEST_PLAUSIBLE_ORDER}::timestamptz) as before2000,
      count(*) filter (where amount > 0) as positive,
      percentile_disc(array[0.25, 0.75, 0.999]::float8[]) within group (order by amount::float8)
        filter (where amount > 0) as q
    from orders
    where workspace_id = ${workspaceId}`.execute(db);
  const row = (r.rows[0] ?? {}) as Record<string, unknown>;
  const n = (k: string) => Number(row[k] ?? 0);
  const q = (row.q as number[] | string | null) ?? null;
  const qs = parseFloatArray(q);
  return {
    orders: n('orders'),
    amount: n('amount'),
    refunded: n('refunded'),
    returned: n('returned'),
    refundAmount: n('refund_amount'),
    future: n('future'),
    before2000: n('before2000'),
    positive: n('positive'),
    q1: qs?.[0] ?? null,
    q3: qs?.[1] ?? null,
    p999: qs?.[2] ?? null,
  };
}

/** node-postgres parses float8[]; PGlite may hand back '{1,2,3}'. Accept both. */
function parseFloatArray(v: number[] | string | null): number[] | null {
  if (v === null) return null;
  if (Array.isArray(v)) return v.map(Number);
  return v
    .replace(/[{}]/g, '')
    .split(',')
    .filter((s) => s !== '' && s !== 'NULL')
    .map(Number);
}

export interface OrderRef {
  id: string;
  customerId: string;
  amount: number;
  orderedAt: string;
}

/** Orders above `threshold`: how many, and the largest few. */
export async function ordersAbove(db: Db, workspaceId: number, threshold: number, top: number): Promise<{ count: number; top: OrderRef[] }> {
  // count(*) over () counts every match before the LIMIT: one scan for both.
  const r = await sql<{ id: string; customer_id: string; amount: number; ordered_at: Date; n: number }>`
    select id, customer_id, amount, ordered_at, count(*) over () as n
    from orders
    where workspace_id = ${workspaceId} and amount > ${threshold}
    order by amount desc, id
    limit ${top}`.execute(db);
  return {
    count: Number(r.rows[0]?.n ?? 0),
    top: r.rows.map((o) => ({ id: o.id, customerId: o.customer_id, amount: Number(o.amount), orderedAt: new Date(o.ordered_at).toISOString() })),
  };
}

export interface ActivityStats {
  products: number;
  orderLines: number;
  events: number;
  futureEvents: number;
  tickets: number;
  futureTickets: number;
  surveyResponses: number;
  futureSurveyResponses: number;
  referrals: number;
  coupons: number;
}

export async function activityStats(db: Db, workspaceId: number, now: Date): Promise<ActivityStats> {
  const at = now.toISOString();
  const r = await sql<Record<string, number>>`
    select
      (select count(*) from products where workspace_id = ${workspaceId}) as products,
      (select count(*) from order_lines where workspace_id = ${workspaceId}) as order_lines,
      e.n as events, e.future as future_events,
      t.n as tickets, t.future as future_tickets,
      s.n as survey_responses, s.future as future_survey_responses,
      (select count(*) from referrals where workspace_id = ${workspaceId}) as referrals,
      (select count(*) from coupons where workspace_id = ${workspaceId}) as coupons
    from
      (select count(*) as n, count(*) filter (where occurred_at > ${at}::timestamptz) as future
         from events where workspace_id = ${workspaceId}) e,
      (select count(*) as n, count(*) filter (where created_at > ${at}::timestamptz) as future
         from tickets where workspace_id = ${workspaceId}) t,
      (select count(*) as n, count(*) filter (where responded_at > ${at}::timestamptz) as future
         from survey_responses where workspace_id = ${workspaceId}) s`.execute(db);
  const row = r.rows[0] ?? {};
  const n = (k: string) => Number(row[k] ?? 0);
  return {
    products: n('products'),
    orderLines: n('order_lines'),
    events: n('events'),
    futureEvents: n('future_events'),
    tickets: n('tickets'),
    futureTickets: n('future_tickets'),
    surveyResponses: n('survey_responses'),
    futureSurveyResponses: n('future_survey_responses'),
    referrals: n('referrals'),
    coupons: n('coupons'),
  };
}

/** How far an order's amount may stray from the sum of its lines: the larger of 1.00 and 1%. */
export const LINE_TOLERANCE_ABS = 1;
export const LINE_TOLERANCE_REL = 0.01;

export interface LineStats {
  orphanLines: number;
  orphanOrderIds: number;
  mismatchedOrders: number;
  orphanSample: { orderId: string; lines: number }[];
  mismatchSample: { orderId: string; amount: number; discount: number; linesTotal: number }[];
}

/**
 * One pass over order_lines: lines are summed per order once, joined to orders,
 * and only the problem rows are kept — orphans (no order) and mismatches
 * (amount ≠ lines beyond the tolerance, with or without the discount). Counts
 * and samples then come from that (usually tiny) set.
 */
export async function lineStats(db: Db, workspaceId: number, sample: number): Promise<LineStats> {
  const r = await sql<{
    kind: 'orphans' | 'orphan' | 'mismatches' | 'mismatch';
    order_id: string | null;
    lines: number;
    amount: number | null;
    discount: number | null;
    lines_total: number | null;
    n: number;
  }>`
    with l as (
      select order_id, sum(quantity * price) as lines_total, count(*) as lines
      from order_lines where workspace_id = ${workspaceId} group by order_id
    ), bad as materialized (
      select l.order_id, l.lines, l.lines_total, o.id is null as orphan, o.amount, o.discount
      from l left join orders o on o.workspace_id = ${workspaceId} and o.id = l.order_id
      where o.id is null or (
        abs(o.amount - l.lines_total) > greatest(${LINE_TOLERANCE_ABS}::numeric, ${LINE_TOLERANCE_REL}::numeric * l.lines_total)
        and abs(o.amount + o.discount - l.lines_total) > greatest(${LINE_TOLERANCE_ABS}::numeric, ${LINE_TOLERANCE_REL}::numeric * l.lines_total))
    )
    select 'orphans' as kind, null as order_id, coalesce(sum(lines), 0) as lines, null::numeric as amount, null::numeric as discount,
           null::numeric as lines_total, count(*) as n from bad where orphan
    union all
    (select 'orphan', order_id, lines, null, null, null, 0 from bad where orphan order by order_id limit ${sample})
    union all
    select 'mismatches', null, 0, null, null, null, count(*) from bad where not orphan
    union all
    (select 'mismatch', order_id, lines, amount, discount, lines_total, 0 from bad where not orphan
     order by abs(amount - lines_total) desc, order_id limit ${sample})`.execute(db);
  const out: LineStats = { orphanLines: 0, orphanOrderIds: 0, mismatchedOrders: 0, orphanSample: [], mismatchSample: [] };
  for (const x of r.rows) {
    if (x.kind === 'orphans') {
      out.orphanLines = Number(x.lines);
      out.orphanOrderIds = Number(x.n);
    } else if (x.kind === 'mismatches') out.mismatchedOrders = Number(x.n);
    else if (x.kind === 'orphan') out.orphanSample.push({ orderId: x.order_id!, lines: Number(x.lines) });
    else out.mismatchSample.push({ orderId: x.order_id!, amount: Number(x.amount), discount: Number(x.discount), linesTotal: Number(x.lines_total) });
  }
  return out;
}

// ---- duplicate identities ---------------------------------------------------

export type DuplicateKey = 'phone' | 'email';
// The grouping expression per key; `lower(email)` and `phone` match the customers_email_prefix
// and customers_phone_prefix indexes (text_pattern_ops also answers equality: migration 0027).
const KEY_EXPR: Record<DuplicateKey, { expr: string; present: string }> = {
  phone: { expr: 'phone', present: `phone is not null and btrim(phone) <> ''` },
  email: { expr: 'lower(email)', present: `email is not null and btrim(email) <> ''` },
};

function keyExpr(by: DuplicateKey) {
  const k = KEY_EXPR[by];
  if (!k) throw new Error(`unknown duplicate key ${String(by)}`);
  return k;
}

export async function duplicateSummary(db: Db, workspaceId: number, by: DuplicateKey): Promise<{ groups: number; customers: number }> {
  const k = keyExpr(by);
  const r = await sql<{ groups: number; customers: number }>`
    select count(*) as groups, coalesce(sum(n), 0) as customers from (
      select ${sql.raw(k.expr)} as key, count(*) as n from customers
      where workspace_id = ${workspaceId} and ${sql.raw(PROFILE)} and ${sql.raw(k.present)}
      group by 1 having count(*) > 1) g`.execute(db);
  return { groups: Number(r.rows[0]?.groups ?? 0), customers: Number(r.rows[0]?.customers ?? 0) };
}

export interface DuplicateMember {
  id: string;
  name: string | null;
  phone: string | null;
  email: string | null;
  isStub: boolean;
  registeredAt: string | null;
  createdAt: string;
}

export interface DuplicateGroup {
  by: DuplicateKey;
  key: string;
  /** Members in merge-target order: the first is the one a merge would keep. */
  customers: DuplicateMember[];
}

/**
 * Duplicate groups, largest first. Members are ordered as `--all-by` picks the
 * survivor: a real customer before a stub, then the earliest registration,
 * then the earliest created, then the smallest id.
 */
export async function duplicateGroups(db: Db, workspaceId: number, by: DuplicateKey, limit: number | null): Promise<DuplicateGroup[]> {
  const k = keyExpr(by);
  const r = await sql<{
    key: string;
    id: string;
    name: string | null;
    phone: string | null;
    email: string | null;
    is_stub: boolean;
    registered_at: Date | null;
    created_at: Date;
  }>`
    with g as (
      select ${sql.raw(k.expr)} as key, count(*) as n from customers
      where workspace_id = ${workspaceId} and ${sql.raw(PROFILE)} and ${sql.raw(k.present)}
      group by 1 having count(*) > 1
      order by n desc, key
      ${limit === null ? sql`` : sql`limit ${limit}`})
    select g.key, c.id, c.name, c.phone, c.email, c.is_stub, c.registered_at, c.created_at
    from g join customers c
      on c.workspace_id = ${workspaceId} and ${sql.raw(k.expr.replace(/(phone|email)/, 'c.$1'))} = g.key
      and c.merged_into is null and c.erased_at is null
    order by g.n desc, g.key, c.is_stub, c.registered_at nulls last, c.created_at, c.id`.execute(db);
  const groups: DuplicateGroup[] = [];
  for (const row of r.rows) {
    let g = groups.at(-1);
    if (!g || g.key !== row.key) {
      g = { by, key: row.key, customers: [] };
      groups.push(g);
    }
    g.customers.push({
      id: row.id,
      name: row.name,
      phone: row.phone,
      email: row.email,
      isStub: row.is_stub,
      registeredAt: row.registered_at ? new Date(row.registered_at).toISOString() : null,
      createdAt: new Date(row.created_at).toISOString(),
    });
  }
  return groups;
}

// SQL for ingestion. Every statement is set-based: a batch travels as one
// JSON parameter unpacked by jsonb_to_recordset, so a 500-message batch is a
// handful of statements whatever its size, identically on PGlite and PostgreSQL.
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';

type Db = Kysely<Database>;

export interface EventRow {
  message_id: string;
  customer_id: string | null;
  anonymous_id: string | null;
  type: string;
  occurred_at: string;
  /** when the request carrying it arrived (rows of several requests may share a statement) */
  received_at: string;
  properties: Record<string, unknown>;
}

/**
 * Inserts events, skipping message ids already stored, and in the same
 * statement creates a stub customer for every customer id not seen before.
 * Returns the message ids that are new. One statement: atomic on its own.
 */
export async function insertEvents(db: Db, workspaceId: number, rows: EventRow[]): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const r = await sql<{ message_id: string }>`
    with x as (
      select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        as x(message_id text, customer_id text, anonymous_id text, type text, occurred_at timestamptz,
             received_at timestamptz, properties jsonb)
    ), stubs as (
      insert into customers (workspace_id, id, is_stub)
      select distinct ${workspaceId}::integer, x.customer_id, true from x where x.customer_id is not null
      on conflict (workspace_id, id) do nothing
    )
    insert into events (workspace_id, message_id, customer_id, anonymous_id, type, occurred_at, received_at, properties)
    select ${workspaceId}, x.message_id, x.customer_id, x.anonymous_id, x.type, x.occurred_at, x.received_at,
           coalesce(x.properties, '{}'::jsonb)
    from x
    on conflict (workspace_id, message_id) do nothing
    returning message_id`.execute(db);
  return new Set(r.rows.map((x) => x.message_id));
}

/** Creates stub customers for ids we have not seen; returns how many were created. */
export async function insertStubCustomers(db: Db, workspaceId: number, ids: string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const r = await sql<{ id: string }>`
    insert into customers (workspace_id, id, is_stub)
    select ${workspaceId}, x.id, true
    from jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb) as x(id)
    on conflict (workspace_id, id) do nothing
    returning id`.execute(db);
  return r.rows.length;
}

export interface CustomerPatch {
  id: string;
  name: string | null;
  phone: string | null;
  email: string | null;
  gender: string | null;
  birthday: string | null;
  region: string | null;
  city: string | null;
  time_zone: string | null;
  registered_at: string | null;
  attributes: Record<string, unknown>;
}

/**
 * identify: creates or fills in customers. A known field overwrites only when
 * sent; custom traits merge into attributes; a stub becomes a real customer.
 * Erased customers are left alone (their data must not come back).
 */
export async function upsertCustomers(db: Db, workspaceId: number, now: Date, rows: CustomerPatch[]): Promise<{ inserted: number; updated: number }> {
  if (rows.length === 0) return { inserted: 0, updated: 0 };
  const r = await sql<{ inserted: boolean }>`
    insert into customers as c (workspace_id, id, name, phone, email, gender, birthday, region, city, time_zone, registered_at, attributes, is_stub, updated_at)
    select ${workspaceId}, x.id, x.name, x.phone, x.email, x.gender, x.birthday, x.region, x.city, x.time_zone, x.registered_at,
           coalesce(x.attributes, '{}'::jsonb), false, ${now.toISOString()}::timestamptz
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      as x(id text, name text, phone text, email text, gender text, birthday date, region text, city text,
           time_zone text, registered_at timestamptz, attributes jsonb)
    on conflict (workspace_id, id) do update set
      name = coalesce(excluded.name, c.name),
      phone = coalesce(excluded.phone, c.phone),
      email = coalesce(excluded.email, c.email),
      gender = coalesce(excluded.gender, c.gender),
      birthday = coalesce(excluded.birthday, c.birthday),
      region = coalesce(excluded.region, c.region),
      city = coalesce(excluded.city, c.city),
      time_zone = coalesce(excluded.time_zone, c.time_zone),
      registered_at = coalesce(excluded.registered_at, c.registered_at),
      attributes = c.attributes || excluded.attributes,
      is_stub = false,
      updated_at = excluded.updated_at
    where c.erased_at is null
    returning (xmax = 0) as inserted`.execute(db);
  const inserted = r.rows.filter((x) => x.inserted).length;
  return { inserted, updated: r.rows.length - inserted };
}

/** Earlier anonymous events of these anonymous ids now belong to the customer. */
export async function linkAnonymousEvents(db: Db, workspaceId: number, links: { anonymous_id: string; customer_id: string }[]): Promise<number> {
  if (links.length === 0) return 0;
  const r = await sql`
    update events e set customer_id = x.customer_id
    from jsonb_to_recordset(${JSON.stringify(links)}::jsonb) as x(anonymous_id text, customer_id text)
    where e.workspace_id = ${workspaceId} and e.anonymous_id = x.anonymous_id and e.customer_id is null`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

export interface OrderRow {
  id: string;
  customer_id: string;
  ordered_at: string;
  amount: number;
  discount: number;
  coupon_code: string | null;
  status: 'paid' | 'refunded' | 'returned';
  store: string | null;
  channel: string | null;
  attributes: Record<string, unknown>;
}
export interface LineRow {
  order_id: string;
  line_no: number;
  product_id: string | null;
  category: string | null;
  quantity: number;
  price: number;
}

/** Upserts orders by id: an order sent again replaces the stored one; attributes merge. */
export async function upsertOrders(db: Db, workspaceId: number, now: Date, rows: OrderRow[]): Promise<{ inserted: number; updated: number }> {
  if (rows.length === 0) return { inserted: 0, updated: 0 };
  const r = await sql<{ inserted: boolean }>`
    insert into orders as o (workspace_id, id, customer_id, ordered_at, amount, discount, coupon_code, status, store, channel, attributes, updated_at)
    select ${workspaceId}, x.id, x.customer_id, x.ordered_at, x.amount, x.discount, x.coupon_code, x.status, x.store, x.channel,
           coalesce(x.attributes, '{}'::jsonb), ${now.toISOString()}::timestamptz
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      as x(id text, customer_id text, ordered_at timestamptz, amount numeric, discount numeric, coupon_code text, status text,
           store text, channel text, attributes jsonb)
    on conflict (workspace_id, id) do update set
      customer_id = excluded.customer_id, ordered_at = excluded.ordered_at, amount = excluded.amount,
      discount = excluded.discount, coupon_code = excluded.coupon_code, status = excluded.status,
      store = excluded.store, channel = excluded.channel, attributes = o.attributes || excluded.attributes,
      updated_at = excluded.updated_at
    returning (xmax = 0) as inserted`.execute(db);
  const inserted = r.rows.filter((x) => x.inserted).length;
  return { inserted, updated: r.rows.length - inserted };
}

/**
 * A refund: marks a known order refunded (nothing else changes); an order we
 * have not seen is recorded as refunded. Returns the ids that were new.
 */
export async function refundOrders(db: Db, workspaceId: number, now: Date, rows: OrderRow[]): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const r = await sql<{ id: string; inserted: boolean }>`
    insert into orders as o (workspace_id, id, customer_id, ordered_at, amount, discount, coupon_code, status, store, channel, attributes, updated_at)
    select ${workspaceId}, x.id, x.customer_id, x.ordered_at, x.amount, x.discount, x.coupon_code, 'refunded', x.store, x.channel,
           coalesce(x.attributes, '{}'::jsonb), ${now.toISOString()}::timestamptz
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      as x(id text, customer_id text, ordered_at timestamptz, amount numeric, discount numeric, coupon_code text,
           store text, channel text, attributes jsonb)
    on conflict (workspace_id, id) do update set status = 'refunded', updated_at = excluded.updated_at
    returning id, (xmax = 0) as inserted`.execute(db);
  return new Set(r.rows.filter((x) => x.inserted).map((x) => x.id));
}

/** Replaces the lines of the given orders. */
export async function replaceOrderLines(db: Db, workspaceId: number, orderIds: string[], lines: LineRow[]): Promise<void> {
  if (orderIds.length === 0) return;
  await sql`
    delete from order_lines
    where workspace_id = ${workspaceId} and order_id in (select jsonb_array_elements_text(${JSON.stringify(orderIds)}::jsonb))`.execute(db);
  if (lines.length === 0) return;
  await sql`
    insert into order_lines (workspace_id, order_id, line_no, product_id, category, quantity, price)
    select ${workspaceId}, x.order_id, x.line_no, x.product_id, x.category, x.quantity, x.price
    from jsonb_to_recordset(${JSON.stringify(lines)}::jsonb)
      as x(order_id text, line_no integer, product_id text, category text, quantity numeric, price numeric)`.execute(db);
}

export interface ProductRow {
  id: string;
  name: string | null;
  category: string | null;
  price: number | null;
}

/** Adds products seen in e-commerce events to the catalogue; known fields fill gaps, never blank them. */
export async function upsertProducts(db: Db, workspaceId: number, now: Date, rows: ProductRow[]): Promise<void> {
  if (rows.length === 0) return;
  await sql`
    insert into products as p (workspace_id, id, name, category, price, updated_at)
    select ${workspaceId}, x.id, x.name, x.category, x.price, ${now.toISOString()}::timestamptz
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(id text, name text, category text, price numeric)
    on conflict (workspace_id, id) do update set
      name = coalesce(excluded.name, p.name), category = coalesce(excluded.category, p.category),
      price = coalesce(excluded.price, p.price), updated_at = excluded.updated_at`.execute(db);
}

export interface TicketRow {
  id: string;
  customer_id: string | null;
  kind: string;
  category: string | null;
  priority: string;
  status: string;
  channel: string | null;
  subject: string | null;
  body: string | null;
  owner: string | null;
  created_at: string;
  first_response_at: string | null;
  resolved_at: string | null;
  due_at: string | null;
  csat: number | null;
  attributes: Record<string, unknown>;
}

/** Upserts tickets by id: a ticket sent again replaces the stored one; attributes merge. */
export async function upsertTickets(db: Db, workspaceId: number, now: Date, rows: TicketRow[]): Promise<{ inserted: number; updated: number }> {
  if (rows.length === 0) return { inserted: 0, updated: 0 };
  const r = await sql<{ inserted: boolean }>`
    insert into tickets as t (workspace_id, id, customer_id, kind, category, priority, status, channel, subject, body, owner,
                              created_at, first_response_at, resolved_at, due_at, csat, attributes, updated_at)
    select ${workspaceId}, x.id, x.customer_id, x.kind, x.category, x.priority, x.status, x.channel, x.subject, x.body, x.owner,
           x.created_at, x.first_response_at, x.resolved_at, x.due_at, x.csat, coalesce(x.attributes, '{}'::jsonb),
           ${now.toISOString()}::timestamptz
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      as x(id text, customer_id text, kind text, category text, priority text, status text, channel text, subject text,
           body text, owner text, created_at timestamptz, first_response_at timestamptz, resolved_at timestamptz,
           due_at timestamptz, csat smallint, attributes jsonb)
    on conflict (workspace_id, id) do update set
      customer_id = excluded.customer_id, kind = excluded.kind, category = excluded.category, priority = excluded.priority,
      status = excluded.status, channel = excluded.channel, subject = excluded.subject, body = excluded.body,
      owner = excluded.owner, created_at = excluded.created_at, first_response_at = excluded.first_response_at,
      resolved_at = excluded.resolved_at, due_at = excluded.due_at, csat = excluded.csat,
      attributes = t.attributes || excluded.attributes, updated_at = excluded.updated_at
    returning (xmax = 0) as inserted`.execute(db);
  const inserted = r.rows.filter((x) => x.inserted).length;
  return { inserted, updated: r.rows.length - inserted };
}

export interface SurveyRow {
  id: string;
  customer_id: string | null;
  survey: string;
  responded_at: string;
  nps: number | null;
  csat: number | null;
  churn_reason: string | null;
  text: string | null;
  attributes: Record<string, unknown>;
}

/** Upserts survey responses by id: a response sent again replaces the stored one; attributes merge. */
export async function upsertSurveys(db: Db, workspaceId: number, now: Date, rows: SurveyRow[]): Promise<{ inserted: number; updated: number }> {
  if (rows.length === 0) return { inserted: 0, updated: 0 };
  const r = await sql<{ inserted: boolean }>`
    insert into survey_responses as s (workspace_id, id, customer_id, survey, responded_at, nps, csat, churn_reason, text, attributes, updated_at)
    select ${workspaceId}, x.id, x.customer_id, x.survey, x.responded_at, x.nps, x.csat, x.churn_reason, x.text,
           coalesce(x.attributes, '{}'::jsonb), ${now.toISOString()}::timestamptz
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      as x(id text, customer_id text, survey text, responded_at timestamptz, nps smallint, csat smallint, churn_reason text,
           text text, attributes jsonb)
    on conflict (workspace_id, id) do update set
      customer_id = excluded.customer_id, survey = excluded.survey, responded_at = excluded.responded_at, nps = excluded.nps,
      csat = excluded.csat, churn_reason = excluded.churn_reason, text = excluded.text,
      attributes = s.attributes || excluded.attributes, updated_at = excluded.updated_at
    returning (xmax = 0) as inserted`.execute(db);
  const inserted = r.rows.filter((x) => x.inserted).length;
  return { inserted, updated: r.rows.length - inserted };
}

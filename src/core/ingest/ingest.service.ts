// Ingestion: Segment messages checked one by one, mapped onto Liuke's model
// (events, customers, orders) and stored in one transaction per request, so a
// message is acknowledged only once it is durable. messageId dedupes: a
// retried batch stores nothing twice and replays no side effect.
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { recordAudit } from '../audit/audit.service.ts';
import { refreshCustomerStats } from '../customers/customers.stats.ts';
import { eventWriter } from './event-writer.ts';
import { isOrderEvent, normaliseEventName, type OrderFromEvent, orderFromEvent } from './ecommerce.ts';
import * as repo from './ingest.repository.ts';
import {
  checkMessage,
  MAX_MESSAGE_BYTES,
  MESSAGE_TYPES,
  type MessageType,
  type OrderInput,
  type SurveyInput,
  type TicketInput,
  type UpsertResult,
} from './segment.schema.ts';

export interface Rejection {
  index: number;
  /** "batch[3].event" in a batch, "event" for a single message. */
  field: string;
  message: string;
}

export interface IngestResult {
  /** Messages now stored: new ones plus retries of ones stored before. */
  accepted: number;
  /** Of those, how many were new. */
  stored: number;
  rejected: Rejection[];
}

export interface IngestContext {
  workspaceId: number;
  actor: string;
  now: Date;
}

interface Parsed {
  index: number;
  messageId: string;
  type: MessageType;
  eventType: string;
  customerId: string | null;
  anonymousId: string | null;
  occurredAt: Date;
  properties: Record<string, unknown>;
  customer?: repo.CustomerPatch;
  order?: OrderFromEvent;
  previousId?: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const idOf = (v: unknown): string | null => (typeof v === 'number' ? String(v) : typeof v === 'string' && v !== '' ? v : null);
const text = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : typeof v === 'number' ? String(v) : null);

class Reject extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

// JavaScript dates reach ±275,760 years, PostgreSQL's text form and our reports only years 1–9999:
// a date outside would otherwise fail in the database as a server error instead of naming the field.
const FIRST_YEAR = new Date(0);
FIRST_YEAR.setUTCFullYear(1, 0, 1);
const LAST_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
function inRange(d: Date): boolean {
  const t = d.getTime();
  return t >= FIRST_YEAR.getTime() && t <= LAST_TIME;
}

function parseTime(v: unknown, field: string): Date | null {
  if (v === undefined || v === null || v === '') return null;
  const d = new Date(v as string);
  if (typeof v !== 'string' || Number.isNaN(d.getTime())) throw new Reject(field, 'must be an ISO 8601 date-time');
  if (!inRange(d)) throw new Reject(field, 'must be a date-time between the years 1 and 9999');
  return d;
}

/**
 * Segment's rule: an explicit `timestamp` is used as sent; otherwise
 * originalTimestamp corrected for the client's clock skew
 * (receivedAt − (sentAt − originalTimestamp)); otherwise the time we received it.
 */
export function eventTime(msg: Obj, batchSentAt: unknown, receivedAt: Date): Date {
  const ts = parseTime(msg.timestamp, 'timestamp');
  if (ts) return ts;
  const original = parseTime(msg.originalTimestamp, 'originalTimestamp');
  if (!original) return receivedAt;
  const sentAt = parseTime(msg.sentAt, 'sentAt') ?? parseTime(batchSentAt, 'sentAt');
  if (!sentAt) return original;
  const corrected = new Date(receivedAt.getTime() - (sentAt.getTime() - original.getTime()));
  if (!inRange(corrected)) throw new Reject('sentAt', 'is so far from originalTimestamp that the corrected time leaves the years 1–9999');
  return corrected;
}

const GENDERS: Record<string, 'female' | 'male' | null> = {
  f: 'female', female: 'female', woman: 'female', w: 'female', 女: 'female', 女性: 'female',
  m: 'male', male: 'male', man: 'male', 男: 'male', 男性: 'male',
  unknown: null, '': null, 未知: null, 保密: null,
};
function gender(v: unknown): string | null {
  const t = text(v);
  if (t === null) return null;
  const g = GENDERS[t.toLowerCase()];
  return g === undefined ? 'other' : g;
}

function birthday(v: unknown): string | null {
  const t = text(v);
  if (t === null) return null;
  const m = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})/.exec(t);
  if (m) {
    const iso = `${m[1]}-${m[2]!.padStart(2, '0')}-${m[3]!.padStart(2, '0')}`;
    if (!Number.isNaN(new Date(`${iso}T00:00:00Z`).getTime())) return iso;
  }
  throw new Reject('traits.birthday', 'must be a date (YYYY-MM-DD)');
}

const hasCjk = (s: string) => /\p{Script=Han}/u.test(s);

/** Traits Liuke knows go to columns; everything else merges into customers.attributes. */
const KNOWN_TRAITS = new Set([
  'name', 'firstName', 'first_name', 'lastName', 'last_name', 'email', 'phone', 'gender', 'birthday',
  'createdAt', 'created_at', 'address',
]);

export function customerFromTraits(id: string, traits: Obj, context: Obj | undefined): repo.CustomerPatch {
  const first = text(traits.firstName ?? traits.first_name);
  const last = text(traits.lastName ?? traits.last_name);
  let name = text(traits.name);
  if (!name && (first || last)) {
    // 张 + 三 → 张三; Ada + Lovelace → Ada Lovelace
    name = first && last ? (hasCjk(first + last) ? last + first : `${first} ${last}`) : (first ?? last);
  }
  const address = isObj(traits.address) ? traits.address : {};
  const attributes: Obj = {};
  for (const [k, v] of Object.entries(traits)) if (!KNOWN_TRAITS.has(k)) attributes[k] = v;
  const restAddress = Object.fromEntries(Object.entries(address).filter(([k]) => !['city', 'state', 'region'].includes(k)));
  if (Object.keys(restAddress).length) attributes.address = restAddress;
  const created = traits.createdAt ?? traits.created_at;
  let registered: Date | null = null;
  if (typeof created === 'number') registered = new Date(created < 1e11 ? created * 1000 : created);
  else registered = parseTime(created, traits.createdAt !== undefined ? 'traits.createdAt' : 'traits.created_at');
  if (registered && (Number.isNaN(registered.getTime()) || !inRange(registered))) throw new Reject('traits.createdAt', 'must be a date-time between the years 1 and 9999');
  const email = text(traits.email);
  return {
    id,
    name,
    phone: text(traits.phone),
    email: email ? email.toLowerCase() : null,
    gender: gender(traits.gender),
    birthday: birthday(traits.birthday),
    region: text(address.state ?? address.region),
    city: text(address.city),
    time_zone: text(context?.timezone),
    registered_at: registered ? registered.toISOString() : null,
    attributes,
  };
}

/**
 * Drops NUL characters and turns lone UTF-16 surrogates into U+FFFD: PostgreSQL
 * text and jsonb can hold neither (JSON allows both), and a client that cut a
 * string in the middle of an emoji should not lose the whole event.
 */
function clean(s: string): string {
  return s.replaceAll('\u0000', '').toWellFormed();
}
function sanitize(v: unknown): unknown {
  if (typeof v === 'string') return clean(v);
  if (Array.isArray(v)) return v.map(sanitize);
  if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [clean(k), sanitize(x)]));
  return v;
}

function parseMessage(raw: unknown, forcedType: MessageType | null, batchSentAt: unknown, receivedAt: Date, index: number): Parsed {
  if (!isObj(raw)) throw new Reject('', 'must be an object');
  const json = JSON.stringify(raw);
  // A UTF-16 unit is at most 3 bytes of UTF-8: most messages need no byte count.
  if (json.length * 3 > MAX_MESSAGE_BYTES && Buffer.byteLength(json) > MAX_MESSAGE_BYTES) throw new Reject('', `is larger than ${MAX_MESSAGE_BYTES / 1024} KB, Segment's limit per message`);
  // JSON.stringify escapes exactly these two kinds as \u0000 and \udXXX (well-formed stringify), so the scan is cheap.
  const msg = (/\\u0000|\\ud[89a-f]/i.test(json) ? sanitize(raw) : raw) as Obj;
  const type = (forcedType ?? msg.type) as MessageType;
  if (!forcedType && (typeof msg.type !== 'string' || !MESSAGE_TYPES.includes(type))) {
    throw new Reject('type', `must be one of ${MESSAGE_TYPES.join(', ')}`);
  }
  const problem = checkMessage(type, msg);
  if (problem) throw new Reject(problem[0], problem[1]);
  const customerId = idOf(msg.userId);
  const anonymousId = idOf(msg.anonymousId);
  if (!customerId && !anonymousId) throw new Reject('userId', 'a userId or an anonymousId is required');
  const occurredAt = eventTime(msg, batchSentAt, receivedAt);
  // Without a messageId, the message's own content names it: a resend of the same bytes is still one event.
  const messageId = (msg.messageId as string | undefined) ?? `h_${createHash('sha256').update(json).digest('base64url').slice(0, 32)}`;
  const p: Parsed = { index, messageId, type, eventType: type, customerId, anonymousId, occurredAt, properties: {} };
  const props = isObj(msg.properties) ? msg.properties : {};
  const campaign = isObj(msg.context) && isObj(msg.context.campaign) ? { $campaign: msg.context.campaign } : {};
  switch (type) {
    case 'track': {
      const event = msg.event as string;
      p.eventType = normaliseEventName(event);
      p.properties = { ...props, $event: event, ...campaign };
      if (isOrderEvent(p.eventType) && customerId) {
        const o = orderFromEvent(p.eventType, customerId, occurredAt, props);
        if (!o.ok) throw new Reject(o.field, o.message);
        p.order = o.order;
      }
      break;
    }
    case 'page':
    case 'screen':
      p.eventType = type === 'page' ? 'page_view' : 'screen_view';
      p.properties = { ...props, ...(msg.name ? { $name: msg.name } : {}), ...(msg.category ? { $category: msg.category } : {}), ...campaign };
      break;
    case 'identify': {
      const traits = isObj(msg.traits) ? msg.traits : isObj(msg.context) && isObj(msg.context.traits) ? msg.context.traits : {};
      p.properties = traits;
      if (customerId) p.customer = customerFromTraits(customerId, traits, isObj(msg.context) ? msg.context : undefined);
      break;
    }
    case 'group':
      p.properties = { groupId: idOf(msg.groupId), ...(isObj(msg.traits) ? { traits: msg.traits } : {}) };
      break;
    case 'alias':
      p.previousId = idOf(msg.previousId) as string;
      p.properties = { previousId: p.previousId };
      break;
  }
  return p;
}

/**
 * Checks and stores Segment messages. `forcedType` is the endpoint's type
 * (/v1/track …) or null for /v1/batch, where each message names its own.
 * Rejected messages are reported, the others stored in one transaction.
 */
export async function ingestMessages(
  db: Kysely<Database>,
  ctx: IngestContext,
  messages: unknown[],
  opts: { forcedType: MessageType | null; batchSentAt?: unknown; fieldPrefix: (i: number) => string },
): Promise<IngestResult> {
  const rejected: Rejection[] = [];
  const good: Parsed[] = [];
  const seen = new Set<string>();
  for (const [i, raw] of messages.entries()) {
    try {
      const p = parseMessage(raw, opts.forcedType, opts.batchSentAt, ctx.now, i);
      if (seen.has(p.messageId)) continue; // the same message twice in one batch
      seen.add(p.messageId);
      good.push(p);
    } catch (e) {
      if (!(e instanceof Reject)) throw e;
      const prefix = opts.fieldPrefix(i);
      const field = prefix && e.field ? `${prefix}.${e.field}` : prefix || e.field;
      rejected.push({ index: i, field, message: `${field || 'message'} ${e.message}` });
    }
  }
  const accepted = messages.length - rejected.length;
  if (good.length === 0) return { accepted, stored: 0, rejected };

  const receivedAt = ctx.now.toISOString();
  const rows = good.map((p) => ({
    message_id: p.messageId,
    customer_id: p.customerId,
    anonymous_id: p.anonymousId,
    type: p.eventType,
    occurred_at: p.occurredAt.toISOString(),
    received_at: receivedAt,
    properties: p.properties,
  }));
  // The common case (track, page, screen): one statement, shared with other requests
  // arriving at the same time, committed when the promise resolves.
  if (!good.some(hasSideEffects)) {
    return { accepted, stored: await eventWriter(db).write(ctx.workspaceId, rows), rejected };
  }
  const stored = await db.transaction().execute(async (trx) => {
    const fresh = await repo.insertEvents(trx, ctx.workspaceId, rows);
    // Side effects only for messages stored just now: a retry replays nothing.
    const now = good.filter((p) => fresh.has(p.messageId));
    if (now.length === 0) return 0;
    await applySideEffects(trx, ctx, now);
    return now.length;
  });
  return { accepted, stored, rejected };
}

const hasSideEffects = (p: Parsed): boolean =>
  p.customer !== undefined || p.order !== undefined || p.type === 'alias' || (p.type === 'identify' && !!p.anonymousId);

async function applySideEffects(trx: Kysely<Database>, ctx: IngestContext, msgs: Parsed[]): Promise<void> {
  // identify: later messages in the batch win, field by field.
  const patches = new Map<string, repo.CustomerPatch>();
  for (const p of msgs) {
    if (!p.customer) continue;
    const prev = patches.get(p.customer.id);
    if (!prev) {
      patches.set(p.customer.id, p.customer);
      continue;
    }
    const next = { ...prev };
    for (const [k, v] of Object.entries(p.customer) as [keyof repo.CustomerPatch, unknown][]) {
      if (k === 'attributes') next.attributes = { ...prev.attributes, ...p.customer.attributes };
      else if (v !== null) (next as Record<string, unknown>)[k] = v;
    }
    patches.set(p.customer.id, next);
  }
  const identified = await repo.upsertCustomers(trx, ctx.workspaceId, ctx.now, [...patches.values()]);

  // (Stub customers for the other ids were created with the events.)

  // identify / alias with an anonymous id: the visitor's earlier events are the customer's.
  const links = new Map<string, string>();
  for (const p of msgs) {
    if (p.type === 'identify' && p.customerId && p.anonymousId) links.set(p.anonymousId, p.customerId);
    if (p.type === 'alias' && p.customerId && p.previousId) links.set(p.previousId, p.customerId);
  }
  if (links.size) {
    await repo.linkAnonymousEvents(trx, ctx.workspaceId, [...links].map(([anonymous_id, customer_id]) => ({ anonymous_id, customer_id })));
  }

  const orders = msgs.filter((p) => p.order).map((p) => p.order!);
  if (orders.length) {
    await storeEventOrders(trx, ctx, orders);
    await refreshCustomerStats(trx, ctx.workspaceId, orders.map((o) => o.customerId));
  }

  if (patches.size) {
    const list = [...patches.keys()];
    await recordAudit(trx, {
      workspaceId: ctx.workspaceId,
      actor: ctx.actor,
      action: 'identify',
      entity: 'customer',
      entityId: list.length === 1 ? list[0]! : null,
      after: { customers: list.slice(0, 50), more: Math.max(0, list.length - 50), ...identified },
      at: ctx.now,
    });
  }
}

const orderRow = (o: OrderFromEvent): repo.OrderRow => ({
  id: o.id,
  customer_id: o.customerId,
  ordered_at: o.orderedAt.toISOString(),
  amount: o.amount,
  discount: o.discount,
  coupon_code: o.couponCode,
  status: o.status,
  store: null,
  channel: o.channel,
  attributes: o.attributes,
});
const lineRows = (o: OrderFromEvent): repo.LineRow[] =>
  (o.lines ?? []).map((l, i) => ({ order_id: o.id, line_no: i + 1, product_id: l.productId, category: l.category, quantity: l.quantity, price: l.price }));

async function storeEventOrders(trx: Kysely<Database>, ctx: IngestContext, orders: OrderFromEvent[]): Promise<void> {
  // One row per order id, the last event winning (ON CONFLICT may touch a row once per statement).
  const completed = new Map<string, OrderFromEvent>();
  const refunded = new Map<string, OrderFromEvent>();
  for (const o of orders) (o.status === 'refunded' ? refunded : completed).set(o.id, o);
  for (const id of refunded.keys()) completed.delete(id);

  await repo.upsertOrders(trx, ctx.workspaceId, ctx.now, [...completed.values()].map(orderRow));
  const withLines = [...completed.values()].filter((o) => o.lines);
  const newRefunds = await repo.refundOrders(trx, ctx.workspaceId, ctx.now, [...refunded.values()].map(orderRow));
  const refundLines = [...refunded.values()].filter((o) => o.lines && newRefunds.has(o.id));
  const all = [...withLines, ...refundLines];
  await repo.replaceOrderLines(trx, ctx.workspaceId, all.map((o) => o.id), all.flatMap(lineRows));

  const products = new Map<string, repo.ProductRow>();
  for (const o of orders) {
    for (const l of o.lines ?? []) {
      if (l.productId) products.set(l.productId, { id: l.productId, name: l.name, category: l.category, price: l.price || null });
    }
  }
  await repo.upsertProducts(trx, ctx.workspaceId, ctx.now, [...products.values()]);
}

// ---- native REST ----------------------------------------------------------

async function stubsFor(trx: Kysely<Database>, ctx: IngestContext, ids: (string | null | undefined)[]): Promise<number> {
  return repo.insertStubCustomers(trx, ctx.workspaceId, [...new Set(ids.filter((x): x is string => !!x))]);
}

function lastById<T extends { id: string }>(rows: T[]): T[] {
  return [...new Map(rows.map((r) => [r.id, r])).values()];
}

async function audit(trx: Kysely<Database>, ctx: IngestContext, entity: string, ids: string[], counts: object): Promise<void> {
  await recordAudit(trx, {
    workspaceId: ctx.workspaceId,
    actor: ctx.actor,
    action: 'upsert',
    entity,
    entityId: ids.length === 1 ? ids[0]! : null,
    after: { ids: ids.slice(0, 50), more: Math.max(0, ids.length - 50), ...counts },
    at: ctx.now,
  });
}

export async function upsertOrders(db: Kysely<Database>, ctx: IngestContext, input: OrderInput[]): Promise<UpsertResult> {
  const orders = lastById(input);
  return db.transaction().execute(async (trx) => {
    const stubs = await stubsFor(trx, ctx, orders.map((o) => o.customer_id));
    const r = await repo.upsertOrders(
      trx,
      ctx.workspaceId,
      ctx.now,
      orders.map((o) => ({
        id: o.id,
        customer_id: o.customer_id,
        ordered_at: new Date(o.ordered_at).toISOString(),
        amount: o.amount,
        discount: o.discount ?? 0,
        coupon_code: o.coupon_code ?? null,
        status: o.status ?? 'paid',
        store: o.store ?? null,
        channel: o.channel ?? null,
        attributes: o.attributes ?? {},
      })),
    );
    const withLines = orders.filter((o) => o.lines);
    await repo.replaceOrderLines(
      trx,
      ctx.workspaceId,
      withLines.map((o) => o.id),
      withLines.flatMap((o) =>
        (o.lines ?? []).map((l, i) => ({
          order_id: o.id,
          line_no: i + 1,
          product_id: l.product_id ?? null,
          category: l.category ?? null,
          quantity: l.quantity ?? 1,
          price: l.price,
        })),
      ),
    );
    await audit(trx, ctx, 'order', orders.map((o) => o.id), { ...r, stub_customers: stubs });
    // The customer list sorts on the buyers' order figures (customers.stats_*): keep them current.
    await refreshCustomerStats(trx, ctx.workspaceId, orders.map((o) => o.customer_id));
    return { success: true as const, ...r, stub_customers: stubs };
  });
}

export async function upsertTickets(db: Kysely<Database>, ctx: IngestContext, input: TicketInput[]): Promise<UpsertResult> {
  const tickets = lastById(input);
  const t = (v: string | null | undefined) => (v ? new Date(v).toISOString() : null);
  return db.transaction().execute(async (trx) => {
    const stubs = await stubsFor(trx, ctx, tickets.map((x) => x.customer_id));
    const r = await repo.upsertTickets(
      trx,
      ctx.workspaceId,
      ctx.now,
      tickets.map((x) => ({
        id: x.id,
        customer_id: x.customer_id ?? null,
        kind: x.kind ?? 'complaint',
        category: x.category ?? null,
        priority: x.priority ?? 'general',
        status: x.status ?? 'open',
        channel: x.channel ?? null,
        subject: x.subject ?? null,
        body: x.body ?? null,
        owner: x.owner ?? null,
        created_at: t(x.created_at)!,
        first_response_at: t(x.first_response_at),
        resolved_at: t(x.resolved_at),
        due_at: t(x.due_at),
        csat: x.csat ?? null,
        attributes: x.attributes ?? {},
      })),
    );
    await audit(trx, ctx, 'ticket', tickets.map((x) => x.id), { ...r, stub_customers: stubs });
    return { success: true as const, ...r, stub_customers: stubs };
  });
}

/** A survey response's id when the sender gives none: the same response sent twice is one. */
export function surveyId(s: SurveyInput): string {
  const key = JSON.stringify([s.customer_id ?? null, s.survey ?? 'nps', new Date(s.responded_at).toISOString()]);
  return `s_${createHash('sha256').update(key).digest('base64url').slice(0, 24)}`;
}

export async function upsertSurveys(db: Kysely<Database>, ctx: IngestContext, input: SurveyInput[]): Promise<UpsertResult> {
  const rows = lastById(input.map((s) => ({ ...s, id: s.id ?? surveyId(s) })));
  return db.transaction().execute(async (trx) => {
    const stubs = await stubsFor(trx, ctx, rows.map((x) => x.customer_id));
    const r = await repo.upsertSurveys(
      trx,
      ctx.workspaceId,
      ctx.now,
      rows.map((s) => ({
        id: s.id,
        customer_id: s.customer_id ?? null,
        survey: s.survey ?? 'nps',
        responded_at: new Date(s.responded_at).toISOString(),
        nps: s.nps ?? null,
        csat: s.csat ?? null,
        churn_reason: s.churn_reason ?? null,
        text: s.text ?? null,
        attributes: s.attributes ?? {},
      })),
    );
    await audit(trx, ctx, 'survey_response', rows.map((x) => x.id), { ...r, stub_customers: stubs });
    return { success: true as const, ...r, stub_customers: stubs };
  });
}

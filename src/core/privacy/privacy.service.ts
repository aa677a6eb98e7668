// Data-subject requests: everything held on one person as JSON, and erasure.
// Erasure blanks personal fields but keeps ids, amounts and dates, so every
// aggregate (revenue, cohorts, retention) stays the same after it.
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { recordAudit } from '../audit/audit.service.ts';

/** Attribute keys treated as personal data in customers.attributes, orders.attributes and event properties. */
export const PERSONAL_KEYS = [
  'name', 'real_name', 'nickname', 'phone', 'mobile', 'tel', 'email', 'birthday', 'birth_date',
  'address', 'addr', 'street', 'shipping_address', 'billing_address', 'postcode', 'zip', 'zipcode',
  'wechat', 'wechat_id', 'openid', 'unionid', 'qq', 'weibo', 'id_card', 'id_number', 'passport',
  'ip', 'device_id', 'idfa', 'imei', 'lat', 'lng', 'latitude', 'longitude', 'location',
] as const;

export class PrivacyError extends Error {}

async function mustExist(db: Kysely<Database>, workspaceId: number, id: string) {
  const c = await db.selectFrom('customers').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
  if (!c) throw new PrivacyError(`no customer with id ${id}`);
  return c;
}

/** Everything held on one customer. The export itself is audited. */
export async function exportCustomerData(db: Kysely<Database>, workspaceId: number, id: string, ctx: { actor: string; now: Date }) {
  return db.transaction().execute(async (trx) => {
    const { workspace_id: _ws, ...profile } = await mustExist(trx, workspaceId, id);
    const orders = await sql<Record<string, unknown>>`
      select o.id, o.ordered_at, o.amount, o.discount, o.coupon_code, o.status, o.store, o.channel, o.attributes,
             coalesce((select jsonb_agg(jsonb_build_object('line_no', l.line_no, 'product_id', l.product_id, 'category', l.category,
                         'quantity', l.quantity, 'price', l.price) order by l.line_no)
                       from order_lines l where l.workspace_id = o.workspace_id and l.order_id = o.id), '[]'::jsonb) as lines
      from orders o where o.workspace_id = ${workspaceId} and o.customer_id = ${id} order by o.ordered_at`.execute(trx);
    const ws = (t: 'events' | 'tickets' | 'survey_responses' | 'coupons') =>
      trx.selectFrom(t).selectAll().where('workspace_id', '=', workspaceId).where('customer_id', '=', id);
    const [events, tickets, surveys, coupons] = await Promise.all([
      ws('events').orderBy('occurred_at').execute(),
      ws('tickets').orderBy('created_at').execute(),
      ws('survey_responses').orderBy('responded_at').execute(),
      ws('coupons').orderBy('issued_at').execute(),
    ]);
    const referrals = await trx
      .selectFrom('referrals')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where((eb) => eb.or([eb('referrer_id', '=', id), eb('referee_id', '=', id)]))
      .orderBy('referred_at')
      .execute();
    const audit = await trx
      .selectFrom('audit_log')
      .select(['id', 'at', 'actor', 'action', 'entity', 'entity_id', 'before', 'after'])
      .where('workspace_id', '=', workspaceId)
      .where('entity', '=', 'customer')
      .where('entity_id', '=', id)
      .orderBy('id')
      .execute();
    await recordAudit(trx, { workspaceId, actor: ctx.actor, action: 'export', entity: 'customer', entityId: id, at: ctx.now });
    const strip = <T extends { workspace_id?: number }>(rows: T[]) => rows.map(({ workspace_id: _w, ...r }) => r);
    return {
      exported_at: ctx.now.toISOString(),
      customer: profile,
      orders: orders.rows,
      events: strip(events),
      tickets: strip(tickets),
      surveys: strip(surveys),
      referrals: strip(referrals),
      coupons: strip(coupons),
      audit,
    };
  });
}


export interface EraseResult {
  customer_id: string;
  erased_at: string;
  tickets: number;
  surveys: number;
  orders: number;
  events: number;
}

/**
 * Blanks the customer's name, phone, email, birthday, personal attribute keys,
 * ticket subjects and bodies, survey free text and personal keys in order
 * attributes and event properties; sets erased_at. Ids, amounts, dates,
 * statuses and scores stay. Audited without the erased values.
 */
export async function eraseCustomer(db: Kysely<Database>, workspaceId: number, id: string, ctx: { actor: string; now: Date }): Promise<EraseResult> {
  const keys = sql`${[...PERSONAL_KEYS]}::text[]`;
  return db.transaction().execute(async (trx) => {
    await mustExist(trx, workspaceId, id);
    await sql`
      update customers set name = null, phone = null, email = null, birthday = null,
        attributes = attributes - ${keys}, erased_at = ${ctx.now}, updated_at = ${ctx.now}
      where workspace_id = ${workspaceId} and id = ${id}`.execute(trx);
    const t = await sql`update tickets set subject = null, body = null, attributes = attributes - ${keys}, updated_at = ${ctx.now}
      where workspace_id = ${workspaceId} and customer_id = ${id}`.execute(trx);
    const s = await sql`update survey_responses set text = null, attributes = attributes - ${keys}, updated_at = ${ctx.now}
      where workspace_id = ${workspaceId} and customer_id = ${id}`.execute(trx);
    const o = await sql`update orders set attributes = attributes - ${keys}, updated_at = ${ctx.now}
      where workspace_id = ${workspaceId} and customer_id = ${id} and attributes ?| ${keys}`.execute(trx);
    const e = await sql`update events set properties = properties - ${keys}
      where workspace_id = ${workspaceId} and customer_id = ${id} and properties ?| ${keys}`.execute(trx);
    const result: EraseResult = {
      customer_id: id,
      erased_at: ctx.now.toISOString(),
      tickets: Number(t.numAffectedRows ?? 0),
      surveys: Number(s.numAffectedRows ?? 0),
      orders: Number(o.numAffectedRows ?? 0),
      events: Number(e.numAffectedRows ?? 0),
    };
    await recordAudit(trx, { workspaceId, actor: ctx.actor, action: 'erase', entity: 'customer', entityId: id, after: result, at: ctx.now });
    return result;
  });
}

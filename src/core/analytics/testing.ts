// Builders for analytics tests: customers and their orders/events, inserted directly.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';

export const DAY = 86_400_000;

export function daysBefore(now: Date, d: number): Date {
  return new Date(now.getTime() - d * DAY);
}

export async function addCustomer(db: Kysely<Database>, id: string, extra: Partial<{ registered_at: Date }> = {}): Promise<void> {
  await db
    .insertInto('customers')
    .values({ workspace_id: 1, id, name: id, consent: '{}', attributes: '{}', registered_at: extra.registered_at ?? null } as never)
    .execute();
}

let orderSeq = 0;
export async function addOrders(
  db: Kysely<Database>,
  customerId: string,
  orders: { at: Date; amount: number; status?: 'paid' | 'refunded' | 'returned'; coupon?: string }[],
): Promise<void> {
  if (orders.length === 0) return;
  await db
    .insertInto('orders')
    .values(
      orders.map((o) => ({
        workspace_id: 1,
        id: `o${++orderSeq}`,
        customer_id: customerId,
        ordered_at: o.at,
        amount: o.amount,
        status: o.status ?? 'paid',
        coupon_code: o.coupon ?? null,
        store: null,
        channel: null,
        attributes: '{}',
      })),
    )
    .execute();
}

let eventSeq = 0;
export async function addEvents(db: Kysely<Database>, customerId: string, events: { at: Date; type: string }[]): Promise<void> {
  if (events.length === 0) return;
  await db
    .insertInto('events')
    .values(
      events.map((e) => ({
        workspace_id: 1,
        message_id: `m${++eventSeq}`,
        customer_id: customerId,
        anonymous_id: null,
        type: e.type,
        occurred_at: e.at,
        properties: '{}',
      })),
    )
    .execute();
}

/** A small deterministic PRNG for test data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Test data for the rule language: customers with known answers for every
// example rule, insertable into any workspace (the isolation tests put the
// same ids with different data into a second one).
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Rule } from './ast.ts';
import { matchingCustomersSql } from './compile.ts';
import { compileContext } from './segments.service.ts';

/** Sunday 15 June 2025, 12:00 UTC (20:00 in Asia/Shanghai). */
export const NOW = new Date('2025-06-15T12:00:00Z');
const DAY = 86_400_000;
export const ago = (d: number, from = NOW) => new Date(from.getTime() - d * DAY);

export async function ensureWorkspace(db: Kysely<Database>, id: number): Promise<void> {
  await db
    .insertInto('workspaces')
    .values({ id, slug: `w${id}`, name: `workspace ${id}`, settings: '{}' })
    .onConflict((oc) => oc.doNothing())
    .execute();
}

let seq = 0;

export class Seeder {
  readonly db: Kysely<Database>;
  readonly ws: number;
  constructor(db: Kysely<Database>, ws: number) {
    this.db = db;
    this.ws = ws;
  }

  async customer(id: string, extra: { birthday?: string; attributes?: Record<string, unknown>; consent?: Record<string, unknown>; city?: string } = {}) {
    await this.db
      .insertInto('customers')
      .values({
        workspace_id: this.ws,
        id,
        name: `name ${id}`,
        birthday: extra.birthday ?? null,
        city: extra.city ?? null,
        consent: JSON.stringify(extra.consent ?? {}),
        attributes: JSON.stringify(extra.attributes ?? {}),
      } as never)
      .execute();
  }

  async metrics(id: string, m: Partial<Database['customer_metrics'] extends infer T ? { [K in keyof T]: unknown } : never>) {
    await this.db
      .insertInto('customer_metrics')
      .values({ workspace_id: this.ws, customer_id: id, as_of: NOW, ...m } as never)
      .execute();
  }

  async order(customer: string, at: Date, amount: number, opts: { status?: string; coupon?: string; products?: string[]; category?: string } = {}) {
    const id = `o${this.ws}_${++seq}`;
    await this.db
      .insertInto('orders')
      .values({
        workspace_id: this.ws,
        id,
        customer_id: customer,
        ordered_at: at,
        amount,
        status: (opts.status ?? 'paid') as 'paid',
        coupon_code: opts.coupon ?? null,
        store: null,
        channel: null,
        attributes: '{}',
      })
      .execute();
    const products = opts.products ?? [];
    if (products.length) {
      await this.db
        .insertInto('order_lines')
        .values(products.map((p, i) => ({ workspace_id: this.ws, order_id: id, line_no: i + 1, product_id: p, category: opts.category ?? null, price: amount })))
        .execute();
    }
  }

  async events(customer: string, type: string, ats: Date[], properties: Record<string, unknown> = {}) {
    if (ats.length === 0) return;
    await this.db
      .insertInto('events')
      .values(
        ats.map((at) => ({
          workspace_id: this.ws,
          message_id: `m${this.ws}_${++seq}`,
          customer_id: customer,
          anonymous_id: null,
          type,
          occurred_at: at,
          properties: JSON.stringify(properties),
        })),
      )
      .execute();
  }

  async ticket(customer: string, at: Date, kind: string, category: string | null) {
    await this.db
      .insertInto('tickets')
      .values({ workspace_id: this.ws, id: `t${this.ws}_${++seq}`, customer_id: customer, kind: kind as 'complaint', category, created_at: at, attributes: '{}' } as never)
      .execute();
  }
}

const days = (...ds: number[]) => ds.map((d) => ago(d));

/**
 * The example customers. Prefixes group them by rule: v = viewed without
 * ordering, s = coupon share, m = monthly spend, t = tier and stage,
 * b = birthday, k = complaints, a = course completion attribute,
 * e = course completion events.
 */
export async function seedExamples(db: Kysely<Database>, ws: number): Promise<void> {
  const s = new Seeder(db, ws);
  const ids = ['v1', 'v2', 'v3', 'v4', 'v5', 'v6', 's1', 's2', 's3', 'm1', 'm2', 'm3', 'm4', 't1', 't2', 't3', 't4', 'k1', 'k2', 'k3', 'k4', 'e1', 'e2', 'e3'];
  for (const id of ids) await s.customer(id);
  const view = (c: string, p: string, ds: number[]) => s.events(c, 'product_view', days(...ds), { product_id: p });
  // v: product views in the last 7 days
  await view('v1', 'p1', [1, 2, 3, 6]);
  await view('v2', 'p1', [1, 2, 3, 6]);
  await s.order('v2', ago(0.5), 99, { products: ['p1'] });
  await view('v3', 'p1', [1, 2]);
  await view('v3', 'p2', [1, 2]);
  await view('v4', 'p1', [1, 2, 3, 8]);
  await view('v5', 'p1', [1, 2, 3, 4]);
  await s.order('v5', ago(1), 50, { products: ['p2'] });
  await view('v6', 'p1', [1, 2, 3, 4]);
  await s.order('v6', ago(1), 50, { products: ['p1'], status: 'refunded' });
  // s: coupon share from the figures
  await s.metrics('s1', { orders_window: 4, coupon_orders_window: 3, tier: 'B', lifecycle_stage: 'mature' });
  await s.metrics('s2', { orders_window: 4, coupon_orders_window: 2, tier: 'B', lifecycle_stage: 'mature' });
  await s.metrics('s3', { orders_window: 0, coupon_orders_window: 0, lifecycle_stage: 'prospect' });
  // m: spend this month (the workspace's zone is Asia/Shanghai: June starts 2025-05-31T16:00Z)
  await s.order('m1', new Date('2025-06-03T10:00:00Z'), 7000);
  await s.order('m1', new Date('2025-06-12T10:00:00Z'), 5000);
  await s.order('m2', new Date('2025-06-10T10:00:00Z'), 9000);
  await s.order('m2', new Date('2025-05-20T10:00:00Z'), 5000);
  await s.order('m3', new Date('2025-06-10T10:00:00Z'), 11000, { status: 'refunded' });
  await s.order('m4', new Date('2025-05-31T17:00:00Z'), 10500);
  // t: tier and stage
  await s.metrics('t1', { tier: 'D', lifecycle_stage: 'at_risk' });
  await s.metrics('t2', { tier: 'D', lifecycle_stage: 'churned' });
  await s.metrics('t3', { tier: 'C', lifecycle_stage: 'dormant' });
  await s.metrics('t4', { tier: 'D', lifecycle_stage: 'dormant' });
  // b: birthdays (today is 15 June in Shanghai)
  await s.customer('b1', { birthday: '1990-06-20' });
  await s.customer('b2', { birthday: '1990-06-14' });
  await s.customer('b3', { birthday: '1990-06-22' });
  await s.customer('b4', { birthday: '1990-06-23' });
  await s.customer('b5', { birthday: '2000-02-29' });
  await s.customer('b6', { birthday: '1985-06-15' });
  // k: complaints
  await s.ticket('k1', ago(10), 'complaint', '物流');
  await s.ticket('k2', ago(40), 'complaint', 'logistics');
  await s.ticket('k3', ago(5), 'inquiry', 'logistics');
  await s.ticket('k4', ago(3), 'complaint', 'product');
  // a: course completion as an attribute (numbers, numeric text, junk)
  await s.customer('a1', { attributes: { course_completion: 45, vip: true } });
  await s.customer('a2', { attributes: { course_completion: '55' } });
  await s.customer('a3', { attributes: { course_completion: 80, vip: 'no' } });
  await s.customer('a4', { attributes: { course_completion: 'n/a', vip: 'yes' } });
  await s.customer('a5', { attributes: { course_completion: { nested: 1 } } });
  // e: course completion as an event ratio
  await s.events('e1', 'course_lesson_started', days(1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
  await s.events('e1', 'course_lesson_completed', days(1, 2, 3, 4, 5));
  await s.events('e2', 'course_lesson_started', days(1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
  await s.events('e2', 'course_lesson_completed', days(1, 2, 3, 4, 5, 6, 7, 8));
}

/** The ids a validated rule matches in the workspace, sorted. */
export async function matchIds(db: Kysely<Database>, ws: number, rule: Rule, now = NOW): Promise<string[]> {
  const ctx = await compileContext(db, ws, now);
  const r = await matchingCustomersSql(rule, ctx).execute(db);
  return r.rows.map((x) => x.id).sort();
}

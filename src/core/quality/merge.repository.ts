// SQL for merging customers. Every function takes the merge's transaction.
import type { Kysely, Selectable, Updateable } from 'kysely';
import type { CustomersTable, Database } from '../../db/schema.ts';

type Db = Kysely<Database>;
export type CustomerRow = Selectable<CustomersTable>;

/** The customers named, locked for the rest of the transaction (in id order, so two merges cannot deadlock). */
export function lockCustomers(db: Db, workspaceId: number, ids: string[]): Promise<CustomerRow[]> {
  return db
    .selectFrom('customers')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('id', 'in', ids)
    .orderBy('id')
    .forUpdate()
    .execute();
}

export function updateCustomer(db: Db, workspaceId: number, id: string, patch: Updateable<CustomersTable>) {
  return db.updateTable('customers').set(patch).where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
}

const n = (r: { numUpdatedRows: bigint } | undefined) => Number(r?.numUpdatedRows ?? 0);

export interface Moved {
  orders: number;
  events: number;
  tickets: number;
  surveyResponses: number;
  referralsMade: number;
  referralsReceived: number;
  coupons: number;
  /** Customers earlier merged into a source, now pointing at the target directly. */
  earlierMerges: number;
}

/** Re-points every row that names a source customer to the target. */
export async function moveRows(db: Db, workspaceId: number, into: string, from: string[], now: Date): Promise<Moved> {
  const ws = workspaceId;
  const orders = await db
    .updateTable('orders')
    .set({ customer_id: into, updated_at: now })
    .where('workspace_id', '=', ws)
    .where('customer_id', 'in', from)
    .executeTakeFirst();
  const events = await db.updateTable('events').set({ customer_id: into }).where('workspace_id', '=', ws).where('customer_id', 'in', from).executeTakeFirst();
  const tickets = await db
    .updateTable('tickets')
    .set({ customer_id: into, updated_at: now })
    .where('workspace_id', '=', ws)
    .where('customer_id', 'in', from)
    .executeTakeFirst();
  const surveys = await db
    .updateTable('survey_responses')
    .set({ customer_id: into, updated_at: now })
    .where('workspace_id', '=', ws)
    .where('customer_id', 'in', from)
    .executeTakeFirst();
  const made = await db.updateTable('referrals').set({ referrer_id: into }).where('workspace_id', '=', ws).where('referrer_id', 'in', from).executeTakeFirst();
  const received = await db.updateTable('referrals').set({ referee_id: into }).where('workspace_id', '=', ws).where('referee_id', 'in', from).executeTakeFirst();
  const coupons = await db.updateTable('coupons').set({ customer_id: into }).where('workspace_id', '=', ws).where('customer_id', 'in', from).executeTakeFirst();
  const earlier = await db
    .updateTable('customers')
    .set({ merged_into: into, updated_at: now })
    .where('workspace_id', '=', ws)
    .where('merged_into', 'in', from)
    .executeTakeFirst();
  return {
    orders: n(orders),
    events: n(events),
    tickets: n(tickets),
    surveyResponses: n(surveys),
    referralsMade: n(made),
    referralsReceived: n(received),
    coupons: n(coupons),
    earlierMerges: n(earlier),
  };
}

export function markMerged(db: Db, workspaceId: number, from: string[], into: string, now: Date) {
  return db
    .updateTable('customers')
    .set({ merged_into: into, updated_at: now })
    .where('workspace_id', '=', workspaceId)
    .where('id', 'in', from)
    .execute();
}

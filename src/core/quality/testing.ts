// Small builders for data-quality and merge tests: each test gets a workspace
// of its own, a clean baseline, and adds exactly the defect it is about.
import type { Insertable, Kysely } from 'kysely';
import type { CustomersTable, Database, OrdersTable } from '../../db/schema.ts';

type Db = Kysely<Database>;

export const NOW = new Date('2025-06-01T12:00:00Z');
const DAY = 86_400_000;
export const daysAgo = (n: number) => new Date(NOW.getTime() - n * DAY);

let nextWorkspace = 100;
/** A new, empty workspace so tests on one store do not see each other's rows. */
export async function newWorkspace(db: Db): Promise<number> {
  const id = nextWorkspace++;
  await db.insertInto('workspaces').values({ id, slug: `t${id}`, name: `test ${id}`, settings: '{}' }).execute();
  return id;
}

type CustomerInput = Partial<Omit<Insertable<CustomersTable>, 'consent' | 'attributes'>> & {
  id: string;
  consent?: Record<string, Record<string, boolean>>;
  attributes?: Record<string, unknown>;
};

let nextPhone = 1;
/** A customer with every measured field filled (a phone and email of its own) unless overridden. */
export function fullCustomer(id: string, over: Partial<CustomerInput> = {}): CustomerInput {
  const n = nextPhone++;
  return {
    id,
    name: `Customer ${id}`,
    phone: `139${String(n).padStart(8, '0')}`,
    email: `${id}@example.com`,
    gender: n % 2 ? 'female' : 'male',
    birthday: '1990-05-17',
    region: 'Zhejiang',
    city: 'Hangzhou',
    registered_at: daysAgo(400 + (n % 100)),
    acquisition_channel: 'store',
    membership_level: 'silver',
    owner: 'staff-1',
    consent: { sms: { marketing: true } },
    attributes: {},
    ...over,
  };
}

export async function addCustomers(db: Db, workspaceId: number, rows: CustomerInput[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('customers')
    .values(
      rows.map(({ consent, attributes, ...r }) => ({
        ...r,
        workspace_id: workspaceId,
        consent: JSON.stringify(consent ?? {}),
        attributes: JSON.stringify(attributes ?? {}),
      })),
    )
    .execute();
}

type OrderInput = Partial<Omit<Insertable<OrdersTable>, 'attributes'>> & { id: string; customer_id: string };

export async function addOrders(db: Db, workspaceId: number, rows: OrderInput[], withLines = true): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('orders')
    .values(rows.map((r) => ({ ordered_at: daysAgo(10), amount: 100, ...r, workspace_id: workspaceId, attributes: '{}' })))
    .execute();
  if (withLines) {
    await addLines(
      db,
      workspaceId,
      rows.map((r) => ({ order_id: r.id, line_no: 1, price: Number(r.amount ?? 100) + Number(r.discount ?? 0) })),
    );
  }
}

export async function addLines(
  db: Db,
  workspaceId: number,
  rows: { order_id: string; line_no: number; price: number; quantity?: number; product_id?: string }[],
): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('order_lines')
    .values(rows.map((r) => ({ ...r, workspace_id: workspaceId })))
    .execute();
}

/**
 * A clean workspace: ten complete customers, each with two paid orders of
 * ordinary, similar amounts whose lines add up, an event, a ticket and a
 * survey response in the past.
 */
export async function cleanWorkspace(db: Db): Promise<number> {
  const ws = await newWorkspace(db);
  const ids = Array.from({ length: 10 }, (_, i) => `c${i + 1}`);
  await addCustomers(db, ws, ids.map((id) => fullCustomer(id)));
  await addOrders(
    db,
    ws,
    ids.flatMap((id, i) => [
      { id: `o${i}a`, customer_id: id, amount: 100 + i, ordered_at: daysAgo(30 + i) },
      { id: `o${i}b`, customer_id: id, amount: 110 + i, ordered_at: daysAgo(5 + i), discount: 5 },
    ]),
  );
  await db
    .insertInto('events')
    .values(ids.map((id, i) => ({ workspace_id: ws, message_id: `m${i}`, customer_id: id, type: 'login', occurred_at: daysAgo(i + 1), properties: '{}' })))
    .execute();
  await db
    .insertInto('tickets')
    .values([{ workspace_id: ws, id: 't1', customer_id: 'c1', created_at: daysAgo(3), attributes: '{}' }])
    .execute();
  await db
    .insertInto('survey_responses')
    .values([{ workspace_id: ws, id: 's1', customer_id: 'c2', responded_at: daysAgo(2), nps: 9, attributes: '{}' }])
    .execute();
  return ws;
}

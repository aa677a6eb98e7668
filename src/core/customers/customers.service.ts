// The customer list, profile (Customer 360) and timeline, masked by role.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Role } from '../../server/auth.ts';
import { maskRecord } from '../privacy/mask.ts';
import * as repo from './customers.repository.ts';

export { refreshCustomerStats } from './customers.stats.ts';
export type { CustomerFilter, CustomerSort, TimelineType } from './customers.repository.ts';
export { COUNT_CAP, SORTS, TIMELINE_TYPES, SEARCH_CAP } from './customers.repository.ts';

export interface CustomerPage {
  total: number;
  /** false when more than COUNT_CAP customers match: total is then the planner's estimate. */
  total_exact: boolean;
  page: number;
  page_size: number;
  items: repo.CustomerListRow[];
}

export async function listCustomers(
  db: Kysely<Database>,
  workspaceId: number,
  role: Role,
  f: repo.CustomerFilter,
  opts: { sort: repo.CustomerSort; order: 'asc' | 'desc'; page: number; pageSize: number; now: Date },
): Promise<CustomerPage> {
  const { rows, counted } = await repo.listPage(db, workspaceId, f, {
    sort: opts.sort,
    order: opts.order,
    limit: opts.pageSize,
    offset: (opts.page - 1) * opts.pageSize,
  });
  const n = await repo.totalOf(db, workspaceId, f, counted, opts.now);
  return {
    total: n.total,
    total_exact: n.exact,
    page: opts.page,
    page_size: opts.pageSize,
    items: rows.map((r) => maskRecord({ ...r, orders: Number(r.orders), spend: Number(r.spend) }, role)),
  };
}

export async function* exportCustomers(db: Kysely<Database>, workspaceId: number, role: Role, f: repo.CustomerFilter): AsyncGenerator<repo.CustomerListRow> {
  for await (const r of repo.streamCustomers(db, workspaceId, f)) yield maskRecord(r, role);
}

export async function getCustomer(db: Kysely<Database>, workspaceId: number, role: Role, id: string, now: Date) {
  // Profile and figures in one query: one round trip, one plan.
  const found = await repo.findCustomerWithFigures(db, workspaceId, id, now);
  if (!found) return null;
  const { customer: c, figures } = found;
  const { workspace_id: _ws, ...customer } = c;
  return { customer: maskRecord(customer, role), figures };
}

export function encodeCursor(c: repo.TimelineCursor): string {
  return Buffer.from(JSON.stringify([c.at, c.type, c.id])).toString('base64url');
}

export function decodeCursor(s: string): repo.TimelineCursor | null {
  try {
    const [at, type, id] = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as unknown[];
    if (typeof at !== 'string' || typeof type !== 'string' || typeof id !== 'string' || Number.isNaN(Date.parse(at))) return null;
    return { at, type, id };
  } catch {
    return null;
  }
}

export async function customerTimeline(
  db: Kysely<Database>,
  workspaceId: number,
  customerId: string,
  types: readonly repo.TimelineType[],
  before: repo.TimelineCursor | null,
  limit: number,
) {
  const rows = await repo.timeline(db, workspaceId, customerId, types, before, limit + 1);
  if (rows === null) return null;
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map((r) => ({ type: r.type, at: r.at, id: r.id, title: r.title, detail: r.detail })),
    next_cursor: rows.length > limit && last ? encodeCursor({ at: last.at_key, type: last.type, id: last.id }) : null,
  };
}

export async function customerExists(db: Kysely<Database>, workspaceId: number, id: string): Promise<boolean> {
  return Boolean(await db.selectFrom('customers').select('id').where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst());
}

// Merging duplicate customers into one (SPEC §1 "duplicate detection and merge").
// One merge is one transaction: the sources' history moves to the target, the
// target's empty fields are filled from the sources, and the sources stay as
// rows marked merged_into = target, with an audit entry holding every
// customer's state before and after. The rules are in docs/data-quality.md.
import type { Kysely, Updateable } from 'kysely';
import type { Consent, CustomersTable, Database } from '../../db/schema.ts';
import { recordAudit } from '../audit/audit.service.ts';
import * as repo from './merge.repository.ts';
import { type DuplicateKey, duplicateGroups } from './quality.repository.ts';

export type MergeErrorCode = 'invalid' | 'self' | 'unknown' | 'merged' | 'erased';

/** A merge the caller asked for that cannot be done; the message says why and what to do. */
export class MergeError extends Error {
  readonly code: MergeErrorCode;
  constructor(code: MergeErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = 'MergeError';
  }
}

export interface MergeInput {
  workspaceId: number;
  into: string;
  from: string[];
  /** For the audit log: "cli", "key:…", "user:…". */
  actor: string;
  now: Date;
  /** Do everything, report it, then roll back. */
  dryRun?: boolean;
}

export type CustomerSnapshot = repo.CustomerRow;

export interface MergeResult {
  into: string;
  from: string[];
  dryRun: boolean;
  moved: repo.Moved;
  /** Target fields that were empty and are now filled from a source. */
  filled: string[];
  before: CustomerSnapshot[];
  after: CustomerSnapshot[];
}

/** Fields copied into the target when the target's is empty (never overwritten). */
export const FILL_FIELDS = [
  'name',
  'phone',
  'email',
  'gender',
  'birthday',
  'region',
  'city',
  'time_zone',
  'registered_at',
  'acquisition_channel',
  'membership_level',
  'membership_expires_at',
  'owner',
  'preferred_channel',
] as const satisfies readonly (keyof CustomersTable)[];

const isEmpty = (v: unknown) => v === null || v === undefined || (typeof v === 'string' && v.trim() === '');

/**
 * Consent across the merged records of one person: for each channel and
 * purpose, a withdrawal (false) anywhere wins over a grant (true) anywhere.
 * Withdrawal is the person's latest stated wish in almost every real case
 * (a grant is given once at sign-up; a withdrawal is an act taken later), and
 * the law (PIPL art. 15, GDPR art. 7(3)) requires honouring it. Wrongly
 * withholding a message can be repaired by asking again; a message sent after
 * a withdrawal cannot be unsent.
 */
export function mergeConsent(records: Consent[]): Consent {
  const out: Consent = {};
  for (const c of records) {
    for (const [channel, purposes] of Object.entries(c ?? {})) {
      if (!purposes || typeof purposes !== 'object') continue;
      out[channel] ??= {};
      const o = out[channel];
      for (const [purpose, granted] of Object.entries(purposes)) {
        if (typeof granted !== 'boolean') continue;
        o[purpose] = purpose in o ? o[purpose]! && granted : granted;
      }
    }
  }
  return out;
}

/** Attributes: the target's keys win, then the first source's, and so on. */
export function mergeAttributes(target: Record<string, unknown>, sources: Record<string, unknown>[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of [...sources].reverse()) Object.assign(out, s ?? {});
  return Object.assign(out, target ?? {});
}

class DryRunRollback extends Error {
  readonly result: MergeResult;
  constructor(result: MergeResult) {
    super('dry run');
    this.result = result;
  }
}

/** Merges `from` into `into` in one transaction (rolled back for a dry run). */
export async function mergeCustomers(db: Kysely<Database>, input: MergeInput): Promise<MergeResult> {
  const from = [...new Set(input.from.map((s) => s.trim()).filter(Boolean))];
  const into = input.into.trim();
  if (!into) throw new MergeError('invalid', 'name the customer to merge into');
  if (from.length === 0) throw new MergeError('invalid', 'name at least one customer to merge from');
  if (from.includes(into)) throw new MergeError('self', `cannot merge customer ${into} into itself`);
  try {
    return await db.transaction().execute(async (trx) => {
      const result = await mergeIn(trx, { ...input, into, from });
      if (input.dryRun) throw new DryRunRollback(result);
      return result;
    });
  } catch (e) {
    if (e instanceof DryRunRollback) return e.result;
    throw e;
  }
}

async function mergeIn(trx: Kysely<Database>, input: MergeInput): Promise<MergeResult> {
  const { workspaceId: ws, into, from, now } = input;
  const rows = await repo.lockCustomers(trx, ws, [into, ...from]);
  const byId = new Map(rows.map((r) => [r.id, r]));
  const target = byId.get(into);
  if (!target) throw new MergeError('unknown', `there is no customer ${into} to merge into`);
  if (target.merged_into) {
    throw new MergeError('merged', `customer ${into} was itself merged into ${target.merged_into}: merge into ${target.merged_into} instead`);
  }
  if (target.erased_at) throw new MergeError('erased', `customer ${into} was erased and cannot receive a merge`);
  const missing = from.filter((id) => !byId.has(id));
  if (missing.length) throw new MergeError('unknown', `there is no customer ${missing.join(', ')} to merge from`);
  const sources = from.map((id) => byId.get(id)!);
  for (const s of sources) {
    if (s.merged_into) throw new MergeError('merged', `customer ${s.id} was already merged into ${s.merged_into}`);
    if (s.erased_at) throw new MergeError('erased', `customer ${s.id} was erased; an erased customer's data is not merged`);
  }

  const patch: Updateable<CustomersTable> = { updated_at: now };
  const filled: string[] = [];
  for (const f of FILL_FIELDS) {
    if (!isEmpty(target[f])) continue;
    const donor = sources.find((s) => !isEmpty(s[f]));
    if (!donor) continue;
    (patch as Record<string, unknown>)[f] = donor[f];
    filled.push(f);
  }
  // The target's own consent is one record among the others.
  patch.consent = JSON.stringify(mergeConsent([target.consent, ...sources.map((s) => s.consent)]));
  patch.attributes = JSON.stringify(mergeAttributes(target.attributes, sources.map((s) => s.attributes)));
  // A stub merged with a customer we know is no longer a stub.
  patch.is_stub = target.is_stub && sources.every((s) => s.is_stub);

  await repo.updateCustomer(trx, ws, into, patch);
  const moved = await repo.moveRows(trx, ws, into, from, now);
  await repo.markMerged(trx, ws, from, into, now);

  const after = await repo.lockCustomers(trx, ws, [into, ...from]);
  const before = [target, ...sources];
  const ordered = (list: repo.CustomerRow[]) => [into, ...from].map((id) => list.find((r) => r.id === id)!);
  const result: MergeResult = { into, from, dryRun: Boolean(input.dryRun), moved, filled, before, after: ordered(after) };
  if (!input.dryRun) {
    await recordAudit(trx, {
      workspaceId: ws,
      actor: input.actor,
      action: 'merge',
      entity: 'customer',
      entityId: into,
      before: { customers: result.before },
      after: { customers: result.after, moved, filled },
      at: now,
    });
  }
  return result;
}

export interface MergeAllResult {
  by: DuplicateKey;
  dryRun: boolean;
  groups: number;
  merged: number;
  merges: { key: string; into: string; from: string[]; moved: repo.Moved }[];
}

/**
 * Merges every duplicate group by phone or email: each group into its first
 * member (a real customer before a stub, then the earliest registered, then
 * the earliest created, then the smallest id). Each group is its own
 * transaction, so a failure stops the run with the earlier groups merged.
 */
export async function mergeAllBy(
  db: Kysely<Database>,
  opts: { workspaceId: number; by: DuplicateKey; actor: string; now: Date; dryRun?: boolean; onProgress?: (done: number, total: number) => void },
): Promise<MergeAllResult> {
  const groups = await duplicateGroups(db, opts.workspaceId, opts.by, null);
  const out: MergeAllResult = { by: opts.by, dryRun: Boolean(opts.dryRun), groups: groups.length, merged: 0, merges: [] };
  let done = 0;
  for (const g of groups) {
    const [first, ...rest] = g.customers;
    if (!first || rest.length === 0) continue;
    const r = await mergeCustomers(db, {
      workspaceId: opts.workspaceId,
      into: first.id,
      from: rest.map((c) => c.id),
      actor: opts.actor,
      now: opts.now,
      dryRun: opts.dryRun,
    });
    out.merged += r.from.length;
    out.merges.push({ key: g.key, into: r.into, from: r.from, moved: r.moved });
    opts.onProgress?.(++done, groups.length);
  }
  return out;
}

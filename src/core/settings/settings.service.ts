// Workspace settings: name, time zone (IANA), currency, locale. Audited.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { recordAudit } from '../audit/audit.service.ts';

export interface WorkspaceSettings {
  id: number;
  name: string;
  time_zone: string;
  currency: string;
  locale: string;
  industry: string;
}

export class SettingsError extends Error {
  readonly field: string;
  constructor(message: string, field: string) {
    super(message);
    this.field = field;
  }
}

export function isIanaTimeZone(tz: string): boolean {
  if (!tz.includes('/') && tz !== 'UTC') return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export async function getWorkspace(db: Kysely<Database>, workspaceId: number): Promise<WorkspaceSettings> {
  return db
    .selectFrom('workspaces')
    .select(['id', 'name', 'time_zone', 'currency', 'locale', 'industry'])
    .where('id', '=', workspaceId)
    .executeTakeFirstOrThrow();
}

export async function updateWorkspace(
  db: Kysely<Database>,
  workspaceId: number,
  input: { name: string; time_zone: string; currency: string; locale: 'zh-CN' | 'en' },
  ctx: { actor: string; now: Date },
): Promise<WorkspaceSettings> {
  const name = input.name.trim();
  if (!name) throw new SettingsError('the workspace name must not be empty', 'name');
  if (!isIanaTimeZone(input.time_zone)) throw new SettingsError(`"${input.time_zone}" is not an IANA time zone such as Asia/Shanghai`, 'time_zone');
  if (!/^[A-Z]{3}$/.test(input.currency)) throw new SettingsError(`"${input.currency}" is not an ISO 4217 currency code such as CNY`, 'currency');
  return db.transaction().execute(async (trx) => {
    const before = await getWorkspace(trx, workspaceId);
    await trx
      .updateTable('workspaces')
      .set({ name, time_zone: input.time_zone, currency: input.currency, locale: input.locale })
      .where('id', '=', workspaceId)
      .execute();
    const after = { ...before, name, time_zone: input.time_zone, currency: input.currency, locale: input.locale };
    await recordAudit(trx, { workspaceId, actor: ctx.actor, action: 'update', entity: 'settings', entityId: 'workspace', before, after, at: ctx.now });
    return after;
  });
}

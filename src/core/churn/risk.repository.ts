// The Risk list and one customer's risk, read from churn_scores: SQL only.
// CLV at stake joins customer_clv when that table exists.
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';

export const RISK_SORTS = ['probability', 'scorecard', 'clv', 'id'] as const;
export type RiskSort = (typeof RISK_SORTS)[number];

export interface RiskFilter {
  tier?: 'high' | 'medium' | 'low';
  owner?: string;
  minProbability?: number;
}

export interface RiskRow {
  customer_id: string;
  name: string | null;
  phone: string | null;
  email: string | null;
  owner: string | null;
  probability: number | null;
  risk_tier: 'high' | 'medium' | 'low';
  drivers: unknown;
  scorecard_points: number;
  scorecard_level: 'high' | 'medium' | 'low';
  clv_12m: number | null;
  scored_at: Date;
}

export async function hasClvTable(db: Kysely<Database>): Promise<boolean> {
  const r = await sql<{ t: string | null }>`select to_regclass('customer_clv')::text as t`.execute(db);
  return r.rows[0]?.t != null;
}

const ORDER: Record<RiskSort, string> = {
  probability: 's.probability desc nulls last, s.scorecard_points desc, s.customer_id',
  scorecard: 's.scorecard_points desc, s.probability desc nulls last, s.customer_id',
  clv: 'clv_12m desc nulls last, s.probability desc nulls last, s.customer_id',
  id: 's.customer_id',
};

export async function riskPage(
  db: Kysely<Database>,
  workspaceId: number,
  f: RiskFilter,
  sort: RiskSort,
  limit: number,
  offset: number,
  withClv: boolean,
): Promise<{ total: number; rows: RiskRow[] }> {
  const where = sql.join(
    [
      sql`s.workspace_id = ${workspaceId}`,
      ...(f.tier ? [sql`s.risk_tier = ${f.tier}`] : []),
      ...(f.owner ? [sql`c.owner = ${f.owner}`] : []),
      ...(f.minProbability !== undefined ? [sql`s.probability >= ${f.minProbability}`] : []),
    ],
    sql` and `,
  );
  const clv = withClv ? sql`(select v.clv_12m from customer_clv v where v.workspace_id = s.workspace_id and v.customer_id = s.customer_id)` : sql`null::float8`;
  const rows = await sql<RiskRow>`
    select s.customer_id, c.name, c.phone, c.email, c.owner, s.probability, s.risk_tier, s.drivers, s.scorecard_points, s.scorecard_level,
      ${clv} as clv_12m, s.scored_at
    from churn_scores s join customers c on c.workspace_id = s.workspace_id and c.id = s.customer_id
    where ${where}
    order by ${sql.raw(ORDER[sort])}
    limit ${limit} offset ${offset}`.execute(db);
  const total = await sql<{ n: number }>`
    select count(*)::int as n from churn_scores s join customers c on c.workspace_id = s.workspace_id and c.id = s.customer_id where ${where}`.execute(db);
  return { total: Number(total.rows[0]?.n ?? 0), rows: rows.rows.map((r) => ({ ...r, clv_12m: r.clv_12m === null ? null : Number(r.clv_12m) })) };
}

export function customerScore(db: Kysely<Database>, workspaceId: number, customerId: string) {
  return db.selectFrom('churn_scores').selectAll().where('workspace_id', '=', workspaceId).where('customer_id', '=', customerId).executeTakeFirst();
}

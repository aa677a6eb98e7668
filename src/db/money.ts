// Sums of money columns (numeric(14,2): amounts, discounts) in aggregates over
// many rows. PostgreSQL sums numeric through a variable-length state allocated
// per group; a bigint of cents sums in a 128-bit integer instead (on builds that
// have one; otherwise in numeric again, as exact, no faster). The column's
// type holds two decimals at most and 14 digits, so ×100 is an exact integer
// far inside bigint, and the result ×0.01 is exactly the numeric sum. At 1M
// customers the figures pass's aggregate over 8.6M orders kept 160 MB of states
// per process with these instead of 270–320 MB, and its final hash table no
// longer spilled to disk; it took 9.2 s against 9.5 s (a narrower aggregate
// alone: 6.4 s against 8.5 s).
import { type RawBuilder, sql } from 'kysely';

/**
 * `sum(col)` (a numeric(14,2) column) as exact cents: the sum of the rows that
 * pass `filter` (a condition, or null for all), numeric, null over no rows.
 */
export function sumMoney(col: RawBuilder<unknown>, filter: RawBuilder<unknown> | null = null): RawBuilder<unknown> {
  return sql`(sum((${col} * 100)::bigint)${filter ? sql` filter (where ${filter})` : sql``} * 0.01)`;
}

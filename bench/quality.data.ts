// Synthetic data for the data-quality bench, generated inside the database
// (INSERT … SELECT generate_series) with a known sprinkling of defects.
import { type Kysely, sql } from 'kysely';
import type { Database } from '../src/db/schema.ts';

const secs = (t0: number) => ((performance.now() - t0) / 1000).toFixed(1);

/** n customers, 10n orders, 20n lines, 30n events, n/2 tickets, 0.3n survey responses in workspace 1. */
export async function loadQualityData(db: Kysely<Database>, n: number, log = true): Promise<void> {
  const step = async (name: string, q: ReturnType<typeof sql>) => {
    const t0 = performance.now();
    await q.execute(db);
    if (log) process.stdout.write(`  load ${name.padEnd(16)} ${secs(t0)} s\n`);
  };
  // Customers: gaps in most fields, 0.5% sharing a phone, 0.33% an email, 2% stubs.
  await step(
    'customers',
    sql`insert into customers (workspace_id, id, name, phone, email, gender, birthday, region, city, registered_at,
          acquisition_channel, membership_level, owner, consent, is_stub)
        select 1, 'c' || g,
          case when g % 7 <> 0 then 'name ' || g end,
          '139' || lpad((case when g % 200 = 0 then g - 1 else g end)::text, 8, '0'),
          case when g % 9 <> 0 then 'u' || (case when g % 300 = 0 then g - 1 else g end) || '@example.com' end,
          (array['female', 'male'])[1 + g % 2],
          case when g % 3 <> 0 then date '1960-01-01' + (g % 15000) end,
          'region ' || (g % 30), 'city ' || (g % 300),
          case when g % 20 <> 0 then timestamptz '2020-01-01' + (g % 1800) * interval '1 day' end,
          'store', 'silver', case when g % 2 = 0 then 'staff-' || (g % 40) end,
          case when g % 4 <> 0 then '{"sms": {"marketing": true}}'::jsonb else '{}'::jsonb end,
          g % 50 = 0
        from generate_series(1, ${n}) g`,
  );
  // Orders: skewed amounts, 5% refunded, one outlier per 100k, a few in the future and before 2000.
  await step(
    'orders',
    sql`insert into orders (workspace_id, id, customer_id, ordered_at, amount, discount, status)
        select 1, 'o' || g, 'c' || (1 + (g::bigint * 7919) % ${n}),
          case when g % 500000 = 1 then timestamptz '2025-09-01'
               when g % 500000 = 2 then timestamptz '1970-01-01'
               else timestamptz '2023-01-01' + (g % 800000) * interval '1 minute' end,
          case when g % 100000 = 0 then 99999 else round((20 + 300 * power((g * 0.6180339887) % 1, 3))::numeric, 2) end,
          0,
          case when g % 20 = 0 then 'refunded' else 'paid' end
        from generate_series(1, ${n * 10}) g`,
  );
  // Two lines per order adding up to the amount; one order in 10k off by 10; orphan lines for 1 in 1M.
  await step(
    'order_lines',
    sql`insert into order_lines (workspace_id, order_id, line_no, price)
        select o.workspace_id, o.id, l,
          case when l = 1 then round(o.amount * 0.6, 2)
               else o.amount - round(o.amount * 0.6, 2) + case when hashtext(o.id) % 10000 = 0 then 10 else 0 end end
        from orders o cross join generate_series(1, 2) l where o.workspace_id = 1`,
  );
  await step(
    'orphan lines',
    sql`insert into order_lines (workspace_id, order_id, line_no, price)
        select 1, 'ghost' || g, 1, 10 from generate_series(1, greatest(1, ${n} / 1000000 * 10)) g`,
  );
  await step(
    'events',
    sql`insert into events (workspace_id, message_id, customer_id, type, occurred_at)
        select 1, 'e' || g, 'c' || (1 + (g::bigint * 104729) % ${n}),
          (array['login', 'page_view', 'product_view', 'add_to_cart', 'search'])[1 + g % 5],
          timestamptz '2024-01-01' + (g % 40000000) * interval '1 second'
        from generate_series(1, ${n * 30}) g`,
  );
  await step(
    'tickets',
    sql`insert into tickets (workspace_id, id, customer_id, created_at)
        select 1, 't' || g, 'c' || (1 + (g * 31) % ${n}), timestamptz '2024-01-01' + g * interval '1 minute'
        from generate_series(1, ${n / 2}) g`,
  );
  await step(
    'surveys',
    sql`insert into survey_responses (workspace_id, id, customer_id, responded_at, nps)
        select 1, 's' || g, 'c' || (1 + (g * 37) % ${n}), timestamptz '2024-01-01' + g * interval '1 minute', g % 11
        from generate_series(1, ${Math.round(n * 0.3)}) g`,
  );
  const t0 = performance.now();
  await sql`analyze`.execute(db);
  if (log) process.stdout.write(`  analyze              ${secs(t0)} s\n`);
}

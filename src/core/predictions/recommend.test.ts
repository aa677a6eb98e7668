import assert from 'node:assert/strict';
import { it } from 'node:test';
import { sql } from 'kysely';
import { createDemoBusiness } from '../demo/demo.service.ts';
import { runPipeline } from '../pipeline/pipeline.ts';
import { forEachStore } from '../../db/testing.ts';
import { topAffinities } from './affinities.ts';
import { utcDay } from './clv.repository.ts';
import { computeNextProducts, customerNextProducts, nextProductsStep } from './recommend.ts';
import { DEFAULT_PREDICTIONS } from './settings.ts';

const NOW = new Date('2025-06-30T12:00:00Z');

forEachStore('next-best products: retail demo', (get) => {
  it('finds the consumables, says who is due, and the serum → cream sequence at about 60 days', async () => {
    const store = get();
    await createDemoBusiness(store, { customers: 800, seed: 5, industry: 'retail', now: NOW, actor: 'test' });
    const r = await computeNextProducts(store, 1, NOW);
    assert.ok(r.recommendations > 0 && r.sequences > 0 && r.coPurchases > 0, JSON.stringify(r));
    // the generator's consumables (re-bought every 14–45 days) are the repurchase products
    const rep = await store.db.selectFrom('product_repurchase').selectAll().execute();
    const consumables = new Set(['P003', 'P004', 'P005', 'P012', 'P020', 'P022', 'P023', 'P040']);
    const found = rep.filter((p) => consumables.has(p.product_id));
    // most consumables, and few others (a cheap basket filler can be re-bought often too)
    assert.ok(found.length >= 6 && rep.length - found.length <= 2, JSON.stringify(rep.map((p) => p.product_id)));
    for (const p of found) assert.ok(p.median_interval_days >= 14 && p.median_interval_days <= 60, `${p.product_id}: ${p.median_interval_days}`);
    // a customer is due when the days since their last purchase reach 0.9 × the median interval
    const due = await sql<{ customer_id: string; product_id: string; since: number; median: number }>`
      select n.customer_id, n.product_id, ${utcDay(NOW)}::int - max(floor(extract(epoch from o.ordered_at) / 86400))::int as since, r.median_interval_days as median
      from customer_next_products n
      join product_repurchase r on r.workspace_id = n.workspace_id and r.product_id = n.product_id
      join orders o on o.workspace_id = n.workspace_id and o.customer_id = n.customer_id and o.status = 'paid'
      join order_lines l on l.workspace_id = o.workspace_id and l.order_id = o.id and l.product_id = n.product_id
      where n.reason = 'due' group by 1, 2, 4`.execute(store.db);
    assert.ok(due.rows.length > 20, `only ${due.rows.length} due`);
    for (const d of due.rows) assert.ok(d.since >= 0.9 * d.median && d.since <= 3 * d.median, JSON.stringify(d));
    // due picks come first
    const ranks = await store.db.selectFrom('customer_next_products').select(['customer_id', 'rank', 'reason']).orderBy('customer_id').orderBy('rank').execute();
    const order = { due: 1, next: 2, co_purchase: 3 };
    for (let i = 1; i < ranks.length; i++) {
      const a = ranks[i - 1]!;
      const b = ranks[i]!;
      if (a.customer_id === b.customer_id) assert.ok(order[a.reason] <= order[b.reason] && a.rank < b.rank);
      assert.ok(b.rank <= DEFAULT_PREDICTIONS.nextProducts.perCustomer);
    }
    // the planted face serum → face cream sequence (60 days later)
    const seq = await topAffinities(store.db, 1, { limit: 5, kind: 'sequence' });
    const serum = seq.find((a) => a.from_product === 'P010' && a.to_product === 'P011');
    assert.ok(serum, JSON.stringify(seq.map((a) => `${a.from_product}→${a.to_product}`)));
    assert.ok(serum.median_lag_days! >= 40 && serum.median_lag_days! <= 80, String(serum.median_lag_days));
    assert.ok(serum.lift > 2);
  });

  it('never suggests, as a sequence or co-purchase pick, what the customer bought in the last 30 days', async () => {
    const { db } = get();
    const bad = await sql<{ n: number }>`
      select count(*)::int as n from customer_next_products n
      where n.reason in ('co_purchase') and exists (
        select 1 from orders o join order_lines l on l.workspace_id = o.workspace_id and l.order_id = o.id
        where o.workspace_id = n.workspace_id and o.customer_id = n.customer_id and o.status = 'paid'
          and l.product_id = n.product_id and o.ordered_at > ${new Date(NOW.getTime() - 30 * 86_400_000)})`.execute(db);
    assert.equal(bad.rows[0]!.n, 0);
    const neverBought = await sql<{ n: number }>`
      select count(*)::int as n from customer_next_products n
      where n.reason = 'next' and exists (
        select 1 from orders o join order_lines l on l.workspace_id = o.workspace_id and l.order_id = o.id
        where o.workspace_id = n.workspace_id and o.customer_id = n.customer_id and o.status = 'paid' and l.product_id = n.product_id)`.execute(db);
    assert.equal(neverBought.rows[0]!.n, 0);
    const some = await db.selectFrom('customer_next_products').select('customer_id').limit(1).executeTakeFirstOrThrow();
    const recs = await customerNextProducts(db, 1, some.customer_id);
    assert.ok(recs.length >= 1 && recs[0]!.rank === 1 && recs[0]!.name);
  });
});

forEachStore('next-best products: education demo', (get) => {
  it('finds the planted course sequences (the next course about 90 days later)', async () => {
    const store = get();
    await createDemoBusiness(store, { customers: 1500, seed: 3, industry: 'education', now: NOW, actor: 'test' });
    const run = await runPipeline(store, { workspaceId: 1, now: NOW, steps: [nextProductsStep], mode: 'full' });
    assert.equal(run.status, 'done', run.error);
    const seq = await topAffinities(store.db, 1, { limit: 6, kind: 'sequence' });
    for (const [a, b] of [['E001', 'E002'], ['E010', 'E011']]) {
      const hit = seq.find((x) => x.from_product === a && x.to_product === b);
      assert.ok(hit, `${a}→${b} not among ${seq.map((x) => `${x.from_product}→${x.to_product}`)}`);
      // the generator adds the follow-up at the first order from 75 days on: the lag lands a little after 90
      assert.ok(hit.median_lag_days! >= 75 && hit.median_lag_days! <= 135, `${a}→${b}: ${hit.median_lag_days}`);
    }
  });
});

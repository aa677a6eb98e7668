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

  it('gives the patterns their definitions, computed straight from the orders, also with a product twice in an order and twice on a day', async () => {
    const store = get();
    const { db } = store;
    // A customer's second order of a consumable on the same day, with two lines of it: one
    // purchase day (no interval of 0 days) and one co-purchase per order.
    const { product_id: x } = await db.selectFrom('product_repurchase').select('product_id').where('workspace_id', '=', 1).orderBy('buyers', 'desc').executeTakeFirstOrThrow();
    const other = x === 'P004' ? 'P005' : 'P004';
    const c = await sql<{ customer_id: string; ordered_at: Date }>`
      select o.customer_id, o.ordered_at from orders o join order_lines l on l.workspace_id = o.workspace_id and l.order_id = o.id
      where o.workspace_id = 1 and o.status = 'paid' and l.product_id = ${x} and o.ordered_at < ${NOW}
      order by o.id limit 1`.execute(db);
    const { customer_id, ordered_at } = c.rows[0]!;
    await sql`insert into orders (workspace_id, id, customer_id, ordered_at, amount) values (1, 'T-DUP', ${customer_id}, ${new Date(ordered_at.getTime() + 60_000)}, 300)`.execute(db);
    await sql`insert into order_lines (workspace_id, order_id, line_no, product_id, price) values (1, 'T-DUP', 1, ${x}, 100), (1, 'T-DUP', 2, ${x}, 100), (1, 'T-DUP', 3, ${other}, 22)`.execute(db);
    const settings = { ...DEFAULT_PREDICTIONS, nextProducts: { ...DEFAULT_PREDICTIONS.nextProducts, minCustomers: 2, minRepeatBuyers: 2 } };
    await computeNextProducts(store, 1, NOW, settings);
    // The definitions (docs/next-best-product.md), in plain TypeScript over the paid order lines.
    const rows = (
      await sql<{ customer_id: string; order_id: string; product_id: string; day: number }>`
        select o.customer_id, o.id as order_id, l.product_id, floor(extract(epoch from o.ordered_at) / 86400)::int as day
        from orders o join order_lines l on l.workspace_id = o.workspace_id and l.order_id = o.id
        join customers c on c.workspace_id = o.workspace_id and c.id = o.customer_id and c.merged_into is null
        where o.workspace_id = 1 and o.status = 'paid' and o.ordered_at <= ${NOW} and l.product_id is not null`.execute(db)
    ).rows;
    const median = (xs: number[]) => {
      const v = [...xs].sort((x, y) => x - y);
      const m = (v.length - 1) / 2;
      return (v[Math.floor(m)]! + v[Math.ceil(m)]!) / 2;
    };
    type Pattern = { n: number; median: number | null; confidence: number };
    const stored = async (kind: string) =>
      new Map(
        (
          await sql<Pattern & { a: string; b: string }>`select from_product as a, to_product as b, customers as n, median_lag_days as median, confidence
            from product_affinities where workspace_id = 1 and kind = ${kind}`.execute(db)
        ).rows.map((r) => [`${r.a}>${r.b}`, { n: r.n, median: r.median, confidence: r.confidence }]),
      );
    const same = (what: string, got: Map<string, Pattern>, want: Map<string, Pattern>) => {
      assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort(), what);
      for (const [k, w] of want) {
        const g = got.get(k)!;
        assert.deepEqual([g.n, g.median], [w.n, w.median], `${what} ${k}`);
        assert.ok(Math.abs(g.confidence - w.confidence) < 1e-12, `${what} ${k} confidence ${g.confidence} against ${w.confidence}`);
      }
    };
    // sequences: first purchase days per customer and product
    const firsts = new Map<string, Map<string, number>>();
    for (const r of rows) {
      const f = firsts.get(r.customer_id) ?? new Map<string, number>();
      f.set(r.product_id, Math.min(f.get(r.product_id) ?? Infinity, r.day));
      firsts.set(r.customer_id, f);
    }
    const buyers = new Map<string, number>();
    const lags = new Map<string, number[]>();
    for (const f of firsts.values()) {
      for (const [a, da] of f) {
        buyers.set(a, (buyers.get(a) ?? 0) + 1);
        for (const [b, db_] of f) if (db_ > da && db_ <= da + 365) lags.set(`${a}>${b}`, [...(lags.get(`${a}>${b}`) ?? []), db_ - da]);
      }
    }
    const seq = new Map<string, Pattern>();
    for (const [k, v] of lags) if (v.length >= 2) seq.set(k, { n: v.length, median: median(v), confidence: v.length / buyers.get(k.split('>')[0]!)! });
    same('sequences', await stored('sequence'), seq);
    // co-purchases: products per order, each once
    const perOrder = [...Map.groupBy(rows, (r) => r.order_id).values()].map((ls) => new Set(ls.map((l) => l.product_id)));
    const withP = new Map<string, number>();
    const pairs = new Map<string, number>();
    for (const ps of perOrder) {
      for (const a of ps) {
        withP.set(a, (withP.get(a) ?? 0) + 1);
        for (const b of ps) if (a !== b) pairs.set(`${a}>${b}`, (pairs.get(`${a}>${b}`) ?? 0) + 1);
      }
    }
    const co = new Map<string, Pattern>();
    for (const [k, n] of pairs) if (n >= 2) co.set(k, { n, median: null, confidence: n / withP.get(k.split('>')[0]!)! });
    same('co-purchases', await stored('co_purchase'), co);
    // repurchase: intervals between a customer's distinct purchase days of a product
    const want: { product_id: string; median: number; buyers: number; intervals: number }[] = [];
    for (const [product_id, ls] of [...Map.groupBy(rows, (r) => r.product_id)].sort(([x], [y]) => (x < y ? -1 : 1))) {
      const byCustomer = [...Map.groupBy(ls, (l) => l.customer_id).values()].map((cs) => [...new Set(cs.map((c) => c.day))].sort((x, y) => x - y));
      const gaps = byCustomer.flatMap((days) => days.slice(1).map((d, i) => d - days[i]!));
      const repeaters = byCustomer.filter((days) => days.length > 1).length;
      if (repeaters >= 2 && repeaters >= 0.5 * byCustomer.length) want.push({ product_id, median: median(gaps), buyers: repeaters, intervals: gaps.length });
    }
    const got = await db.selectFrom('product_repurchase').select(['product_id', 'median_interval_days as median', 'buyers', 'intervals']).where('workspace_id', '=', 1).orderBy(sql`product_id collate "C"`).execute();
    assert.deepEqual(got, want);
    assert.ok(want.some((r) => r.product_id === x));
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

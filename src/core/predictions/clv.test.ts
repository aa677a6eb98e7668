import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bgnbdConditionalExpected } from '../clv/bgnbd.ts';
import { addCustomer, addOrders, daysBefore } from '../analytics/testing.ts';
import { createDemoBusiness } from '../demo/demo.service.ts';
import { runPipeline } from '../pipeline/pipeline.ts';
import { forEachStore } from '../../db/testing.ts';
import { clvOverview, customerClv, latestFit, loadSummary, utcDay } from './clv.repository.ts';
import { computeClv, clvStep, storeBacktest } from './clv.step.ts';
import { expectedPurchases } from './expected.ts';

const NOW = new Date('2025-06-30T12:00:00Z');
const P = { r: 0.8769, alpha: 18.05, a: 1.0695, b: 14.19 };

describe('expected purchases (BG/NBD)', () => {
  it('equals src/core/clv where its 2F1 is reliable (z ≤ 0.5)', () => {
    for (const [t, x, tx, T] of [[30, 0, 0, 100], [90, 3, 80, 200], [60, 10, 300, 700], [10, 1, 5, 20]]) {
      const m = { model: 'bgnbd' as const, params: P };
      const ours = expectedPurchases(m, t!, x!, tx!, T!);
      const lib = bgnbdConditionalExpected(P, t!, x!, tx!, T!);
      assert.ok(Math.abs(ours - lib) <= 1e-9 * Math.max(1, lib), `${[t, x, tx, T]}: ${ours} vs ${lib}`);
    }
    // the published CDNOW figure: E[X(39) | 2, 30.43, 38.86] = 1.226
    const cd = { model: 'bgnbd' as const, params: { r: 0.2426, alpha: 4.4136, a: 0.7929, b: 2.4259 } };
    assert.ok(Math.abs(expectedPurchases(cd, 39, 2, 30.43, 38.86) - 1.226) < 0.0005);
  });

  it('stays finite, non-negative and growing for frequent buyers a year ahead', () => {
    const m = { model: 'bgnbd' as const, params: P };
    for (const x of [5, 21, 60, 200]) {
      let prev = 0;
      for (const t of [30, 90, 180, 365, 730]) {
        const v = expectedPurchases(m, t, x, 217, 221);
        assert.ok(Number.isFinite(v) && v >= prev, `x=${x} t=${t}: ${v}`);
        prev = v;
      }
      // an active customer buying every ~10 days keeps roughly that pace
      if (x === 21) assert.ok(prev > 30 && prev < 100, String(prev));
    }
  });
});

forEachStore('store CLV', (get) => {
  it('summarises paid orders by UTC day as of now: repeat days, recency, age, repeat-day spend', async () => {
    const { db } = get();
    await addCustomer(db, 'S1');
    await addOrders(db, 'S1', [
      { at: daysBefore(NOW, 100), amount: 50 },
      { at: new Date(daysBefore(NOW, 100).getTime() + 3600_000), amount: 10 }, // same day: one purchase
      { at: daysBefore(NOW, 40), amount: 30 },
      { at: daysBefore(NOW, 10), amount: 70 },
      { at: daysBefore(NOW, 5), amount: 999, status: 'refunded' },
      { at: new Date(NOW.getTime() + 3600_000), amount: 500 }, // after now
    ]);
    // S2 first bought after now's day; S3 and S4 carry the demo generator's truth; S5 has none
    for (const id of ['S2', 'S3', 'S4', 'S5']) await addCustomer(db, id);
    await addOrders(db, 'S2', [{ at: new Date(NOW.getTime() + 86_400_000), amount: 5 }]);
    await addOrders(db, 'S3', [{ at: daysBefore(NOW, 30), amount: 20 }, { at: daysBefore(NOW, 3), amount: 25 }]);
    await addOrders(db, 'S4', [{ at: daysBefore(NOW, 60), amount: 8 }]);
    await addOrders(db, 'S5', [{ at: daysBefore(NOW, 2), amount: 9 }]);
    const truth = (id: string, dropped: Date | null) => ({
      workspace_id: 1, customer_id: id, purchase_rate: 0.1, dropout_probability: 0.2, dropped_out_at: dropped, mean_spend: 10,
    });
    await db.insertInto('demo_truth').values([truth('S3', null), truth('S4', daysBefore(NOW, 20))]).execute();
    const opts = { calibrationEndDay: utcDay(NOW), upTo: NOW };
    const s = await loadSummary(db, 1, opts);
    assert.deepEqual(s.ids, ['S1', 'S3', 'S4', 'S5']);
    const at = (id: string) => {
      const i = s.ids.indexOf(id);
      return { x: s.frequency[i], tx: s.recency[i], t: s.T[i], m: s.monetary[i], total: s.totalSpend[i], dropped: s.droppedAt[i] };
    };
    assert.deepEqual(at('S1'), { x: 2, tx: 90, t: 100, m: 50, total: 160, dropped: Number.NaN });
    assert.deepEqual(at('S3'), { x: 1, tx: 27, t: 30, m: 25, total: 45, dropped: Number.POSITIVE_INFINITY });
    assert.deepEqual(at('S4'), { x: 0, tx: 0, t: 60, m: 0, total: 8, dropped: daysBefore(NOW, 20).getTime() });
    assert.equal(s.holdout, undefined);
    // read a row per fetch, the summary is the same; with a holdout of the last 40 days, S1's purchase 10 days ago falls in it
    assert.deepEqual(await loadSummary(db, 1, { ...opts, batch: 1 }), s);
    const h = await loadSummary(db, 1, { calibrationEndDay: utcDay(NOW) - 40, holdoutEndDay: utcDay(NOW), upTo: NOW });
    assert.deepEqual(h.ids, ['S1', 'S4']);
    assert.deepEqual({ x: h.frequency[0], hx: h.holdout?.frequency[0], hm: h.holdout?.monetary[0], duration: h.holdout?.duration }, { x: 1, hx: 1, hm: 70, duration: 40 });
    await db.deleteFrom('demo_truth').execute();
    await db.deleteFrom('orders').execute();
    await db.deleteFrom('customers').execute();
  });

  it('fits a demo business, stores every buyer with sane figures, and backtests the last 26 weeks', async () => {
    const store = get();
    await createDemoBusiness(store, { customers: 600, seed: 11, industry: 'retail', now: NOW, actor: 'test' });
    const r = await computeClv(store, 1, NOW);
    assert.ok(r.fitId !== null && r.customers > 400, JSON.stringify(r));
    const rows = await store.db.selectFrom('customer_clv').selectAll().execute();
    assert.equal(rows.length, r.customers);
    for (const v of rows) {
      assert.ok(v.p_alive >= 0 && v.p_alive <= 1, `${v.customer_id} p_alive ${v.p_alive}`);
      assert.ok(v.exp_purchases_90d >= 0 && v.exp_purchases_365d >= v.exp_purchases_90d, `${v.customer_id} expected ${v.exp_purchases_90d} ${v.exp_purchases_365d}`);
      assert.ok(Number.isFinite(v.clv_12m) && v.clv_12m >= 0 && v.exp_avg_spend > 0, `${v.customer_id} clv ${v.clv_12m}`);
    }
    const fit = await latestFit(store.db, 1);
    const bt = fit!.backtest as { groups: unknown[]; totals: { errorPercent: number }; truth: { rocAuc: number }; truthNow: { rocAuc: number } };
    assert.equal(bt.groups.length, 8);
    assert.ok(Math.abs(bt.totals.errorPercent) < 30, `holdout purchases off by ${bt.totals.errorPercent}%`);
    // P(alive) separates customers the generator kept alive from those who dropped out
    assert.ok(bt.truth.rocAuc > 0.65 && bt.truthNow.rocAuc > 0.65, JSON.stringify({ cal: bt.truth, now: bt.truthNow }));
    const one = await customerClv(store.db, 1, rows[0]!.customer_id);
    assert.equal(one?.customer_id, rows[0]!.customer_id);
    const o = await clvOverview(store.db, 1);
    assert.equal(o.customers, rows.length);
    assert.equal(o.p_alive_histogram.reduce((s, b) => s + b.customers, 0), rows.length);
    assert.equal(o.clv_histogram.reduce((s, b) => s + b.customers, 0), rows.length);
    assert.ok(o.top.length === 10 && o.top[0]!.clv_12m >= o.top[9]!.clv_12m);
  });

  it('backtests any calibration end, and Pareto/NBD when asked', async () => {
    const store = get();
    const b = await storeBacktest(store, 1, { calibrationEnd: new Date('2024-12-31'), holdoutEnd: new Date('2025-06-30'), model: 'pareto-nbd' });
    assert.ok(b);
    assert.equal(b.calibrationEnd, '2024-12-31');
    assert.equal(b.duration, 181);
    assert.ok(b.totals.actual > 0 && b.totals.predicted > 0);
    await assert.rejects(storeBacktest(store, 1, { calibrationEnd: NOW, holdoutEnd: NOW, model: 'bgnbd' }), /after the calibration end/);
  });

  it('runs as the clv pipeline step', async () => {
    const store = get();
    const run = await runPipeline(store, { workspaceId: 1, now: NOW, steps: [clvStep], mode: 'full' });
    assert.equal(run.status, 'done', run.error);
    assert.ok((run.steps[0]!.result as { customers: number }).customers > 400);
  });
});
